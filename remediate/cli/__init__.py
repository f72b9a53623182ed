"""The `remediate` command line: parse options, call the library, render, pick the exit code."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from remediate import __version__
from remediate.errors import ExitCode, RemediateError

app = typer.Typer(
    name="remediate",
    help="Agentless audit and remediation of Exchange/Windows fleets from KB articles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
lab_app = typer.Typer(help="The lab: a simulated Exchange fleet on loopback addresses.")
app.add_typer(lab_app, name="lab")
playbook_app = typer.Typer(help="Check and read playbooks (one YAML file per KB article).")
app.add_typer(playbook_app, name="playbook")

# Piped output (cron, CI logs) gets a wide fixed width so host names are not cut.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)

def _fail(error: RemediateError | Exception, code: int = ExitCode.USAGE) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {error}", markup=True, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"remediate {__version__}")


@lab_app.command("up")
def lab_up(
    fleet: Annotated[Path, typer.Option(help="Fleet YAML file.")] = Path("inventory/lab/demo.yml"),
    write_inventory: Annotated[
        Path | None, typer.Option(help="Write an Ansible hosts.ini (and known_hosts) here.")
    ] = None,
    ports: Annotated[
        str,
        typer.Option(
            help="standard: 5985/5986/22 on each host's own 127.x address (needs root); "
            "ephemeral: free ports on each host's address; localhost: free ports on 127.0.0.1."
        ),
    ] = "standard",
    scheme: Annotated[str, typer.Option(help="WinRM scheme written to the inventory.")] = "http",
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where SSH host keys and TLS files persist (default: beside the fleet)."),
    ] = None,
    admin_port: Annotated[
        int, typer.Option(help="Port of the JSON admin endpoint on 127.0.0.1.")
    ] = 0,
) -> None:
    """Run the lab in the foreground until Ctrl-C."""
    from remediate.lab.fleet import FleetError, load_fleet
    from remediate.lab.inventory_writer import write_inventory as write_hosts
    from remediate.lab.server import Lab, LabError

    if ports not in ("standard", "ephemeral", "localhost"):
        raise _fail(
            RemediateError(f"--ports must be standard, ephemeral or localhost, not {ports!r}")
        )
    if scheme not in ("http", "https"):
        raise _fail(RemediateError(f"--scheme must be http or https, not {scheme!r}"))
    try:
        model = load_fleet(fleet)
    except FleetError as exc:
        raise _fail(exc) from None
    state = state_dir or fleet.parent / ".state" / fleet.stem
    lab = Lab(model, port_mode=ports, state_dir=state, admin_port=admin_port)  # type: ignore[arg-type]
    try:
        lab.start()
    except LabError as exc:
        raise _fail(exc) from None
    try:
        table = Table(title=f"lab {model.name}: {len(lab.hosts)} hosts", show_lines=False)
        for column in ("host", "address", "http", "https", "ssh", "state"):
            table.add_column(column)
        for endpoint in lab.endpoints():
            faults = lab.host(endpoint.name).spec.faults
            state_text = (
                "down" if faults.down else "wrong password" if faults.wrong_password else "up"
            )
            table.add_row(
                endpoint.name,
                endpoint.address,
                str(endpoint.http_port or "-"),
                str(endpoint.https_port or "-"),
                str(endpoint.ssh_port or "-"),
                state_text,
            )
        console.print(table)
        console.print(f"CA certificate: {lab.ca_path}")
        console.print(f"admin endpoint: {lab.admin_url}/hosts")
        if write_inventory is not None:
            written = write_hosts(lab, write_inventory, scheme=scheme, source=str(fleet))
            console.print(f"inventory written: {written}")
        console.print("serving; press Ctrl-C to stop")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        lab.stop()
    raise typer.Exit(ExitCode.OK)


@app.command()
def demo(
    fleet: Annotated[Path, typer.Option(help="Fleet YAML file.")] = Path("inventory/lab/demo.yml"),
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder.")] = Path(
        "reports"
    ),
) -> None:
    """Start the lab with the demo fleet and audit it with the shipped playbooks.

    Exits 0 when the audit ran (its findings are the point of the demo), 2 on bad input.
    """
    from remediate.cli.demo import run_demo
    from remediate.lab.fleet import FleetError
    from remediate.lab.server import LabError

    try:
        outcome = run_demo(console, fleet, output)
    except (FleetError, LabError) as exc:
        raise _fail(exc) from None
    except RemediateError as exc:
        raise _fail(exc) from None
    run = outcome.audit.run
    console.print(
        f"demo: {outcome.hosts} hosts audited in "
        f"{(run.finished - run.started).total_seconds():.1f} s; "  # type: ignore[operator]
        f"the audit's exit code would be {run.exit_code()}"
    )
    raise typer.Exit(ExitCode.HOST_ERRORS if outcome.shells_left else ExitCode.OK)


@playbook_app.command("lint")
def playbook_lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Playbook files or folders (default: playbooks/).")
    ] = None,
) -> None:
    """Validate playbooks; every problem names the file, the line and the YAML path."""
    from remediate.rules.playbook import PlaybookError, load_playbook, playbook_files

    try:
        files = playbook_files(paths or [Path("playbooks")])
    except PlaybookError as exc:
        raise _fail(exc) from None
    problems = 0
    for path in files:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            problems += 1
            errors.print(f"[red]FAIL[/] {exc}", markup=True, soft_wrap=True)
            continue
        console.print(f"ok   {path} ({playbook.id})")
    console.print(f"{len(files) - problems} of {len(files)} playbooks valid")
    raise typer.Exit(ExitCode.USAGE if problems else ExitCode.OK)


@playbook_app.command("show")
def playbook_show(
    playbook_id: Annotated[str, typer.Argument(help="Article id, e.g. KB840469 or Q232602.")],
    playbooks: Annotated[Path, typer.Option(help="Playbook folder.")] = Path("playbooks"),
) -> None:
    """Print one playbook readably: applicability, symptoms, fix table, remediation."""
    from remediate.cli.render import playbook_text
    from remediate.rules.playbook import PlaybookError, load_playbooks

    try:
        found = {p.id.lower(): p for p in load_playbooks([playbooks])}
    except PlaybookError as exc:
        raise _fail(exc) from None
    playbook = found.get(playbook_id.lower())
    if playbook is None:
        known = ", ".join(sorted(p.id for p in found.values()))
        raise _fail(RemediateError(f"no playbook {playbook_id!r} in {playbooks} (known: {known})"))
    for renderable in playbook_text(playbook):
        console.print(renderable)


def _who() -> str:
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


kb_app = typer.Typer(help="Knowledge Base articles: turn them into draft playbooks.")
app.add_typer(kb_app, name="kb")


@kb_app.command("import")
def kb_import(
    articles: Annotated[
        list[Path], typer.Argument(help="Article files: text, markdown or saved HTML.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for draft playbooks.")
    ] = Path("playbooks"),
    output_format: Annotated[
        str, typer.Option("--format", help="yaml: write draft playbooks; json: print the facts.")
    ] = "yaml",
    article_id: Annotated[
        str | None, typer.Option("--id", help="Article number when the text does not name itself.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing playbook file.")] = False,
) -> None:
    """Read KB articles and write draft playbooks marked `review: required`.

    What was found and what was unsure goes to stderr; with --format json one JSON object per
    article goes to stdout (article, title, products, events, fix_files, fixed_in).
    """
    import json

    from remediate.kb.draft import draft_playbook, facts_json, playbook_yaml
    from remediate.kb.extract import extract
    from remediate.kb.read import read_article

    if output_format not in ("yaml", "json"):
        raise _fail(RemediateError(f"--format must be yaml or json, not {output_format!r}"))
    failures = 0
    for path in articles:
        try:
            facts = extract(read_article(path), str(path))
            if output_format == "json":
                console.out(json.dumps(facts_json(facts), ensure_ascii=False))
            else:
                draft = draft_playbook(facts, article_id if len(articles) == 1 else None)
                target = output / f"{draft['id']}.yml"
                if target.exists() and not force:
                    raise RemediateError(
                        f"{target} exists", file=str(path), hint="use --force or another --output"
                    )
                output.mkdir(parents=True, exist_ok=True)
                target.write_text(playbook_yaml(draft), encoding="utf-8")
                errors.print(f"{path}: draft written to {target}", markup=False)
            events = ", ".join(str(e.event_id) for e in facts.events) or "none"
            errors.print(
                f"{path}: {len(facts.events)} event(s) ({events}), "
                f"{len(facts.fix_files)} fix file(s), fixed in {facts.fixed_in or '-'}",
                markup=False,
            )
            for warning in facts.warnings:
                errors.print(f"{path}: unsure: {warning}", markup=False)
        except RemediateError as exc:
            failures += 1
            errors.print(f"error: {exc}", markup=False)
    raise typer.Exit(ExitCode.USAGE if failures else ExitCode.OK)


history_app = typer.Typer(
    help="Past runs: list them, prune them.", invoke_without_command=True, no_args_is_help=False
)
app.add_typer(history_app, name="history")


@history_app.callback()
def history_list(
    context: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    database: Annotated[Path, typer.Option("--history", help="History database.")] = Path(
        "reports/history.sqlite"
    ),
) -> None:
    """List recorded runs, newest first."""
    if context.invoked_subcommand is not None:
        return
    from remediate.history import History

    if not database.exists():
        raise _fail(RemediateError(f"{database}: no history yet", hint="run `remediate audit`"))
    try:
        with History(database) as store:
            rows = store.runs(limit)
    except RemediateError as exc:
        raise _fail(exc) from None
    table = Table(title=f"runs in {database}")
    for column in ("run id", "started", "inventory", "hosts", "exit", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        summary = ", ".join(f"{k} {v}" for k, v in row.summary.items() if v)
        flag = " (interrupted)" if row.interrupted else ""
        table.add_row(
            row.run_id,
            f"{row.started:%Y-%m-%d %H:%M}",
            row.inventory,
            str(row.hosts),
            f"{row.exit_code}{flag}",
            summary,
        )
    console.print(table)


@history_app.command("prune")
def history_prune(
    keep: Annotated[str, typer.Option(help="Keep runs this recent: 90d, 12w.")] = "90d",
    database: Annotated[Path, typer.Option("--history", help="History database.")] = Path(
        "reports/history.sqlite"
    ),
) -> None:
    """Forget runs older than --keep."""
    from datetime import UTC, datetime

    from remediate.history import History

    try:
        with History(database) as store:
            gone = store.prune(_since(keep), datetime.now(UTC))
    except RemediateError as exc:
        raise _fail(exc) from None
    console.print(f"pruned {gone} run(s) older than {keep} from {database}")


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="Run id (or its unique beginning).")],
    report_format: Annotated[
        str, typer.Option("--format", "-f", help="html,json,junit,csv")
    ] = "html,json",
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder.")] = Path(
        "reports"
    ),
    database: Annotated[Path, typer.Option("--history", help="History database.")] = Path(
        "reports/history.sqlite"
    ),
    playbooks: Annotated[
        list[Path] | None, typer.Option("--playbooks", "-p", help="Playbooks (for titles, steps).")
    ] = None,
) -> None:
    """Render a past run again from the history database."""
    from remediate.history import History
    from remediate.report.document import run_from_document
    from remediate.report.registry import parse_formats, write_reports
    from remediate.rules.playbook import load_playbooks

    try:
        formats = parse_formats(report_format)
        with History(database) as store:
            document = store.document(run_id)
        run = run_from_document(document, load_playbooks(playbooks or [Path("playbooks")]))
        paths = write_reports(run, formats, output, "(from history)", _who())
    except RemediateError as exc:
        raise _fail(exc) from None
    for path in paths:
        console.print(f"report: {path}")


@app.command()
def plan(
    inventory: Annotated[Path, typer.Argument(help="Ansible-style INI inventory.")],
    playbook_id: Annotated[str, typer.Option("--playbook", help="Article id, e.g. KB840469.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Plan file to write.")] = Path(
        "plan.json"
    ),
    limit: Annotated[
        str | None, typer.Option("--limit", "-l", help="Ansible host pattern.")
    ] = None,
    playbooks: Annotated[Path, typer.Option(help="Playbook folder.")] = Path("playbooks"),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per host for the audit.")] = 120.0,
    ask_pass: Annotated[
        bool, typer.Option("--ask-pass", "-k", help="Prompt once for the password.")
    ] = False,
    allow_insecure: Annotated[
        bool, typer.Option(help="Allow Basic authentication over plain HTTP.")
    ] = False,
) -> None:
    """Audit the hosts for one article and write the plan of steps for those that need it.

    Exit codes: 0 planned; 3 some hosts could not be audited (listed, and left out of the plan);
    2 bad input.
    """
    from datetime import UTC, datetime

    from remediate.connect.targets import ConnectOptions
    from remediate.remediation.plan import save_plan
    from remediate.remediation.planning import make_plan
    from remediate.rules.playbook import load_playbooks

    try:
        found = {p.id.lower(): p for p in load_playbooks([playbooks])}
        playbook = found.get(playbook_id.lower())
        if playbook is None:
            raise RemediateError(f"no playbook {playbook_id!r} in {playbooks}")
        connect = ConnectOptions(allow_insecure=allow_insecure, ask_pass=ask_pass, timeout=timeout)
        made = make_plan(inventory, playbook, limit, _who(), connect, datetime.now(UTC))
        save_plan(made, output)
    except RemediateError as exc:
        raise _fail(exc) from None
    for host_plan in made.hosts:
        console.print(f"[bold]{host_plan.host}[/] ({host_plan.status_before}: {host_plan.reason})")
        for step in host_plan.steps:
            console.print(
                f"  {step.index}. [{step.kind}] {step.name}: {step.display}", markup=False
            )
    for left in made.not_audited:
        console.print(f"not audited, not planned: {left.host}: {left.reason}", markup=False)
    console.print(
        f"{len(made.hosts)} host(s) to remediate; plan {output} (sha256 {made.hash[:16]}...)"
    )
    console.print(f"next: remediate approve {output} --by <a second operator>")
    raise typer.Exit(ExitCode.HOST_ERRORS if made.not_audited else ExitCode.OK)


@app.command()
def approve(
    plan_file: Annotated[Path, typer.Argument(help="Plan file from `remediate plan`.")],
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

    try:
        approved = approve_plan(
            load_plan(plan_file),
            by,
            datetime.now(UTC),
            comment,
            timedelta(hours=valid_hours),
            allow_self_approval,
            recorded_by=_who(),
        )
        save_plan(approved, plan_file)
    except RemediateError as exc:
        raise _fail(exc) from None
    assert approved.approval is not None
    console.print(
        f"approved by {approved.approval.by} until {approved.approval.expires:%Y-%m-%d %H:%M} UTC"
    )


@app.command()
def apply(
    plan_file: Annotated[Path, typer.Argument(help="Approved plan file.")],
    forks: Annotated[int, typer.Option(min=1, help="Hosts changed at once.")] = 1,
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
    playbooks: Annotated[Path, typer.Option(help="Playbook folder.")] = Path("playbooks"),
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per host for audits.")] = 120.0,
    reboot_timeout: Annotated[
        float, typer.Option(min=1, help="Seconds a reboot may take.")
    ] = 600.0,
    ask_pass: Annotated[
        bool, typer.Option("--ask-pass", "-k", help="Prompt once for the password.")
    ] = False,
    allow_insecure: Annotated[
        bool, typer.Option(help="Allow Basic authentication over plain HTTP.")
    ] = False,
) -> None:
    """Apply an approved plan; every step is journalled beside the plan.

    In a terminal it asks before each host (and at each manual step) unless --yes.
    Exit codes: 0 every host done or no longer needing it; 1 a host failed, was declined or
    waits for an operator; 2 the plan may not run (unapproved, expired, tampered,
    self-approved).
    """
    from remediate.connect.targets import ConnectOptions
    from remediate.remediation.apply import UNFINISHED, ApplyOptions, apply_plan
    from remediate.remediation.plan import load_plan
    from remediate.rules.playbook import load_playbooks

    interactive = sys.stdin.isatty() and not yes

    def ask(question: str) -> bool:
        return typer.confirm(question, default=False)

    try:
        loaded = load_plan(plan_file)
        found = {p.id: p for p in load_playbooks([playbooks])}
        if loaded.playbook not in found:
            raise RemediateError(f"the plan's playbook {loaded.playbook} is not in {playbooks}")
        options = ApplyOptions(
            forks=forks,
            check=check,
            resume=resume,
            confirm_manual=confirm_manual,
            operator=_who(),
            reboot_timeout=reboot_timeout,
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
    except RemediateError as exc:
        raise _fail(exc) from None
    for outcome in outcomes:
        console.print(f"{outcome.host}: {outcome.status}: {outcome.message}", markup=False)
    unfinished = any(o.status in UNFINISHED for o in outcomes)
    raise typer.Exit(ExitCode.NEEDS_ACTION if unfinished else ExitCode.OK)


@app.command()
def journal(plan_file: Annotated[Path, typer.Argument(help="Plan file.")]) -> None:
    """Show the journal of a plan's applies."""
    from remediate.remediation.journal import Journal, journal_path

    try:
        entries = Journal(journal_path(plan_file)).entries()
    except RemediateError as exc:
        raise _fail(exc) from None
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


