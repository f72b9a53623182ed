"""The per-host part of the HTML page: what to do next on each server (each reason it was
not audited once, with what to try; the `remediate plan` command per article), then its
findings needing action, the rest folded; and the server overview's row."""

from __future__ import annotations

import re
import shlex
from typing import Any

from remediate.report.finding_view import finding_view
from remediate.report.page_text import Text, capped
from remediate.report.reporter import HostSteps
from remediate.report.status_view import host_standing, status_class, status_rank
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, Status
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult


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


def host_anchor(name: str, taken: set[str]) -> str:
    """`host-<name>`, so a link can name the server; made unique among `taken`."""
    base = "host-" + (re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-") or "x")
    anchor, number = base, 1
    while anchor in taken:
        number += 1
        anchor = f"{base}-{number}"
    taken.add(anchor)
    return anchor


def host_views(run: AuditRun, inventory: str, steps: HostSteps | None) -> list[dict[str, Any]]:
    """Each host, by name: its row in the overview and the matrix, and its own section."""
    playbooks = {p.id: p for p in run.playbooks}
    hosts = []
    taken: set[str] = set()
    for result in sorted(run.results, key=lambda r: r.host):
        by_article = {f.playbook: f for f in result.findings}
        anchor = host_anchor(result.host, taken)
        findings = [
            finding_view(
                f, f"{anchor}-{f.playbook}", playbooks.get(f.playbook), result.evidence, steps
            )
            for f in sorted(result.findings, key=lambda f: (status_rank(f.status), f.playbook))
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
                    "class": status_class(status),
                    "rank": status_rank(status),
                    "anchor": f"{anchor}-{playbook.id}" if finding else None,
                }
            )
        worst = min((f.status for f in result.findings), key=status_rank, default=None)
        hosts.append(
            {
                "name": capped(result.host, 500),
                "anchor": anchor,
                "statuses": " ".join(sorted({f.status.value for f in result.findings})),
                "worst": status_rank(worst),
                "worst_status": worst.value if worst else "none",
                "worst_class": status_class(worst),
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
    for finding in sorted(result.findings, key=lambda f: (status_rank(f.status), f.playbook)):
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
    for finding in sorted(result.findings, key=lambda f: (status_rank(f.status), f.playbook)):
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
