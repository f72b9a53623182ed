"""`remediate lab up` and `remediate demo`: the simulated fleet, served or audited as a user would.

The demo serves the demo fleet on loopback addresses, writes an Ansible inventory and
known_hosts file for it, runs the audit against that inventory with the shipped playbooks
(the same code path and console as `remediate audit`), and shows how many shells were left
open (none).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from remediate.cli.console import console, literal
from remediate.cli.options import (
    DEFAULT_FLEET,
    DEFAULT_PLAYBOOKS,
    DEFAULT_REPORTS,
    FleetFile,
    ReportFolder,
    who,
)
from remediate.errors import ExitCode, InputError

if TYPE_CHECKING:
    from remediate.audit.session import AuditOutcome

group = typer.Typer(help="The lab: a simulated Exchange fleet on loopback addresses.")


@contextlib.contextmanager
def _lab_errors() -> Iterator[None]:
    """The lab's own errors (a bad fleet file, a port in use) shown as bad input."""
    from remediate.lab.fleet import FleetError
    from remediate.lab.server import LabError

    try:
        yield
    except (FleetError, LabError) as exc:
        raise InputError(str(exc)) from None


@group.command("up")
def lab_up(
    fleet: FleetFile = DEFAULT_FLEET,
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
    kerberos_keytab: Annotated[
        Path | None,
        typer.Option(
            help="Make the hosts domain members that accept Kerberos: the keytab with their "
            "HTTP/<host>.<domain> and HTTP/<HOST> keys (overrides the fleet's kerberos.keytab)."
        ),
    ] = None,
    kerberos_realm: Annotated[
        str, typer.Option(help="The realm of --kerberos-keytab (the domain in upper case).")
    ] = "LAB.LOCAL",
) -> None:
    """Run the lab in the foreground until Ctrl-C."""
    from remediate.lab.fleet import KerberosSettings, load_fleet
    from remediate.lab.inventory_writer import write_inventory as write_hosts
    from remediate.lab.server import Lab

    if ports not in ("standard", "ephemeral", "localhost"):
        raise InputError(f"--ports must be standard, ephemeral or localhost, not {ports!r}")
    if scheme not in ("http", "https"):
        raise InputError(f"--scheme must be http or https, not {scheme!r}")
    with _lab_errors():
        model = load_fleet(fleet)
    state = state_dir or fleet.parent / ".state" / fleet.stem
    kerberos = None
    if kerberos_keytab is not None:
        try:
            kerberos = KerberosSettings(realm=kerberos_realm, keytab=kerberos_keytab.resolve())
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            message = "; ".join(e["msg"] for e in getattr(exc, "errors", lambda: [])())
            raise InputError(f"--kerberos-realm: {message or exc}") from None
    lab = Lab(
        model,
        port_mode=ports,  # type: ignore[arg-type]
        state_dir=state,
        admin_port=admin_port,
        kerberos=kerberos,
    )
    with _lab_errors():
        lab.start()
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
        console.print(literal(f"CA certificate: {lab.ca_path}"))
        if lab.kerberos is not None:
            domain = lab.kerberos.dns_domain
            console.print(
                literal(
                    f"Kerberos realm {lab.kerberos.realm} (keytab {lab.kerberos.keytab}): "
                    f"clients name a host HTTP/<host>.{domain} "
                    "(ansible_winrm_kerberos_hostname_override)"
                )
            )
        console.print(f"admin endpoint: {lab.admin_url}/hosts")
        if write_inventory is not None:
            written = write_hosts(lab, write_inventory, scheme=scheme, source=str(fleet))
            console.print(literal(f"inventory written: {written}"))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            # Said only once Ctrl-C is caught: a caller that stops the lab as soon as it reads
            # this line must not get the traceback of an uncaught KeyboardInterrupt.
            console.print("serving; press Ctrl-C to stop")
            stop.wait()
    finally:
        lab.stop()
    raise typer.Exit(ExitCode.OK)