def _since(text: str) -> timedelta:
    from remediate.rules.playbook import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise _fail(RemediateError(f"--since: {exc}")) from None


@app.command()
def audit(
    inventory: Annotated[Path, typer.Argument(help="Ansible-style INI inventory (hosts.ini).")],
    playbooks: Annotated[
        list[Path] | None,
        typer.Option("--playbooks", "-p", help="Playbook folder or files (repeatable)."),
    ] = None,
    limit: Annotated[
        str | None,
        typer.Option("--limit", "-l", help="Ansible host pattern: web*:&exch:!down, @retryfile."),
    ] = None,
    since: Annotated[str, typer.Option(help="Look at events this far back: 7d, 12h, 2w.")] = "7d",
    forks: Annotated[int, typer.Option(min=1, max=1000, help="Hosts audited at once.")] = 50,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds one host may take, connection included.")
    ] = 120.0,
    report_format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="Report formats, comma separated: html,json,junit,csv."
        ),
    ] = "html,json",
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder.")] = Path(
        "reports"
    ),
    waivers: Annotated[Path | None, typer.Option(help="Waivers YAML file.")] = None,
    fail_percent: Annotated[
        float | None,
        typer.Option(min=0, max=100, help="Stop starting hosts once this % of hosts failed."),
    ] = None,
    ask_pass: Annotated[
        bool, typer.Option("--ask-pass", "-k", help="Prompt once for the password.")
    ] = False,
    allow_insecure: Annotated[
        bool, typer.Option(help="Allow Basic authentication over plain HTTP.")
    ] = False,
    accept_new_host_keys: Annotated[
        bool, typer.Option(help="Trust and save unknown SSH host keys (changed keys still fail).")
    ] = False,
    history: Annotated[
        Path | None,
        typer.Option(help="Run history database (default: history.sqlite in the report folder)."),
    ] = None,
    no_history: Annotated[bool, typer.Option(help="Do not record this run.")] = False,
) -> None:
    """Audit hosts against KB playbooks and write reports.

    Exit codes: 0 every finding compliant, not applicable or waived; 1 at least one
    missing_fix, affected, investigate or needs_reboot; 3 at least one host error or unknown
    (and nothing for 1); 2 bad usage or input; 130 interrupted.
    """
    from remediate.audit.session import AuditRequest, audit_and_report
    from remediate.connect.targets import ConnectOptions
    from remediate.report.registry import parse_formats

    try:
        request = AuditRequest(
            inventory=inventory,
            playbooks=tuple(playbooks or [Path("playbooks")]),
            limit=limit,
            since=_since(since),
            forks=forks,
            timeout=timeout,
            formats=parse_formats(report_format),
            output=output,
            waivers=waivers,
            fail_percent=fail_percent,
            connect=ConnectOptions(
                allow_insecure=allow_insecure,
                ask_pass=ask_pass,
                accept_new_host_keys=accept_new_host_keys,
            ),
            history=None if no_history else (history or output / "history.sqlite"),
            generated_by=_who(),
        )
        outcome = audit_and_report(request, console)
    except RemediateError as exc:
        raise _fail(exc) from None
    if outcome.run.interrupted:
        raise typer.Exit(ExitCode.INTERRUPTED)
    raise typer.Exit(outcome.run.exit_code())


