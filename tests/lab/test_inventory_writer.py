"""The inventory the lab writes names its files by absolute path, usable from any directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab

FLEET = """
name: writer
address_base: 127.21.9.1
hosts:
  - name: ex2003.lab.local
    exchange: {product: Microsoft Exchange Server 2003, version: "6.5", build: 6.5.7638.1}
  - name: w2k.lab.local
    os: {caption: Microsoft Windows 2000 Server, version: 5.0.2195, build: 2195,
         service_pack: 4, powershell: null, winrm: false}
"""


def _variables(inventory: Path) -> dict[str, str]:
    """The `name=value` lines of the inventory's [group:vars] sections."""
    found: dict[str, str] = {}
    for line in inventory.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and " " not in name and not line.startswith("#"):
            found[name] = value
    return found


def test_ca_and_known_hosts_are_absolute_paths_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fleet = parse_fleet(FLEET, "writer.yml")
    with Lab(fleet, port_mode="ephemeral", state_dir=Path("state"), admin_port=None) as lab:
        inventory = write_inventory(lab, Path("inventory") / "hosts.ini", scheme="https")
        variables = _variables(inventory)
    ca = Path(variables["ansible_winrm_ca_trust_path"])
    known_hosts = Path(variables["remediate_known_hosts"])
    assert ca.is_absolute() and known_hosts.is_absolute()
    assert ca == tmp_path.resolve() / "state" / "lab-ca.pem"
    assert known_hosts == tmp_path.resolve() / "inventory" / "known_hosts"
    monkeypatch.chdir("/")  # what the inventory names is found from anywhere
    assert ca.is_file() and known_hosts.is_file()
    assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