@dataclass(frozen=True)
class DemoOutcome:
    audit: AuditOutcome
    inventory: Path
    shells_left: int
    hosts: int


def run_demo(
    fleet_path: Path = DEFAULT_FLEET,
    output: Path = DEFAULT_REPORTS,
    playbooks: Path = DEFAULT_PLAYBOOKS,
) -> DemoOutcome:
    from remediate.audit.session import AuditRequest
    from remediate.cli.audit import audit_on_console, step_lister
    from remediate.connect.targets import ConnectOptions
    from remediate.lab.fleet import load_fleet
    from remediate.lab.inventory_writer import write_inventory
    from remediate.lab.server import Lab
    from remediate.outputs import check_folder

    fleet = load_fleet(fleet_path)
    # The demo writes its inventory there before the audit checks the folder itself.
    check_folder(output, "report folder")
    with Lab(fleet, port_mode="ephemeral") as lab:
        console.print(f"lab: {len(lab.hosts)} simulated hosts on loopback addresses")
        inventory = write_inventory(lab, output / "demo" / "hosts.ini", source=str(fleet_path))
        console.print(literal(f"inventory: {inventory}"))
        request = AuditRequest(
            inventory=inventory,
            playbooks=(playbooks,),
            output=output,
            timeout=30.0,
            connect=ConnectOptions(known_hosts=(str(inventory.with_name("known_hosts")),)),
            history=output / "history.sqlite",
            formats=("html", "json", "junit", "csv", "md"),
            generated_by=who(),
            step_lister=step_lister(()),
        )
        outcome = audit_on_console(request)
        shells = lab.open_shells()
    console.print(f"shells left open on the lab: {shells}")
    return DemoOutcome(outcome, inventory, shells, len(fleet.hosts))


def demo(fleet: FleetFile = DEFAULT_FLEET, output: ReportFolder = DEFAULT_REPORTS) -> None:
    """Start the lab with the demo fleet and audit it with the shipped playbooks.

    Exits 0 when the audit ran (its findings are the point of the demo), 2 on bad input,
    4 when its reports could not be written (the run document went to a fallback file).
    """
    with _lab_errors():
        outcome = run_demo(fleet, output)
    run = outcome.audit.run
    console.print(
        f"demo: {outcome.hosts} hosts audited in "
        f"{(run.finished - run.started).total_seconds():.1f} s; "  # type: ignore[operator]
        f"the audit's exit code would be {run.exit_code()}"
    )
    if outcome.audit.unwritten:
        raise typer.Exit(ExitCode.NOT_WRITTEN)
    print_next_steps(outcome, output)
    raise typer.Exit(ExitCode.HOST_ERRORS if outcome.shells_left else ExitCode.OK)


def print_next_steps(outcome: DemoOutcome, output: Path) -> None:
    """What to open and try after the demo: the reports, then the commands of the workflow."""
    import shlex

    from remediate.rules.findings import NON_COMPLIANT

    run = outcome.audit.run
    by_extension = {path.suffix: path for path in outcome.audit.reports}
    console.print("next:")
    if ".html" in by_extension:
        page = by_extension[".html"].with_name("latest.html").resolve()
        console.print(literal(f"  open the report in a browser:  {page.as_uri()}"))
    if ".md" in by_extension:
        console.print(literal(f"  read the summary to mail:      {output / 'latest.md'}"))
    console.print("  list the runs:                 remediate history")
    console.print("  run the demo again for drift:  make demo   (or remediate demo)")
    needing = next((f for r in run.results for f in r.findings if f.status in NON_COMPLIANT), None)
    if needing is not None:
        hosts = "lab-hosts.ini"
        plan = shlex.join(
            [
                "remediate", "plan", hosts, "--playbook", needing.playbook,
                "--limit", needing.host,
            ]
        ) + " --key ~/.ssh/id_ed25519"  # fmt: skip
        console.print(
            literal(f"  plan a fix: in one terminal    remediate lab up --write-inventory {hosts}")
        )
        console.print(literal(f"              in another         {plan}"))
