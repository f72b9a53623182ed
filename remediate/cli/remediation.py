"""`remediate plan|approve|apply|journal`: from findings to changes, with four eyes between."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from remediate.cli.console import console, literal
from remediate.cli.inventory_options import vault_passwords_only
from remediate.cli.options import (
    DEFAULT_PLAYBOOKS,
    AllowInsecure,
    AskPass,
    AskVaultPass,
    Forks,
    InventoryArg,
    InventoryOption,
    Limit,
    ListHosts,
    PlanFile,
    PlaybookFolder,
    Timeout,
    VaultIds,
    VaultPasswordFiles,
    duration,
    who,
)
from remediate.errors import ExitCode, InputError

REBOOT_TIMEOUT = 600.0  # seconds `apply` waits for a restarted host by default

SigningKey = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="SSH key to sign with: a private key file, or a .pub whose key is in ssh-agent "
        "(default: ssh-agent's only key).",
    ),
]
Approvers = Annotated[
    Path | None,
    typer.Option(
        "--approvers",
        help="Allowed-signers file (OpenSSH format): who may plan and approve. Default: "
        "$REMEDIATE_ALLOWED_SIGNERS, else /etc/remediate/allowed_signers.",
    ),
]


def _signer(key: Path | None):  # -> Signer
    """The key to sign with; asks for a passphrase in a terminal, never echoes it."""
    from remediate.remediation.signing import PassphraseNeeded, signer_for

    try:
        return signer_for(key)
    except PassphraseNeeded:
        if not sys.stdin.isatty():
            raise
        secret = typer.prompt(f"passphrase for {key}", hide_input=True, default="")
        return signer_for(key, secret.encode("utf-8"))


def _principal(signer, given: str | None, approvers: Path | None, namespace: str) -> str:
    """--signer/--by, else the key's one principal in the allowed signers."""
    from datetime import UTC, datetime

    from remediate.remediation.signing import load_allowed_signers

    if given is not None:
        return given
    allowed = load_allowed_signers(approvers)
    names = {
        p
        for e in allowed.entries_for(signer.key, namespace, datetime.now(UTC))
        for p in e.principals
        if not any(c in p for c in "*?!")
    }
    if len(names) != 1:
        raise InputError(
            f"the key {signer.key.fingerprint} is listed in {allowed.source} as "
            f"{', '.join(sorted(names)) or 'nobody'}: name the principal to sign as",
            hint="--signer for plan, --by for approve",
        )
    return names.pop()


def plan(
    playbook_id: Annotated[str, typer.Option("--playbook", help="Article id, e.g. KB840469.")],
    inventory: InventoryArg = None,
    sources: InventoryOption = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Plan file to write.")] = Path(
        "plan.json"
    ),
    limit: Limit = None,
    playbooks: PlaybookFolder = DEFAULT_PLAYBOOKS,
    timeout: Timeout = 120.0,
    ask_pass: AskPass = False,
    allow_insecure: AllowInsecure = False,
    key: SigningKey = None,
    signer_name: Annotated[
        str | None,
        typer.Option(
            "--signer", help="Your principal in the allowed signers (default: your key's)."
        ),
    ] = None,
    approvers: Approvers = None,
    vault_password_file: VaultPasswordFiles = None,
    vault_id: VaultIds = None,
    ask_vault_pass: AskVaultPass = False,
    list_hosts_only: ListHosts = False,
) -> None:
    """Audit the hosts for one article and write the plan of steps for those that need it,
    signed with your SSH key (--key).

    Exit codes: 0 planned; 3 some hosts could not be audited (listed, and left out of the plan;
    a host whose connection remediate does not use, e.g. local, is listed as skipped and does
    not count); 2 bad input (an --output that cannot be written is found before any host is
    contacted); 4 the plan could not be written at the end (it went to the fallback file named).
    """
    from datetime import UTC, datetime

    from remediate.cli.audit import prepare_run, show_selected
    from remediate.outputs import check_file, not_written
    from remediate.remediation.plan import PLAN_NAMESPACE, describe_timeout, save_plan, sign_plan
    from remediate.remediation.planning import is_skipped, make_plan
    from remediate.rules.playbook import load_playbooks

    found_sources, connect = prepare_run(
        inventory,
        sources,
        vault_password_file,
        vault_id,
        ask_vault_pass,
        limit,
        list_hosts_only,
        allow_insecure=allow_insecure,
        ask_pass=ask_pass,
        timeout=timeout,
    )
    found = {p.id.lower(): p for p in load_playbooks([playbooks])}
    playbook = found.get(playbook_id.lower())
    if playbook is None:
        raise InputError(f"no playbook {playbook_id!r} in {playbooks}")
    check_file(output, "plan file")  # before any host is contacted
    signer = _signer(key)  # before any host is contacted
    principal = _principal(signer, signer_name, approvers, PLAN_NAMESPACE)
    unsigned = make_plan(
        found_sources,
        playbook,
        limit,
        principal,
        connect,
        datetime.now(UTC),
        on_selected=show_selected,
    )
    made = sign_plan(unsigned, signer, principal)
    try:
        save_plan(made, output)
    except OSError as exc:
        text = made.model_dump_json(indent=2) + "\n"
        raise not_written(output, exc, "plan", text.encode("utf-8"), ".json") from None
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
        if is_skipped(left):
            console.print(Text(f"not planned: {left.host}: {left.reason}", style="yellow"))
        else:
            console.print(f"not audited, not planned: {left.host}: {left.reason}", markup=False)
    console.print(
        f"{len(made.hosts)} host(s) to remediate; plan {output} (sha256 {made.hash[:16]}...)"
    )
    console.print(
        f"signed by {principal} ({signer.key.fingerprint}); next: a second person runs "
        f"remediate approve {output} --key THEIR_KEY"
    )
    host_errors = [left for left in made.not_audited if not is_skipped(left)]
    raise typer.Exit(ExitCode.HOST_ERRORS if host_errors else ExitCode.OK)


