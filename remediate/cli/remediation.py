"""`remediate plan|approve|apply|journal`: from findings to changes, with four eyes between."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from remediate.cli.console import console
from remediate.cli.options import (
    DEFAULT_PLAYBOOKS,
    AllowInsecure,
    AskPass,
    Forks,
    InventoryArg,
    Limit,
    PlanFile,
    PlaybookFolder,
    Timeout,
    duration,
    who,
)
from remediate.errors import ExitCode, InputError

REBOOT_TIMEOUT = 600.0  # seconds `apply` waits for a restarted host by default


def plan(
    inventory: InventoryArg,
    playbook_id: Annotated[str, typer.Option("--playbook", help="Article id, e.g. KB840469.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Plan file to write.")] = Path(
        "plan.json"
    ),
    limit: Limit = None,
    playbooks: PlaybookFolder = DEFAULT_PLAYBOOKS,
    timeout: Timeout = 120.0,
    ask_pass: AskPass = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """Audit the hosts for one article and write the plan of steps for those that need it.

    Exit codes: 0 planned; 3 some hosts could not be audited (listed, and left out of the plan);
    2 bad input.
    """
    from datetime import UTC, datetime

    from remediate.connect.targets import ConnectOptions
    from remediate.remediation.plan import describe_timeout, save_plan
    from remediate.remediation.planning import make_plan
    from remediate.rules.playbook import load_playbooks

    found = {p.id.lower(): p for p in load_playbooks([playbooks])}
    playbook = found.get(playbook_id.lower())
    if playbook is None:
        raise InputError(f"no playbook {playbook_id!r} in {playbooks}")
    connect = ConnectOptions(allow_insecure=allow_insecure, ask_pass=ask_pass, timeout=timeout)
    made = make_plan(inventory, playbook, limit, who(), connect, datetime.now(UTC))
    save_plan(made, output)
    for host_plan in made.hosts:
        console.print(
            Text(host_plan.host, style="bold"),
            Text(f"({host_plan.status_before}: {host_plan.reason})"),
        )
        for step in host_plan.steps:
            console.print(
                f"  {step.index}. [{step.kind}] {step.name}: {step.display}"
                f"  ({describe_timeout(step, None, REBOOT_TIMEOUT)})",
                markup=False,
            )
    for left in made.not_audited:
        console.print(f"not audited, not planned: {left.host}: {left.reason}", markup=False)
    console.print(
        f"{len(made.hosts)} host(s) to remediate; plan {output} (sha256 {made.hash[:16]}...)"
    )
    console.print(f"next: remediate approve {output} --by <a second operator>")
    raise typer.Exit(ExitCode.HOST_ERRORS if made.not_audited else ExitCode.OK)


def approve(
    plan_file: PlanFile,
    by: Annotated[str, typer.Option(help="Who approves (not the planner: four eyes).")],
    comment: Annotated[str | None, typer.Option(help="Change ticket, remarks.")] = None,
    valid_hours: Annotated[
        float, typer.Option(min=0.1, help="Hours the approval stays valid.")
    ] = 24.0,
    allow_self_approval: Annotated[bool, typer.Option(help="Policy: planner may approve.")] = False,
) -> None:
    """Record an approval (who, when, which hash, until when) in the plan file."""
    from datetime import UTC, datetime

    from remediate.remediation.plan import approve as approve_plan
    from remediate.remediation.plan import load_plan, save_plan

    approved = approve_plan(
        load_plan(plan_file),
        by,
        datetime.now(UTC),
        comment,
        timedelta(hours=valid_hours),
        allow_self_approval,
        recorded_by=who(),
    )
    save_plan(approved, plan_file)
    assert approved.approval is not None
    console.print(
        f"approved by {approved.approval.by} until {approved.approval.expires:%Y-%m-%d %H:%M} UTC"
    )


def apply(
    plan_file: PlanFile,
    forks: Forks = 1,
    check: Annotated[
        bool, typer.Option(help="Print every command that would run; change nothing.")
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue after a crash; finished steps are not rerun.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before each host.")] = False,
    confirm_manual: Annotated[
        bool, typer.Option(help="The operator confirms every manual step was done.")
    ] = False,
    playbooks: PlaybookFolder = DEFAULT_PLAYBOOKS,
    timeout: Timeout = 120.0,
    reboot_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds a reboot may take.")
    ] = REBOOT_TIMEOUT,
    step_timeout: Annotated[
        str | None,
        typer.Option(
            help="How long every step may take (90s, 45m, 2h), over the plan's own timeouts; "
            "a step still running then is left running and journalled as such."
        ),
    ] = None,
    rerun_still_running: Annotated[
        bool,
        typer.Option(help="On --resume, run again a step left running that shows no result."),
    ] = False,
    ask_pass: AskPass = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """Apply an approved plan; every step is journalled beside the plan.

    In a terminal it asks before each host (and at each manual step) unless --yes.
    Each step has its own timeout (shown by `plan` and `apply --check`), not --timeout.
    Exit codes: 0 every host done or no longer needing it; 1 a host failed, was declined,
    waits for an operator or has a step still running; 2 the plan may not run (unapproved,
    expired, tampered, self-approved) or bad input.
    """
    from remediate.connect.targets import ConnectOptions
    from remediate.remediation.apply import UNFINISHED, ApplyOptions, apply_plan
    from remediate.remediation.plan import load_plan
    from remediate.rules.playbook import load_playbooks

    interactive = sys.stdin.isatty() and not yes

    def ask(question: str) -> bool:
        return typer.confirm(question, default=False)

    step_seconds = None
    if step_timeout is not None:
        step_seconds = duration("--step-timeout", step_timeout).total_seconds()
        if step_seconds <= 0:
            raise InputError(f"--step-timeout: {step_timeout!r} must be more than 0 s")
    loaded = load_plan(plan_file)
    found = {p.id: p for p in load_playbooks([playbooks])}
    if loaded.playbook not in found:
        raise InputError(f"the plan's playbook {loaded.playbook} is not in {playbooks}")
    options = ApplyOptions(
        forks=forks,
        check=check,
        resume=resume,
        confirm_manual=confirm_manual,
        operator=who(),
        reboot_timeout=reboot_timeout,
        step_timeout=step_seconds,
        rerun_still_running=rerun_still_running,
    )
    connect = ConnectOptions(allow_insecure=allow_insecure, ask_pass=ask_pass, timeout=timeout)
    outcomes = apply_plan(
        plan_file,
        loaded,
        found[loaded.playbook],
        options,
        connect,
        say=lambda text: console.print(text, markup=False),
        ask=ask if interactive else None,
    )
    for outcome in outcomes:
        console.print(f"{outcome.host}: {outcome.status}: {outcome.message}", markup=False)
    unfinished = any(o.status in UNFINISHED for o in outcomes)
    raise typer.Exit(ExitCode.NEEDS_ACTION if unfinished else ExitCode.OK)


def journal(plan_file: PlanFile) -> None:
    """Show the journal of a plan's applies."""
    from remediate.remediation.journal import Journal, journal_path

    entries = Journal(journal_path(plan_file)).entries()
    if not entries:
        console.print(f"no journal for {plan_file} yet")
        return
    table = Table(title=f"journal of {plan_file}")
    for column in ("time", "event", "host", "step", "details"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        details = ", ".join(f"{k}={v}" for k, v in (entry.data or {}).items())
        table.add_row(
            entry.time[:19], entry.event, entry.host or "", str(entry.step or ""), details
        )
    console.print(table)
