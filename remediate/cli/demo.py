"""`remediate demo`: start the lab with the demo fleet and audit it, as a user would.

The lab serves the demo fleet on loopback addresses; an Ansible inventory and known_hosts
file are written for it; then `remediate audit` runs against that inventory with the shipped
playbooks, writes its reports, and the demo shows how many shells were left open (none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from remediate.audit.session import AuditOutcome, AuditRequest, audit_and_report
from remediate.connect.targets import ConnectOptions
from remediate.lab.fleet import load_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab

DEMO_FLEET = Path("inventory/lab/demo.yml")


@dataclass(frozen=True)
class DemoOutcome:
    audit: AuditOutcome
    inventory: Path
    shells_left: int
    hosts: int


def run_demo(
    console: Console,
    fleet_path: Path = DEMO_FLEET,
    output: Path = Path("reports"),
    playbooks: Path = Path("playbooks"),
) -> DemoOutcome:
    fleet = load_fleet(fleet_path)
    with Lab(fleet, port_mode="ephemeral") as lab:
        console.print(f"lab: {len(lab.hosts)} simulated hosts on loopback addresses")
        inventory = write_inventory(lab, output / "demo" / "hosts.ini", source=str(fleet_path))
        console.print(f"inventory: {inventory}")
        request = AuditRequest(
            inventory=inventory,
            playbooks=(playbooks,),
            output=output,
            timeout=30.0,
            connect=ConnectOptions(known_hosts=(str(inventory.with_name("known_hosts")),)),
            history=output / "history.sqlite",
            formats=("html", "json", "junit", "csv"),
        )
        outcome = audit_and_report(request, console)
        shells = lab.open_shells()
    console.print(f"shells left open on the lab: {shells}")
    return DemoOutcome(outcome, inventory, shells, len(fleet.hosts))
