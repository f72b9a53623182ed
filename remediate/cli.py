"""The `remediate` command line: parse options, call the library, render, pick the exit code."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from remediate import __version__
from remediate.errors import RemediateError

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

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_HOST_ERRORS = 3
EXIT_INTERRUPTED = 130


def _fail(error: RemediateError | Exception, code: int = EXIT_USAGE) -> typer.Exit:
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
    raise typer.Exit(EXIT_OK)


@app.command()
def demo(
    fleet: Annotated[Path, typer.Option(help="Fleet YAML file.")] = Path("inventory/lab/demo.yml"),
) -> None:
    """Start the lab with the demo fleet and check that every host answers over its protocol."""
    from remediate.demo import check_fleet, demo_lab
    from remediate.lab.fleet import FleetError
    from remediate.lab.server import LabError

    try:
        with demo_lab(fleet) as lab:
            console.print(f"lab started: {len(lab.hosts)} hosts on loopback addresses")
            checks = check_fleet(lab)
            shells_left = lab.open_shells()
    except (FleetError, LabError) as exc:
        raise _fail(exc) from None
    table = Table(title="demo fleet: does every host answer as modelled?")
    for column in ("host", "address", "protocol", "expected", "outcome", "detail", "ok"):
        table.add_column(column, overflow="fold")
    for check in checks:
        mark = "[green]yes[/]" if check.ok else "[red]NO[/]"
        table.add_row(
            check.name,
            check.address,
            check.protocol,
            check.expected,
            check.outcome,
            check.detail[:60],
            mark,
        )
    console.print(table)
    failed = [c for c in checks if not c.ok]
    console.print(
        f"{len(checks) - len(failed)} of {len(checks)} hosts as modelled; "
        f"shells left open on the lab: {shells_left}"
    )
    raise typer.Exit(EXIT_HOST_ERRORS if failed or shells_left else EXIT_OK)


@playbook_app.command("lint")
def playbook_lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Playbook files or folders (default: playbooks/).")
    ] = None,
) -> None:
    """Validate playbooks; every problem names the file, the line and the YAML path."""
    from remediate.playbook import PlaybookError, load_playbook, playbook_files

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
    raise typer.Exit(EXIT_USAGE if problems else EXIT_OK)


@playbook_app.command("show")
def playbook_show(
    playbook_id: Annotated[str, typer.Argument(help="Article id, e.g. KB840469 or Q232602.")],
    playbooks: Annotated[Path, typer.Option(help="Playbook folder.")] = Path("playbooks"),
) -> None:
    """Print one playbook readably: applicability, symptoms, fix table, remediation."""
    from remediate.playbook import PlaybookError, load_playbooks
    from remediate.render_text import playbook_text

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
        sys.exit(EXIT_INTERRUPTED)
