"""The HTML report: one self-contained page per run, readable offline, printed, and without JS.

Everything that came from a host or a playbook goes through jinja2's autoescaping; the page
loads nothing from anywhere (no CDN, fonts or images) and its Content-Security-Policy allows
inline styles and exactly one inline script, named by its SHA-256 hash. The script only hides
and sorts what is already on the page.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from remediate import __version__
from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.evidence import EventSample
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, FileVerdict, Finding, Status
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult

MAX_TEXT = 4000
"""Characters shown of one message, data dump or reason; the rest is noted as truncated."""

# Worst first: the order of the summary, the legend and a sorted matrix column.
STATUS_ORDER: tuple[Status, ...] = (
    Status.AFFECTED,
    Status.INVESTIGATE,
    Status.MISSING_FIX,
    Status.NEEDS_REBOOT,
    Status.ERROR,
    Status.UNKNOWN,
    Status.WAIVED,
    Status.COMPLIANT,
    Status.NOT_APPLICABLE,
)
STATUS_MEANING: dict[Status, str] = {
    Status.AFFECTED: "the fix is missing and the symptoms were seen",
    Status.INVESTIGATE: "the fix is in place, yet symptoms were seen after it",
    Status.MISSING_FIX: "a required file or service pack is missing; no symptom seen",
    Status.NEEDS_REBOOT: "the fixed files wait for a restart",
    Status.ERROR: "the host could not be audited",
    Status.UNKNOWN: "evidence needed for the decision could not be obtained",
    Status.WAIVED: "an unexpired waiver covers this host and article",
    Status.COMPLIANT: "the fix is in place and no symptom appeared after it",
    Status.NOT_APPLICABLE: "the article does not concern this host",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Text:
    """Text cut to a length the page can carry; `total` is the length before the cut."""

    text: str
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.text)


def capped(value: object, limit: int = MAX_TEXT) -> Text:
    """Remote or playbook text without control characters, at most `limit` characters."""
    cleaned = _CONTROL.sub("", "" if value is None else str(value))
    return Text(cleaned[:limit], len(cleaned))


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def format_age(age: timedelta) -> str:
    """A duration as a person reads it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def _sp(number: int | None) -> str:
    return "-" if number is None else f"SP{number}" if number else "no service pack"


def _host_facts(result: HostResult) -> list[tuple[str, Text]]:
    rows: list[tuple[str, object]] = [
        ("address", result.address or "-"),
        ("transport", f"{result.transport or '-'} / dialect {result.dialect or '-'}"),
    ]
    evidence = result.evidence
    if evidence is not None:
        os = evidence.os
        rows += [
            ("operating system", f"{os.caption} {_sp(os.service_pack)} ({os.architecture})"),
            ("OS version", f"{os.version} (build {os.build if os.build is not None else '-'})"),
            ("host name", os.hostname),
        ]
        exchange = evidence.exchange
        if exchange is None:
            rows.append(("Exchange", "not installed"))
        else:
            rows.append(("Exchange", exchange.display_with_build))
            if exchange.released:
                rows.append(("Exchange update released", exchange.released))
            if exchange.roles:
                rows.append(("Exchange roles", ", ".join(exchange.roles)))
            rows.append(("Exchange folder", exchange.install_root))
        rows.append(("collector engine", evidence.engine))
        rows.append(("pending reboot", "yes" if evidence.pending_reboot else "no"))
        for renamed in evidence.pending_renames:
            rows.append(("pending rename", renamed))
        for item in evidence.errors:
            rows.append((f"not obtained ({item.scope})", f"{item.item}: {item.message}"))
    rows.append(("audit time", f"{result.elapsed:.1f} s, {result.round_trips} round trip(s)"))
    return [(label, capped(value)) for label, value in rows]


def _file(row: FileVerdict) -> dict[str, Any]:
    return {
        "file": capped(row.file),
        "path": capped(row.path),
        "required": capped(row.required or "present"),
        "found": capped(row.found or "-"),
        "verdict": row.verdict,
        "ok": row.satisfied,
        "modified": _when(row.modified),
        "note": capped(row.note),
    }


def _sample(sample: EventSample) -> dict[str, Any]:
    return {
        "time": _when(sample.time),
        "iso": _iso(sample.time),
        "type": capped(sample.type),
        "source": capped(sample.source),
        "event_id": sample.event_id,
        "record": "-" if sample.record is None else sample.record,
        "message": capped(sample.message),
        "data_hex": capped(sample.data_hex),
    }