@app.command()
def inventory(
    path: Annotated[Path, typer.Argument(help="Ansible-style INI inventory.")],
    limit: Annotated[
        str | None, typer.Option("--limit", "-l", help="Ansible host pattern.")
    ] = None,
    show_vars: Annotated[
        bool, typer.Option("--vars", help="Show every variable and the connection settings.")
    ] = False,
    allow_insecure: Annotated[bool, typer.Option(help="As for audit.")] = False,
) -> None:
    """List the hosts of an inventory with their groups and connection settings."""
    from remediate.cli.render import safe
    from remediate.connect.passwords import password_in_inventory
    from remediate.connect.variables import connection_settings, describe
    from remediate.inventory import hosts_for, load_inventory

    try:
        loaded = load_inventory(path)
        hosts = hosts_for(loaded, limit)
        table = Table(title=f"{path}: {len(hosts)} host(s)")
        for column in ("host", "groups", "connection"):
            table.add_column(column, overflow="fold")
        for host in hosts:
            choice = password_in_inventory(host)
            password = choice.secret if choice else None
            settings = connection_settings(host, allow_insecure=allow_insecure, password=password)
            rows = describe(host, settings)
            summary = ", ".join(f"{k}={v}" for k, v in rows[:4])
            table.add_row(safe(host.name), safe(", ".join(host.groups)), safe(summary))
            if show_vars:
                for key, value in rows[4:]:
                    table.add_row("", "", safe(f"{key}={value}"))
    except RemediateError as exc:
        raise _fail(exc) from None
    console.print(table)


