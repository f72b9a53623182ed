"""`remediate audit` and `remediate collect`: ask the hosts, judge the evidence, report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from remediate.cli.console import (
    AuditProgress,
    console,
    errors,
    literal,
    print_evidence,
    print_outcome,
)
from remediate.cli.inventory_options import (
    print_list_hosts,
    print_skipped,
    print_warnings,
    resolve_inventory,
)
from remediate.cli.options import (
    DEFAULT_PLAYBOOKS,
    DEFAULT_REPORTS,
    AllowInsecure,
    AskPass,
    AskVaultPass,
    Forks,
    InventoryArg,
    InventoryOption,
    Limit,
    ListHosts,
    PlaybookPaths,
    ReportFolder,
    ReportFormats,
    Since,
    Timeout,
    VaultIds,
    VaultPasswordFiles,
    duration,
    who,
)
from remediate.errors import ExitCode

if TYPE_CHECKING:
    from remediate.audit.session import AuditOutcome, AuditRequest, Selected, StepLister
    from remediate.connect.targets import ConnectOptions
    from remediate.inventory import Host, InventorySources
    from remediate.inventory.vault import VaultPassword
    from remediate.rules.evidence import Evidence
    from remediate.rules.playbook import Playbook


def audit_on_console(request: AuditRequest) -> AuditOutcome:
    """The audit as `audit` and `demo` show it: progress per host, then the summary."""
    from remediate.audit.gc_policy import collections_for_a_run
    from remediate.audit.session import audit_and_report

    # The collector's settings for a run last until its summary is printed: with the default
    # ones back, the first middle collection walked every result of the run, 0.2 s of CPU
    # for 1,000 hosts while the summary table was drawn (gc.callbacks, issue 18).
    with collections_for_a_run():
        with AuditProgress(console) as progress:
            outcome = audit_and_report(
                request,
                progress.start,
                progress.advance,
                progress.stopping,
                on_selected=show_selected,
            )
        print_outcome(outcome, console)
        print_skipped(outcome.skipped)
        print_unwritten(outcome)
    _remember(request.history)
    return outcome


def _remember(database: Path | None) -> None:
    """Name a history outside the default place in the per-user index, so `remediate history`
    and `report` find runs written with `audit -o DIR` without --history."""
    from remediate.cli.options import DEFAULT_HISTORY
    from remediate.history import remember_history

    try:
        elsewhere = database is not None and database.resolve() != DEFAULT_HISTORY.resolve()
        if elsewhere and database.is_file():  # type: ignore[union-attr]
            remember_history(database)  # type: ignore[arg-type]
    except OSError:  # a convenience only
        return


def show_selected(selected: Selected) -> None:
    """The inventory's and the pattern's warnings, before any host is contacted."""
    print_warnings(selected.warnings)


def prepare_run(
    inventory: Path | None,
    sources: list[str] | None,
    vault_password_file: list[str] | None,
    vault_id: list[str] | None,
    ask_vault_pass: bool,
    limit: str | None,
    list_hosts_only: bool,
    **settings: Any,
) -> tuple[list[str], ConnectOptions]:
    """A run's inventory sources and connection options (`settings` as ConnectOptions takes
    them). With --list-hosts the hosts are listed and the command ends here (exit 0)."""
    from remediate.connect.targets import ConnectOptions

    found, vault_passwords = resolve_inventory(
        inventory, sources, vault_password_file, vault_id, ask_vault_pass
    )
    connect = ConnectOptions(vault_passwords=vault_passwords, **settings)
    if list_hosts_only:
        list_hosts(found, limit, connect)
        raise typer.Exit(ExitCode.OK)
    return found, connect


def list_hosts(sources: InventorySources, limit: str | None, connect: ConnectOptions) -> None:
    """`--list-hosts`: what a run would contact and skip; no host is contacted."""
    from remediate.audit.session import select_for_run
    from remediate.connect.targets import split_skipped

    selected = select_for_run(sources, limit, connect)
    show_selected(selected)
    hosts, skipped = split_skipped(selected.hosts, connect)
    print_list_hosts(hosts, skipped)


def print_unwritten(outcome: AuditOutcome) -> None:
    """What could not be written at the end, and where the run document went instead."""
    if not outcome.unwritten:
        return
    for problem in outcome.unwritten:
        errors.print(f"error: {problem}", markup=False, soft_wrap=True)
    own = outcome.run.exit_code()
    if outcome.fallback is not None:
        errors.print(
            f"the run document (every host's findings and evidence) was saved to "
            f"{outcome.fallback} (JSON, as the json report; the audit itself would have "
            f"exited {int(own)})",
            markup=False,
            soft_wrap=True,
        )
        return
    from remediate.report.document import document_json

    for failure in outcome.fallback_failures:
        errors.print(f"error: fallback not written: {failure}", markup=False, soft_wrap=True)
    errors.print(
        "no folder could take the run document; it follows on standard output as JSON "
        f"(the audit itself would have exited {int(own)})",
        markup=False,
        soft_wrap=True,
    )
    sys.stdout.flush()
    sys.stdout.write(document_json(outcome.run) + "\n")
    sys.stdout.flush()


def audit(
    inventory: InventoryArg = None,
    sources: InventoryOption = None,
    playbooks: PlaybookPaths = None,
    limit: Limit = None,
    since: Since = "7d",
    forks: Forks = 50,
    timeout: Timeout = 120.0,
    report_format: ReportFormats = "html,json",
    output: ReportFolder = DEFAULT_REPORTS,
    waivers: Annotated[Path | None, typer.Option(help="Waivers YAML file.")] = None,
    fail_percent: Annotated[
        float | None,
        typer.Option(min=0, max=100, help="Stop starting hosts once this % of hosts failed."),
    ] = None,
    ask_pass: AskPass = False,
    allow_insecure: AllowInsecure = False,
    accept_new_host_keys: Annotated[
        bool, typer.Option(help="Trust and save unknown SSH host keys (changed keys still fail).")
    ] = False,
    history: Annotated[
        Path | None,
        typer.Option(help="Run history database (default: history.sqlite in the report folder)."),
    ] = None,
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Do not record this run.")
    ] = False,
    vault_password_file: VaultPasswordFiles = None,
    vault_id: VaultIds = None,
    ask_vault_pass: AskVaultPass = False,
    list_hosts_only: ListHosts = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=256,
            envvar="REMEDIATE_WORKERS",
            help="Processes to spread the hosts over, --forks shared among them (default: one"
            " per core; runs of at most 100 hosts use one).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Audit hosts against KB playbooks and write reports.

    A host whose connection variables cannot work (no user, an unknown transport, a missing
    library, an undefined template variable) is that host's `error` (reason `configuration`);
    a host whose ansible_connection remediate does not use (local, docker...) is skipped,
    listed with the reason, and changes no exit code.

    Exit codes: 0 every finding compliant, not applicable or waived; 1 at least one
    missing_fix, affected, investigate or needs_reboot; 3 at least one host error or unknown
    (and nothing for 1); 2 bad usage or input (an --output or --history that cannot be
    written is found before any host is contacted); 4 the audit ran but reports, retry file
    or history could not be written (the run document went to the fallback file named on
    stderr); 130 interrupted.
    """
    from remediate.audit.session import AuditRequest
    from remediate.audit.workers import default_workers
    from remediate.report.registry import parse_formats

    found, connect = prepare_run(
        inventory,
        sources,
        vault_password_file,
        vault_id,
        ask_vault_pass,
        limit,
        list_hosts_only,
        allow_insecure=allow_insecure,
        ask_pass=ask_pass,
        accept_new_host_keys=accept_new_host_keys,
    )
    request = AuditRequest(
        inventory=found,
        playbooks=tuple(playbooks or [DEFAULT_PLAYBOOKS]),
        limit=limit,
        since=duration("--since", since),
        forks=forks,
        timeout=timeout,
        workers=workers or default_workers(),
        formats=parse_formats(report_format),
        output=output,
        waivers=waivers,
        fail_percent=fail_percent,
        connect=connect,
        history=None if no_history else (history or output / "history.sqlite"),
        generated_by=who(),
        step_lister=step_lister(connect.vault_passwords),
    )
    outcome = audit_on_console(request)
    if outcome.unwritten:
        raise typer.Exit(ExitCode.NOT_WRITTEN)
    if outcome.run.interrupted:
        raise typer.Exit(ExitCode.INTERRUPTED)
    raise typer.Exit(outcome.run.exit_code())