def approve(
    plan_file: PlanFile,
    key: SigningKey = None,
    by: Annotated[
        str | None,
        typer.Option(help="Your principal in the allowed signers (default: your key's)."),
    ] = None,
    comment: Annotated[str | None, typer.Option(help="Change ticket, remarks.")] = None,
    valid_hours: Annotated[
        float, typer.Option(min=0.1, max=8784, help="Hours the approval stays valid.")
    ] = 24.0,
    approvers: Approvers = None,
) -> None:
    """Sign an approval of the plan with your SSH key (--key): this content, as its planner
    signed it, approved by you from now for --valid-hours. The planner cannot approve."""
    from datetime import UTC, datetime

    from remediate.remediation.plan import APPROVAL_NAMESPACE, load_plan, planner_key, save_plan
    from remediate.remediation.plan import approve as approve_plan
    from remediate.remediation.signing import SignatureError, load_allowed_signers

    loaded = load_plan(plan_file)
    planner_key(loaded)  # a changed or unsigned plan is refused before any key is asked for
    signer = _signer(key)
    try:
        allowed = load_allowed_signers(approvers)
    except SignatureError:
        if approvers is not None or by is None:
            raise
        allowed = None  # no allowed signers here: apply checks the principal
    principal = _principal(signer, by, approvers, APPROVAL_NAMESPACE)
    now = datetime.now(UTC)
    approved = approve_plan(
        loaded, signer, principal, now, comment, timedelta(hours=valid_hours), allowed
    )
    save_plan(approved, plan_file)
    console.print(
        f"approved by {principal} ({signer.key.fingerprint}) until "
        f"{now + timedelta(hours=valid_hours):%Y-%m-%d %H:%M} UTC; "
        f"{len(approved.approvals)} approval(s) in {plan_file}",
        markup=False,
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
    vault_password_file: VaultPasswordFiles = None,
    vault_id: VaultIds = None,
    ask_vault_pass: AskVaultPass = False,
    approvers: Approvers = None,
    approvals: Annotated[
        int,
        typer.Option(
            min=1,
            max=100,
            envvar="REMEDIATE_APPROVALS",
            help="Policy: how many people other than the planner must have approved.",
        ),
    ] = 1,
) -> None:
    """Apply an approved plan; every step is journalled beside the plan.

    First every signature is verified against the allowed signers (--approvers): the planner's,
    each approval's (this content, not expired, not the planner, --approvals distinct people).

    In a terminal it asks before each host (and at each manual step) unless --yes.
    Each step has its own timeout (shown by `plan` and `apply --check`), not --timeout.
    A host whose connection settings no longer work fails with the reason; the others go on.
    Exit codes: 0 every host done or no longer needing it; 1 a host failed, was declined,
    waits for an operator or has a step still running; 2 the plan may not run (unsigned,
    unapproved, expired, tampered, self-approved, too few approvers; with --check: after
    printing what would run) or bad input.
    """
    from datetime import UTC, datetime

    from remediate.connect.targets import ConnectOptions
    from remediate.remediation.apply import (
        UNFINISHED,
        ApplyOptions,
        apply_plan,
        verify_for_apply,
    )
    from remediate.remediation.plan import PlanError, load_plan
    from remediate.remediation.signing import SignatureError, load_allowed_signers
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
    refused: PlanError | SignatureError | None = None
    try:
        allowed = load_allowed_signers(approvers)
    except SignatureError as exc:
        if not check:
            raise
        allowed, refused = None, exc
    options = ApplyOptions(
        allowed_signers=allowed,
        approvals=approvals,
        forks=forks,
        check=check,
        resume=resume,
        confirm_manual=confirm_manual,
        operator=who(),
        reboot_timeout=reboot_timeout,
        step_timeout=step_seconds,
        rerun_still_running=rerun_still_running,
    )
    if check and refused is not None:
        console.print(f"NOT VERIFIED: apply would refuse this plan: {refused}", markup=False)
    elif check:  # the verification result first; what would run after it
        try:
            for line in verify_for_apply(loaded, options, datetime.now(UTC)).lines():
                console.print(f"verified: {line}", markup=False)
        except PlanError as exc:
            refused = exc
            console.print(f"NOT VERIFIED: apply would refuse this plan: {exc}", markup=False)
    connect = ConnectOptions(
        allow_insecure=allow_insecure,
        ask_pass=ask_pass,
        timeout=timeout,
        vault_passwords=vault_passwords_only(vault_password_file, vault_id, ask_vault_pass),
    )
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
    if refused is not None:
        raise refused
    unfinished = any(o.status in UNFINISHED for o in outcomes)
    raise typer.Exit(ExitCode.NEEDS_ACTION if unfinished else ExitCode.OK)


def journal(plan_file: PlanFile) -> None:
    """Show the journal of a plan's applies."""
    from remediate.remediation.journal import Journal, journal_path

    if not plan_file.name:  # '.', '/', '': the journal is named after the plan file
        raise InputError(f"{plan_file}: not a plan file", hint="give the file `plan` wrote")
    entries = Journal(journal_path(plan_file)).entries()
    if not entries:
        console.print(literal(f"no journal for {plan_file} yet"))
        return
    table = Table(title=literal(f"journal of {plan_file}"))
    for column in ("time", "event", "host", "step", "details"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        details = ", ".join(f"{k}={v}" for k, v in (entry.data or {}).items())
        cells = (entry.time[:19], entry.event, entry.host or "", str(entry.step or ""), details)
        table.add_row(*(literal(cell) for cell in cells))
    console.print(table)
