"""The HTML report: one self-contained page per run, readable offline, printed, and without JS.

Everything that came from a host or a playbook goes through jinja2's autoescaping; the page
loads nothing from anywhere (no CDN, fonts or images) and its Content-Security-Policy allows
inline styles and exactly one inline script, named by its SHA-256 hash. The script only hides
and sorts what is already on the page.

The page answers first and details after: servers (not findings) needing action, compliant and
not audited; servers per article; changes since the previous run and a trend when the caller
has the history; a server overview; then per host what to do next (each reason it was not
audited once, the `remediate plan` command per article) before its findings, the rest folded.
Printed, it keeps that order, flows hosts without a page each and leaves the folded parts out.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from remediate import __version__
from remediate.report.fleet_view import fleet_view, playbook_view
from remediate.report.host_view import (
    WHAT_TO_TRY,
    host_anchor,
    host_views,
    next_step,
    plan_command,
)
from remediate.report.page_text import MAX_TEXT, Text, capped, format_age, iso_text, when_text
from remediate.report.reporter import HostSteps, ReportContext, Reporter, TrendPoint
from remediate.report.status_view import (
    NEEDS_ACTION,
    NOT_AUDITED,
    NOTHING_TO_DO,
    STATUS_MEANING,
    STATUS_ORDER,
    host_standing,
    status_summary,
)
from remediate.report.trend_chart import (
    TREND_RUNS,
    trend_chart,
    trend_point,
    trend_point_from_document,
)
from remediate.rules.findings import NON_COMPLIANT
from remediate.rules.results import AuditRun

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "MAX_TEXT",
    "NEEDS_ACTION",
    "NOTHING_TO_DO",
    "NOT_AUDITED",
    "REPORTER",
    "STATUS_MEANING",
    "STATUS_ORDER",
    "TREND_RUNS",
    "WHAT_TO_TRY",
    "HostSteps",
    "Text",
    "TrendPoint",
    "capped",
    "content_security_policy",
    "format_age",
    "host_anchor",
    "host_standing",
    "next_step",
    "plan_command",
    "render_html",
    "script_hash",
    "trend_point",
    "trend_point_from_document",
    "write_html",
]


@cache
def _environment() -> Environment:
    """Made when a first page is: jinja2 is imported then, so an audit asking for other
    formats never loads it (25 ms of every run's start, issue 18)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("remediate.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _asset(name: str) -> str:
    """A static file of ours (CSS, script) as it is, checked to stay inside its element."""
    environment = _environment()
    assert environment.loader is not None
    text = environment.loader.get_source(environment, name)[0]
    if "</" in text:
        raise ValueError(f"{name} must not contain '</' (it is inlined into the page)")
    return text


def script_hash(script: str) -> str:
    """The CSP source naming an inline script: 'sha256-<base64 of its UTF-8 digest>'."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script: str) -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src {script_hash(script)}; base-uri 'none'; form-action 'none'"
    )


def render_html(
    run: AuditRun,
    *,
    inventory: str,
    generated_by: str,
    now: datetime | None = None,
    trend: Sequence[TrendPoint] = (),
    host_steps: HostSteps | None = None,
) -> str:
    """The whole report as one HTML document (UTF-8 text). `trend`: earlier runs of the same
    scope (from the history, see `trend_point_from_document`); the chart needs two runs.
    `host_steps`: each finding needing action lists its steps for its host."""
    now = now or datetime.now(UTC)
    script = _asset("report.js")
    hosts = host_views(run, inventory, host_steps)
    context = {
        "run_id": run.run_id,
        "started": when_text(run.started),
        "started_iso": iso_text(run.started),
        "finished": when_text(run.finished),
        "since": when_text(run.since),
        "age": format_age(now - run.started),
        "generated": when_text(now),
        "inventory": capped(inventory, 1000),
        "generated_by": capped(generated_by, 500),
        "version": __version__,
        "interrupted": run.interrupted,
        "aborted": capped(run.aborted) if run.aborted else None,
        "playbooks": [playbook_view(p) for p in run.playbooks],
        "needed": sorted({f.playbook for f in run.findings if f.status in NON_COMPLIANT}),
        "summary": status_summary(run),
        "total": len(run.findings),
        "hosts": hosts,
        "fleet": fleet_view(run, hosts),
        "trend": trend_chart(run, trend),
        "steps_per_host": host_steps is not None,
        "exit_code": run.exit_code(),
        "csp": content_security_policy(script),
        # our own constant stylesheet and script (hashed into the CSP), never data
        "style": Markup(_asset("report.css")),  # noqa: S704
        "script": Markup(script),  # noqa: S704
    }
    return _environment().get_template("report.html.j2").render(context)


def write_html(run: AuditRun, path: Path, **kw: Any) -> Path:
    """Render the report (keywords as for `render_html`) and write it to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(run, **kw), encoding="utf-8")
    return path


def _write(run: AuditRun, path: Path, context: ReportContext) -> None:
    write_html(
        run,
        path,
        inventory=context.inventory,
        generated_by=context.generated_by,
        trend=context.trend,
        host_steps=context.host_steps,
    )


REPORTER = Reporter(name="html", extension="html", write=_write)