def _finding(finding: Finding, anchor: str, playbook: Playbook | None) -> dict[str, Any]:
    return {
        "anchor": anchor,
        "playbook": finding.playbook,
        "title": capped(playbook.title if playbook else finding.playbook, 500),
        "status": finding.status.value,
        "status_class": _status_class(finding.status),
        "reason": capped(finding.reason),
        "drift": finding.drift,
        "since": _when(finding.noncompliant_since) if finding.noncompliant_since else None,
        "facts": [(capped(k, 200), capped(v)) for k, v in finding.facts],
        "files": [_file(row) for row in finding.files],
        "symptoms": [
            {
                "name": capped(s.name, 200),
                "kind": s.kind,
                "matched": s.matched,
                "known": s.known,
                "description": capped(s.description),
                "count": s.count,
                "first": _when(s.first),
                "last": _when(s.last),
                "samples": [_sample(sample) for sample in s.samples],
            }
            for s in finding.symptoms
        ],
        "requirements": [
            {
                "description": capped(r.description),
                "state": "not checked"
                if r.satisfied is None
                else "met"
                if r.satisfied
                else "not met",
            }
            for r in finding.requirements
        ],
        "error_kind": finding.error_kind,
        "hint": capped(finding.hint) if finding.hint else None,
        "waiver": capped(finding.waiver) if finding.waiver else None,
        "waived_status": finding.waived_status.value if finding.waived_status else None,
        "notes": [capped(note) for note in finding.notes],
        "remediation": (
            f"rem-{finding.playbook}"
            if playbook is not None
            and playbook.remediation
            and (finding.status in NON_COMPLIANT or finding.waived_status in NON_COMPLIANT)
            else None
        ),
    }


def _status_class(status: Status | None) -> str:
    if status is None:
        return "s-none"
    kind = "nc" if status in NON_COMPLIANT else "und" if status in UNDETERMINED else "ok"
    return f"s-{status.value} {kind}"


def _rank(status: Status | None) -> int:
    return STATUS_ORDER.index(status) if status is not None else len(STATUS_ORDER)


def _step_details(step: Any) -> list[tuple[str, Text]]:
    details: list[tuple[str, object]] = []
    if step.when:
        details.append(("when", ", ".join(f"{k}: {v}" for k, v in step.when.items())))
    for key, value in (step.model_extra or {}).items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
        details.append((key.replace("_", " "), shown))
    return [(label, capped(value, 1000)) for label, value in details]


def _playbook(playbook: Playbook) -> dict[str, Any]:
    return {
        "id": playbook.id,
        "title": capped(playbook.title, 500),
        "severity": playbook.severity,
        "references": [capped(r, 200) for r in playbook.references],
        "source": capped(playbook.source or "-", 500),
        "anchor": f"rem-{playbook.id}",
        "steps": [
            {
                "kind": step.step,
                "name": capped(step.name or step.step.replace("_", " "), 500),
                "details": _step_details(step),
            }
            for step in playbook.remediation
        ],
    }


def _hosts(run: AuditRun) -> list[dict[str, Any]]:
    playbooks = {p.id: p for p in run.playbooks}
    hosts = []
    for index, result in enumerate(sorted(run.results, key=lambda r: r.host), start=1):
        by_article = {f.playbook: f for f in result.findings}
        anchor = f"host-{index}"
        findings = [
            _finding(f, f"{anchor}-{f.playbook}", playbooks.get(f.playbook))
            for f in result.findings
        ]
        cells = []
        for playbook in run.playbooks:
            finding = by_article.get(playbook.id)
            status = finding.status if finding else None
            cells.append(
                {
                    "playbook": playbook.id,
                    "status": status.value if status else "none",
                    "text": (status.value.replace("_", " ") if status else "not evaluated"),
                    "class": _status_class(status),
                    "rank": _rank(status),
                    "anchor": f"{anchor}-{playbook.id}" if finding else None,
                }
            )
        error = None
        if result.error is not None:
            error = {
                "kind": result.error.reason,
                "message": capped(result.error.message),
                "hint": capped(result.error.hint) if result.error.hint else None,
            }
        hosts.append(
            {
                "name": capped(result.host, 500),
                "anchor": anchor,
                "statuses": " ".join(sorted({f.status.value for f in result.findings})),
                "worst": min((_rank(f.status) for f in result.findings), default=len(STATUS_ORDER)),
                "cells": cells,
                "facts": _host_facts(result),
                "error": error,
                "findings": findings,
            }
        )
    return hosts


@cache
def _environment() -> Environment:
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


def _summary(run: AuditRun) -> list[dict[str, Any]]:
    counts = run.counts()
    return [
        {
            "status": status.value,
            "text": status.value.replace("_", " "),
            "class": _status_class(status),
            "count": counts[status],
            "meaning": STATUS_MEANING[status],
        }
        for status in STATUS_ORDER
    ]


def render_html(
    run: AuditRun, *, inventory: str, generated_by: str, now: datetime | None = None
) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    now = now or datetime.now(UTC)
    script = _asset("report.js")
    context = {
        "run_id": run.run_id,
        "started": _when(run.started),
        "started_iso": _iso(run.started),
        "finished": _when(run.finished),
        "since": _when(run.since),
        "age": format_age(now - run.started),
        "generated": _when(now),
        "inventory": capped(inventory, 1000),
        "generated_by": capped(generated_by, 500),
        "version": __version__,
        "interrupted": run.interrupted,
        "aborted": capped(run.aborted) if run.aborted else None,
        "playbooks": [_playbook(p) for p in run.playbooks],
        "summary": _summary(run),
        "total": len(run.findings),
        "hosts": _hosts(run),
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
    write_html(run, path, inventory=context.inventory, generated_by=context.generated_by)


REPORTER = Reporter(name="html", extension="html", write=_write)
