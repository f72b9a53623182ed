"""Shared fixtures: small lab fleets started in-process on loopback addresses, and audit
requests against them."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from remediate.audit.session import AuditRequest
from remediate.connect.targets import ConnectOptions
from remediate.lab.fleet import Fleet, load_fleet, parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.transport.winrm import WinRMSettings, WinRMTransport

PASSWORD = "Lab-Passw0rd!"

pytest_plugins = ["tests.kerberos_realm"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kerberos: needs the MIT Kerberos realm fixture (kerberos_realm)"
    )


def interruptible() -> None:
    """`preexec_fn` for a child the test stops with SIGINT, as Ctrl-C would.

    A shell starts background jobs with SIGINT ignored (POSIX), the child inherits that, and a
    Python that starts with SIGINT ignored never raises KeyboardInterrupt: run from such a job,
    the test would see the command finish instead of being interrupted.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def lab_winrm(lab: Lab, name: str, **overrides: object) -> WinRMTransport:
    """A WinRM transport (NTLM over HTTP) to one lab host; settings may be overridden."""
    endpoint = lab.endpoint(name)
    settings = {
        "address": endpoint.address,
        "port": endpoint.http_port or 0,
        "scheme": "http",
        "auth": "ntlm",
        "username": "LAB\\Administrator",
        "password": PASSWORD,
        "operation_timeout": 5,
        "read_timeout": 15,
        **overrides,
    }
    return WinRMTransport(WinRMSettings(**settings), host=name)  # type: ignore[arg-type]


SMALL_FLEET = """
name: small
address_base: 127.21.0.1
hosts:
  - name: ex2003.lab.local
    exchange: {product: Microsoft Exchange Server 2003, version: "6.5", build: 6.5.7638.1}
  - name: quota.lab.local
    endpoints: {max_shells_per_user: 2}
  - name: w2k.lab.local
    os:
      caption: Microsoft Windows 2000 Server
      version: 5.0.2195
      build: 2195
      service_pack: 4
      powershell: null
      winrm: false
  - name: nopass.lab.local
    faults: {wrong_password: true}
  - name: slow.lab.local
    faults: {latency_ms: 30}
  - name: corrupt.lab.local
    faults: {corrupt_output: true}
  - name: slowprobe.lab.local
    faults: {slow_probe_seconds: 1.5}
  - name: ops.lab.local
    endpoints: {max_concurrent_operations: 2}
  - name: down.lab.local
    faults: {down: true}
  - name: reboot.lab.local
    faults: {reboot_seconds: 1.0}
  - name: winrm11.lab.local
    description: WinRM 1.1 on Windows 2003 without WMF 2.0, so no PowerShell
    os: {powershell: null}
    exchange: {product: Microsoft Exchange 2000 Server, version: "6.0", build: 6.0.6249.0,
               service_pack: 3}
    services: [{name: MSExchangeMTA, state: stopped}]
"""


def small_fleet() -> Fleet:
    return parse_fleet(SMALL_FLEET, "small.yml")


@pytest.fixture(autouse=True)
def own_state_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test keeps the per-user index of history databases (remediate.history) in a
    folder of its own, never in the home of whoever runs the tests; subprocesses inherit it."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(small_fleet(), port_mode="ephemeral") as running:
        yield running


ROOT = Path(__file__).resolve().parents[1]
DEMO_FLEET = ROOT / "inventory" / "lab" / "demo.yml"
PLAYBOOKS = ROOT / "playbooks"


@pytest.fixture(scope="module")
def demo_lab() -> Iterator[Lab]:
    """The demo fleet, served on loopback addresses for the tests of one module."""
    with Lab(load_fleet(DEMO_FLEET), port_mode="ephemeral") as lab:
        yield lab


@pytest.fixture(scope="module")
def demo_inventory(demo_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Ansible inventory (and known_hosts) for the running demo lab."""
    return write_inventory(demo_lab, tmp_path_factory.mktemp("demo") / "hosts.ini")


AuditRequestFactory = Callable[..., AuditRequest]


@pytest.fixture(scope="session")
def audit_request() -> AuditRequestFactory:
    """Make an AuditRequest for a lab inventory: `audit_request(inventory, output, **changes)`.

    By default the shipped playbooks, 20 s per host, JSON reports, and the known_hosts file the
    lab wrote beside the inventory (so SSH hosts are trusted); keywords change any field.
    Session-scoped, so module-scoped fixtures can use it too.
    """

    def make(inventory: Path, output: Path, **changes: Any) -> AuditRequest:
        fields: dict[str, Any] = {
            "playbooks": (PLAYBOOKS,),
            "timeout": 20.0,
            "connect": ConnectOptions(known_hosts=(str(inventory.with_name("known_hosts")),)),
            **changes,
        }
        return AuditRequest(inventory=inventory, output=output, **fields)

    return make