def collect(
    inventory: InventoryArg = None,
    sources: InventoryOption = None,
    playbooks: PlaybookPaths = None,
    limit: Limit = None,
    since: Since = "7d",
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print each host's evidence as one JSON line (for scripts)."),
    ] = False,
    timeout: Timeout = 120.0,
    ask_pass: AskPass = False,
    allow_insecure: AllowInsecure = False,
    vault_password_file: VaultPasswordFiles = None,
    vault_id: VaultIds = None,
    ask_vault_pass: AskVaultPass = False,
    list_hosts_only: ListHosts = False,
) -> None:
    """Collect and print each host's evidence (for writing and debugging playbooks).

    A readable summary per host by default: its OS and Exchange, the files, services,
    components and events the playbooks ask about, or its error, or why it was skipped.
    With --json, one JSON document per host and line: its evidence, its error (a host whose
    settings cannot work: kind `configuration`), or why it was skipped (an
    ansible_connection remediate does not use). Exit codes: 0 every contacted host answered;
    3 some could not; 2 bad input.
    """
    from dataclasses import asdict
    from datetime import UTC, datetime

    from remediate.audit.host import collect as collect_host
    from remediate.audit.request import collect_request
    from remediate.audit.session import select_for_run
    from remediate.connect.targets import targets_for
    from remediate.errors import TransportError
    from remediate.rules.playbook import load_playbooks

    found, connect = prepare_run(
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
    selected = select_for_run(found, limit, connect)
    show_selected(selected)
    request = collect_request(
        load_playbooks(playbooks or [DEFAULT_PLAYBOOKS]),
        datetime.now(UTC) - duration("--since", since),
    )
    targets = targets_for(selected.hosts, connect)
    for skip in targets.skipped:  # never contacted, not a failure
        skipped = {"connection": skip.connection, "reason": skip.reason}
        if as_json:
            _print_json({"host": skip.name, "skipped": skipped})
        else:
            console.print(literal(f"{skip.name}: skipped ({skip.connection}: {skip.reason})"))
    failures = 0
    for target in targets.targets:
        transport = None
        evidence = None
        try:
            transport = target.connect()
            evidence = collect_host(transport, target.name, request, target.shell).evidence
            document: dict[str, object] = {"host": target.name, "evidence": asdict(evidence)}
        except TransportError as exc:
            failures += 1
            error = {"kind": exc.reason, "message": exc.message, "hint": exc.hint}
            document = {"host": target.name, "error": error}
        except Exception as exc:  # one host's surprise must not lose the others' evidence
            failures += 1
            error = {"kind": "internal", "message": f"unexpected {type(exc).__name__}"}
            document = {"host": target.name, "error": error}
        finally:
            if transport is not None:
                transport.close()
        if as_json:
            _print_json(document)
        elif evidence is not None:
            print_evidence(evidence)
        else:
            error = document["error"]
            console.print(literal(f"{target.name}: error ({error['kind']}): {error['message']}"))  # type: ignore[index]
    if not as_json:
        contacted = len(targets.targets)
        console.print(
            f"collected from {contacted - failures} of {contacted} host(s)"
            + (f"; {len(targets.skipped)} skipped" if targets.skipped else "")
            + "; --json prints every detail"
        )
    raise typer.Exit(ExitCode.HOST_ERRORS if failures else ExitCode.OK)


def _print_json(document: dict[str, object]) -> None:
    import json

    console.out(json.dumps(document, default=str, ensure_ascii=False))


def step_lister(vault_passwords: tuple[VaultPassword, ...]) -> StepLister:
    """The HTML report's steps per host, made as `remediate plan` makes them: the host's
    templated variables fill the steps (remediation is the CLI's to import, not the audit's).

    Remediation is imported when the report first asks for steps: an audit writing no HTML
    report never loads it (50 ms of the run's start, issue 18)."""

    def steps(host: Host, playbook: Playbook, evidence: Evidence) -> list[str]:
        from remediate.connect.templating import rendered
        from remediate.remediation.steps import plan_steps

        host_vars = rendered(host, vault_passwords=vault_passwords).vars
        return [
            f"{step.name}: {step.display}" for step in plan_steps(playbook, evidence, host_vars)
        ]

    return steps
