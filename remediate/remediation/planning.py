"""Planning: audit the hosts for one article, then resolve the playbook's steps for each host
that needs them.

The plan names the hosts that could not be audited (they are left out, never guessed at) and
is sealed with its hash, so that approval and apply can tell it was not changed since.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from remediate.audit.run import AuditOptions, run_audit
from remediate.connect.targets import ConnectOptions, build_targets
from remediate.inventory import InventorySources, hosts_for, load_sources, source_list
from remediate.remediation.plan import HostPlan, Plan, UnauditedHost
from remediate.remediation.steps import plan_steps
from remediate.rules.findings import NON_COMPLIANT, Status
from remediate.rules.playbook import Playbook

NEEDS_FIX = NON_COMPLIANT - {Status.INVESTIGATE}
UNAUDITED = {Status.ERROR, Status.UNKNOWN}


def make_plan(
    inventory_path: InventorySources,
    playbook: Playbook,
    limit: str | None,
    planned_by: str,
    connect: ConnectOptions,
    now: datetime,
    since: timedelta = timedelta(days=7),
) -> Plan:
    """Audit the hosts for one article and plan the steps for each that needs them."""
    inventory = load_sources(inventory_path, vault_passwords=connect.vault_passwords)
    hosts = hosts_for(inventory, limit)
    targets, _ = build_targets(hosts, connect)
    run = run_audit(targets, [playbook], AuditOptions(timeout=connect.timeout, since=since))
    by_name = {h.name: h for h in hosts}
    planned: list[HostPlan] = []
    unaudited: list[UnauditedHost] = []
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
        planned.append(
            HostPlan(
                host=result.host,
                status_before=finding.status.value,
                reason=finding.reason,
                os=f"{evidence.os.caption} SP{evidence.os.service_pack or 0}",
                exchange=f"{exchange.product} SP{exchange.service_pack}" if exchange else "-",
                steps=plan_steps(playbook, evidence, dict(by_name[result.host].vars)),
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
        not_audited=unaudited,
    )
    return plan.sealed()
