"""Statuses and servers as the HTML page names and marks them.

A finding has a status; a server has a standing (needs action, not audited, compliant) from
its findings, which is what the top of the page counts: hosts, not findings.
"""

from __future__ import annotations

from typing import Any

from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, WORST_FIRST, Status
from remediate.rules.results import AuditRun, HostResult

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


def status_class(status: Status | None) -> str:
    """CSS classes: the status's colour, and `nc`/`und` for the marks that survive grey print."""
    if status is None:
        return "s-none"
    kind = "nc" if status in NON_COMPLIANT else "und" if status in UNDETERMINED else "ok"
    return f"s-{status.value} {kind}"


def status_rank(status: Status | None) -> int:
    """Position in STATUS_ORDER (worst first); no status sorts last."""
    return STATUS_ORDER.index(status) if status is not None else len(STATUS_ORDER)


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


def status_summary(run: AuditRun) -> list[dict[str, Any]]:
    """Findings per status, worst first, with what each status means (and the filters)."""
    counts = run.counts()
    return [
        {
            "status": status.value,
            "text": status.value.replace("_", " "),
            "class": status_class(status),
            "count": counts[status],
            "meaning": STATUS_MEANING[status],
        }
        for status in STATUS_ORDER
    ]
