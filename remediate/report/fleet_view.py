"""The top of the HTML page, the answer in one screen: servers needing action, compliant
and not audited; servers per article, the most needed first; new and resolved since the
previous run; and each article's generic remediation steps at the end."""

from __future__ import annotations

from typing import Any

from remediate.report.page_text import Text, capped
from remediate.report.status_view import NEEDS_ACTION, NOT_AUDITED, NOTHING_TO_DO
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, Status
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun


def _step_details(step: Any) -> list[tuple[str, Text]]:
    details: list[tuple[str, object]] = []
    if step.when:
        details.append(("when", ", ".join(f"{k}: {v}" for k, v in step.when.items())))
    for key, value in (step.model_extra or {}).items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
        details.append((key.replace("_", " "), shown))
    return [(label, capped(value, 1000)) for label, value in details]


def playbook_view(playbook: Playbook) -> dict[str, Any]:
    """An article's generic remediation steps, the section links jump to."""
    return {
        "id": playbook.id,
        "title": capped(playbook.title, 500),
        "severity": playbook.severity,
        "references": [capped(r, 200) for r in playbook.references],
        "source": capped(playbook.source or "-", 500),
        "draft": playbook.is_draft,
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
                "draft": playbook.is_draft,
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


def fleet_view(run: AuditRun, hosts: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer in one screen: servers by standing, articles, changes (`hosts` from
    `host_views`, so the change lists link to the same anchors)."""
    standing = [h["standing"] for h in hosts]
    return {
        "hosts": len(hosts),
        "needs_action": standing.count(NEEDS_ACTION),
        "not_audited": standing.count(NOT_AUDITED),
        "compliant": standing.count(NOTHING_TO_DO),
        "articles": _articles(run),
        "changes": _changes(run, hosts),
    }
