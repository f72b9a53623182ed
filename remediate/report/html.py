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
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from remediate import __version__
from remediate.errors import InputError
from remediate.report.reporter import HostSteps, ReportContext, Reporter, TrendPoint
from remediate.rules.evidence import EventSample, Evidence
from remediate.rules.findings import (
    NON_COMPLIANT,
    UNDETERMINED,
    WORST_FIRST,
    FileVerdict,
    Finding,
    Status,
)
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult

MAX_TEXT = 4000
"""Characters shown of one message, data dump or reason; the rest is noted as truncated."""

# Worst first: the order of the summary, the legend and a sorted matrix column.
STATUS_ORDER: tuple[Status, ...] = WORST_FIRST
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


def _steps_for(
    finding: Finding, playbook: Playbook | None, evidence: Evidence | None, steps: HostSteps | None
) -> tuple[list[Text], Text | None]:
    if steps is None or playbook is None or evidence is None or not playbook.remediation:
        return [], None
    if finding.status not in NON_COMPLIANT:
        return [], None
    try:
        return [capped(line, 2000) for line in steps(playbook, evidence)], None
    except InputError as exc:  # a step this host's facts cannot fill
        return [], capped(exc, 1000)


def _finding(
    finding: Finding,
    anchor: str,
    playbook: Playbook | None,
    evidence: Evidence | None = None,
    steps: HostSteps | None = None,
) -> dict[str, Any]:
    resolved, unresolved = _steps_for(finding, playbook, evidence, steps)
    return {
        "steps": resolved,
        "steps_error": unresolved,
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
                "count_text": s.count_text,
                "capped": s.capped,
                "first": _when(s.first),
                "last": _when(s.last),
                "samples": [_sample(sample) for sample in s.samples],
            }
            for s in finding.symptoms
        ],
        "symptoms_seen": sum(s.matched or not s.known for s in finding.symptoms),
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


