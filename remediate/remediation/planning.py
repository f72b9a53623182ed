"""Planning: audit the hosts for one article, then resolve the playbook's steps for each host
that needs them.

The plan names the hosts that could not be audited (they are left out, never guessed at) and
is sealed with its hash, so that approval and apply can tell it was not changed since. A host
whose settings cannot work is one of them (reason `configuration: ...`), and so is a host
skipped for its connection (`local`, `docker`: reason `skipped: ...`, see `is_skipped`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from remediate.audit.run import AuditOptions, run_audit
from remediate.audit.session import Selected, select_for_run
from remediate.connect.targets import ConnectOptions, targets_for
from remediate.connect.templating import rendered
from remediate.errors import InputError
from remediate.inventory import InventorySources, source_list
from remediate.remediation.plan import HostPlan, Plan, UnauditedHost
from remediate.remediation.steps import plan_steps
from remediate.rules.findings import NON_COMPLIANT, Status
from remediate.rules.playbook import Playbook

NEEDS_FIX = NON_COMPLIANT - {Status.INVESTIGATE}
UNAUDITED = {Status.ERROR, Status.UNKNOWN}
SKIPPED = "skipped: "
"""How the reason of a host skipped for its connection begins in `Plan.not_audited`."""


def is_skipped(host: UnauditedHost) -> bool:
    """Whether the host was left out for its connection (not a host error: exit code 0)."""
    return host.reason.startswith(SKIPPED)


def _ignore(_: object) -> None:
    return None


def make_plan(
    inventory_path: InventorySources,
    playbook: Playbook,
    limit: str | None,
    planned_by: str,
    connect: ConnectOptions,
    now: datetime,
    since: timedelta = timedelta(days=7),
    on_selected: Callable[[Selected], None] = _ignore,
) -> Plan:
    """Audit the hosts for one article and plan the steps for each that needs them.

    `on_selected` hears of the selected hosts (and the warnings) before any is contacted.
    """
    selected = select_for_run(inventory_path, limit, connect)
    on_selected(selected)
    inventory = selected.inventory
    found = targets_for(selected.hosts, connect)
    run = run_audit(found.targets, [playbook], AuditOptions(timeout=connect.timeout, since=since))
    by_name = {h.name: h for h in selected.hosts}
    planned: list[HostPlan] = []
    unaudited = [
        UnauditedHost(host=skip.name, reason=SKIPPED + skip.reason) for skip in found.skipped
    ]
    for result in sorted(run.results, key=lambda r: r.host):
        finding = result.findings[0] if result.findings else None
        if result.error is not None or finding is None or finding.status in UNAUDITED:
            reason = (
                f"{result.error.reason}: {result.error.message}"
                if result.error is not None
                else (finding.reason if finding else "no finding")
            )
            unaudited.append(UnauditedHost(host=result.host, reason=reason))
            continue
        if finding.status not in NEEDS_FIX or result.evidence is None:
            continue
        evidence = result.evidence
        exchange = evidence.exchange
        # The step variables are the host's, templated as its connection's are: lazily, so
        # only those a step names are rendered, and one that cannot be leaves the host out.
        host_vars = rendered(by_name[result.host], vault_passwords=connect.vault_passwords).vars
        try:
            steps = plan_steps(playbook, evidence, host_vars)
        except InputError as exc:
            unaudited.append(UnauditedHost(host=result.host, reason=f"configuration: {exc}"))
            continue
        planned.append(
            HostPlan(
                host=result.host,
                status_before=finding.status.value,
                reason=finding.reason,
                os=f"{evidence.os.caption} SP{evidence.os.service_pack or 0}",
                exchange=exchange.display if exchange else "-",
                steps=steps,
            )
        )
    plan = Plan(
        playbook=playbook.id,
        title=playbook.title,
        inventory=inventory.path,
        inventories=source_list(inventory_path),
        playbooks=[playbook.source or ""],
        created=now,
        planned_by=planned_by,
        hosts=planned,
        not_audited=sorted(unaudited, key=lambda left: left.host),
    )
    return plan.sealed()