@app.command()
def collect(
    inventory: Annotated[Path, typer.Argument(help="Ansible-style INI inventory.")],
    playbooks: Annotated[
        list[Path] | None, typer.Option("--playbooks", "-p", help="Playbook folder or files.")
    ] = None,
    limit: Annotated[
        str | None, typer.Option("--limit", "-l", help="Ansible host pattern.")
    ] = None,
    since: Annotated[str, typer.Option(help="Events this far back: 7d, 12h.")] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the evidence as JSON.")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds per host.")] = 120.0,
    ask_pass: Annotated[
        bool, typer.Option("--ask-pass", "-k", help="Prompt once for the password.")
    ] = False,
    allow_insecure: Annotated[
        bool, typer.Option(help="Allow Basic authentication over plain HTTP.")
    ] = False,
) -> None:
    """Collect and print each host's evidence (for writing and debugging playbooks)."""
    import json
    from dataclasses import asdict
    from datetime import UTC, datetime

    from remediate.audit.host import collect as collect_host
    from remediate.audit.request import collect_request
    from remediate.connect.targets import ConnectOptions, build_targets
    from remediate.errors import TransportError
    from remediate.inventory import hosts_for, load_inventory
    from remediate.rules.playbook import load_playbooks

    try:
        loaded = load_inventory(inventory)
        hosts = hosts_for(loaded, limit)
        request = collect_request(
            load_playbooks(playbooks or [Path("playbooks")]), datetime.now(UTC) - _since(since)
        )
        targets, _ = build_targets(
            hosts, ConnectOptions(allow_insecure=allow_insecure, ask_pass=ask_pass, timeout=timeout)
        )
    except RemediateError as exc:
        raise _fail(exc) from None
    failures = 0
    for target in targets:
        transport = target.connect()
        try:
            evidence = collect_host(transport, target.name, request, target.shell).evidence
            document = {"host": target.name, "evidence": asdict(evidence)}
        except TransportError as exc:
            failures += 1
            document = {"host": target.name, "error": {"kind": exc.reason, "message": exc.message}}
        finally:
            transport.close()
        if as_json:
            console.out(json.dumps(document, default=str, ensure_ascii=False))
        else:
            console.print_json(json.dumps(document, default=str))
    raise typer.Exit(ExitCode.HOST_ERRORS if failures else ExitCode.OK)


def main() -> None:
    """Console entry point."""
    if os.environ.get("REMEDIATE_DEBUG"):
        app()
        return
    try:
        app()
    except RemediateError as exc:
        errors.print(f"error: {exc}", markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted", markup=False)
        sys.exit(ExitCode.INTERRUPTED)