def host_anchor(name: str, taken: set[str]) -> str:
    """`host-<name>`, so a link can name the server; made unique among `taken`."""
    base = "host-" + (re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-") or "x")
    anchor, number = base, 1
    while anchor in taken:
        number += 1
        anchor = f"{base}-{number}"
    taken.add(anchor)
    return anchor


def _hosts(run: AuditRun, inventory: str, steps: HostSteps | None) -> list[dict[str, Any]]:
    playbooks = {p.id: p for p in run.playbooks}
    hosts = []
    taken: set[str] = set()
    for result in sorted(run.results, key=lambda r: r.host):
        by_article = {f.playbook: f for f in result.findings}
        anchor = host_anchor(result.host, taken)
        findings = [
            _finding(f, f"{anchor}-{f.playbook}", playbooks.get(f.playbook), result.evidence, steps)
            for f in sorted(result.findings, key=lambda f: (_rank(f.status), f.playbook))
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
        worst = min((f.status for f in result.findings), key=_rank, default=None)
        hosts.append(
            {
                "name": capped(result.host, 500),
                "anchor": anchor,
                "statuses": " ".join(sorted({f.status.value for f in result.findings})),
                "worst": _rank(worst),
                "worst_status": worst.value if worst else "none",
                "worst_class": _status_class(worst),
                "standing": host_standing(result),
                "cells": cells,
                "facts": _host_facts(result),
                "overview": _overview(result),
                "line": _host_line(result),
                "next": capped(next_step(result), 1000),
                "problems": _problems(result),
                "commands": _commands(result, inventory, playbooks),
                "action": [f for f in findings if f["status"] in _ACTION],
                "undetermined": [f for f in findings if f["status"] in _NOT_AUDITED],
                "other": [
                    f
                    for f in findings
                    if f["status"] not in _ACTION | _NOT_AUDITED
                    and f["status"] != Status.NOT_APPLICABLE.value
                ],
                "not_applicable": [
                    f for f in findings if f["status"] == Status.NOT_APPLICABLE.value
                ],
            }
        )
    return hosts


_ACTION = frozenset(s.value for s in NON_COMPLIANT)
_NOT_AUDITED = frozenset(s.value for s in UNDETERMINED)

NEEDS_ACTION, NOT_AUDITED, NOTHING_TO_DO = "needs_action", "not_audited", "compliant"


def host_standing(result: HostResult) -> str:
    """A server, not a finding: it needs action when any article needs a fix or a restart,
    else it is not (fully) audited when any article could not be decided, else compliant."""
    statuses = {f.status for f in result.findings}
    if statuses & NON_COMPLIANT:
        return NEEDS_ACTION
    if statuses & UNDETERMINED or result.error is not None:
        return NOT_AUDITED
    return NOTHING_TO_DO


WHAT_TO_TRY: dict[str, str] = {
    "unreachable": "check that the server is up, its name resolves and the WinRM/SSH port is "
    "open from this machine (firewall, ansible_port)",
    "timeout": "the server answered too slowly: retry with a longer --timeout, or when it is "
    "less busy",
    "certificate": "trust the server's certificate (ansible_winrm_ca_trust_path) or fix its "
    "name/expiry; do not turn validation off for production",
    "authentication": "check ansible_user/ansible_password and ansible_winrm_transport, and that "
    "the account is not locked",
    "host_key": "the SSH host key is unknown or changed: verify it and add it to known_hosts",
    "protocol": "the server answered in a way we do not understand: check the transport and "
    "WinRM/SSH configuration, then retry",
    "probe_error": "the audit script's output was unusable: retry; if it persists, run "
    "`remediate collect` on this host and attach its output to a bug report",
    "configuration": "the connection settings cannot work: correct the inventory variables "
    "named in the message",
    "not_audited": "the run stopped before this server: audit it again (`--limit HOST`)",
    "skipped": "the server was skipped by the inventory or its options: audit it on its own",
}
"""What an administrator can try for each reason a host or an article was not audited."""

_NEXT: dict[Status, str] = {
    Status.AFFECTED: "install the fix",
    Status.MISSING_FIX: "install the fix",
    Status.NEEDS_REBOOT: "restart the server",
    Status.INVESTIGATE: "look into the symptoms seen after the fix",
    Status.UNKNOWN: "find why evidence is missing",
    Status.ERROR: "audit again",
}


def next_step(result: HostResult) -> str:
    """One line: what to do on this server next, worst first."""
    if result.error is not None:
        return f"restore access ({result.error.reason}), then audit again"
    steps: dict[str, list[str]] = {}
    for finding in sorted(result.findings, key=lambda f: (_rank(f.status), f.playbook)):
        step = _NEXT.get(finding.status)
        if step is not None:
            steps.setdefault(step, []).append(finding.playbook)
    if not steps:
        return "nothing to do"
    return "; ".join(f"{step} ({', '.join(ids)})" for step, ids in steps.items())


def _short(name: str) -> str:
    """A product name for a table read across: "Microsoft(R) Windows(R) Server 2003, Standard
    Edition" -> "Windows Server 2003 Standard"."""
    name = re.sub(r"\((R|TM)\)", "", name)
    name = re.sub(r"^Microsoft\s+", "", name.strip())
    return " ".join(name.replace(",", " ").replace(" Edition", "").split()) or "-"


def _overview(result: HostResult) -> dict[str, Text]:
    evidence = result.evidence
    os_text, exchange = "-", "-"
    if evidence is not None:
        os = evidence.os
        # the overview is a table read across: "Windows Server 2003, Standard Edition SP2"
        os_text = _short(os.caption or "")
        if os_text and os.service_pack:
            os_text += f" SP{os.service_pack}"
        exchange = _short(evidence.exchange.display) if evidence.exchange else "not installed"
    return {
        "os": capped(os_text, 300),
        "exchange": capped(exchange, 300),
        "transport": capped(result.transport or "-", 50),
    }


def _host_line(result: HostResult) -> Text:
    """Under the host's name: what it runs, or that nothing is known of it."""
    overview = _overview(result)
    if result.evidence is None:
        return capped(f"no facts obtained · {overview['transport'].text}", 500)
    parts = (overview["os"].text, overview["exchange"].text, overview["transport"].text)
    return capped(" · ".join(part for part in parts if part and part != "-"), 700)


def _problems(result: HostResult) -> list[dict[str, Any]]:
    """Each reason the host or some of its articles were not audited, once, with the
    articles it concerns and what to try."""
    found: dict[str, dict[str, Any]] = {}
    if result.error is not None:
        reason = result.error.reason
        found[reason] = {
            "kind": reason,
            "message": capped(result.error.message),
            "hint": capped(result.error.hint) if result.error.hint else None,
            "articles": [],
            "whole_host": True,
        }
    for finding in result.findings:
        if finding.status not in UNDETERMINED:
            continue
        kind = finding.error_kind or finding.status.value
        entry = found.setdefault(
            kind,
            {
                "kind": kind,
                "message": capped(finding.reason),
                "hint": capped(finding.hint) if finding.hint else None,
                "articles": [],
                "whole_host": False,
            },
        )
        if entry["hint"] is None and finding.hint:
            entry["hint"] = capped(finding.hint)
        entry["articles"].append(finding.playbook)
    for entry in found.values():
        general = WHAT_TO_TRY.get(entry["kind"])
        hint = entry["hint"].text if entry["hint"] else ""
        entry["general"] = general if general and general != hint else None
    return list(found.values())


def plan_command(inventory: str, playbook: str, host: str) -> str:
    """The command that starts the fix of one article on one host, quoted for a shell; an
    inventory too long to show whole (a path never is) stays a placeholder, never cut."""
    shown = inventory if inventory and len(inventory) <= 1000 else "INVENTORY"
    return shlex.join(["remediate", "plan", shown, "--playbook", playbook, "--limit", host])


def _commands(
    result: HostResult, inventory: str, playbooks: dict[str, Playbook]
) -> list[dict[str, Any]]:
    commands = []
    for finding in sorted(result.findings, key=lambda f: (_rank(f.status), f.playbook)):
        if finding.status not in NON_COMPLIANT:
            continue
        playbook = playbooks.get(finding.playbook)
        commands.append(
            {
                "playbook": finding.playbook,
                "status": finding.status.value,
                "command": capped(plan_command(inventory, finding.playbook, result.host), 2000),
                "steps": bool(playbook and playbook.remediation),
            }
        )
    return commands


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


TREND_RUNS = 12
"""Runs the trend chart shows, the newest last."""


def trend_point(run: AuditRun) -> TrendPoint:
    needing = sum(host_standing(r) == NEEDS_ACTION for r in run.results)
    return TrendPoint(run.run_id, run.started, needing, len(run.results))


def trend_point_from_document(document: dict[str, Any]) -> TrendPoint:
    """The trend point of a stored run document (as `History.document` returns it)."""
    action = {s.value for s in NON_COMPLIANT}
    hosts = document.get("hosts") or []
    needing = sum(
        any(f.get("status") in action for f in host.get("findings") or []) for host in hosts
    )
    return TrendPoint(str(document.get("run_id", "")), _started(document), needing, len(hosts))


def _started(document: dict[str, Any]) -> datetime:
    """When the stored run started, in UTC; a document without a readable time sorts first."""
    try:
        moment = datetime.fromisoformat(str(document.get("started")))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_SEVERITY_ORDER = ("critical", "high", "medium", "low", "informational")


def _articles(run: AuditRun) -> list[dict[str, Any]]:
    rows = []
    for playbook in run.playbooks:
        statuses = [f.status for f in run.findings if f.playbook == playbook.id]
        rows.append(
            {
                "id": playbook.id,
                "anchor": f"rem-{playbook.id}",
                "title": capped(playbook.title, 500),
                "severity": playbook.severity,
                "affected": sum(s in NON_COMPLIANT for s in statuses),
                "not_audited": sum(s in UNDETERMINED for s in statuses),
                "compliant": sum(s in (Status.COMPLIANT, Status.WAIVED) for s in statuses),
                "not_applicable": sum(s is Status.NOT_APPLICABLE for s in statuses),
            }
        )
    rank = {name: index for index, name in enumerate(_SEVERITY_ORDER)}
    return sorted(rows, key=lambda r: (-(r["affected"] > 0), rank.get(r["severity"], 9), r["id"]))


def _changes(run: AuditRun, hosts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """New and resolved since the previous run, from the drift the history marked; None when
    the run was not compared with one."""
    if all(f.drift is None for f in run.findings):
        return None
    anchors = {h["name"].text: h["anchor"] for h in hosts}

    def listed(kind: str) -> list[dict[str, Any]]:
        return [
            {"host": capped(f.host, 500), "anchor": anchors.get(f.host, ""), "playbook": f.playbook}
            for f in sorted(run.findings, key=lambda f: (f.host, f.playbook))
            if f.drift == kind
        ]

    return {"new": listed("new"), "resolved": listed("resolved")}


def _trend(run: AuditRun, trend: Sequence[TrendPoint]) -> dict[str, Any] | None:
    """The bar chart's geometry and its text alternative; None with fewer than two runs."""
    points = {p.run_id: p for p in trend}
    points[run.run_id] = trend_point(run)
    shown = sorted(points.values(), key=lambda p: p.started)[-TREND_RUNS:]
    if len(shown) < 2:
        return None
    width, height, top, bottom, left = 640, 170, 22, 34, 34
    scale = max(max(p.hosts for p in shown), 1)
    slot = (width - left) / len(shown)
    plot = height - top - bottom
    bars = []
    for index, point in enumerate(shown):
        bar = round(plot * point.needs_action / scale, 1)
        x = round(left + index * slot + slot * 0.2, 1)
        bars.append(
            {
                "x": x,
                "y": round(top + plot - bar, 1),
                "width": round(slot * 0.6, 1),
                "height": bar,
                "middle": round(x + slot * 0.3, 1),
                "label": f"{point.needs_action}/{point.hosts}",
                "date": f"{point.started:%m-%d}",
                "when": f"{point.started:%Y-%m-%d %H:%M}",
                "run_id": point.run_id,
                "needs_action": point.needs_action,
                "hosts": point.hosts,
                "current": point.run_id == run.run_id,
            }
        )
    return {
        "width": width,
        "height": height,
        "axis_y": top + plot,
        "left": left,
        "top": top,
        "scale": scale,
        "bars": bars,
    }


def _fleet(run: AuditRun, hosts: list[dict[str, Any]]) -> dict[str, Any]:
    standing = [h["standing"] for h in hosts]
    return {
        "hosts": len(hosts),
        "needs_action": standing.count(NEEDS_ACTION),
        "not_audited": standing.count(NOT_AUDITED),
        "compliant": standing.count(NOTHING_TO_DO),
        "articles": _articles(run),
        "changes": _changes(run, hosts),
    }


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
    hosts = _hosts(run, inventory, host_steps)
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
        "needed": sorted({f.playbook for f in run.findings if f.status in NON_COMPLIANT}),
        "summary": _summary(run),
        "total": len(run.findings),
        "hosts": hosts,
        "fleet": _fleet(run, hosts),
        "trend": _trend(run, trend),
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
