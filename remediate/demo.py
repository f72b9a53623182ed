"""`remediate demo`: start the lab with the demo fleet and check every host answers.

Until the audit lands, the demo proves the wire: each host is asked for its name over the
protocol it offers (WinRM with NTLM and message encryption, or SSH), in parallel, and the
hosts modelled as down or with a wrong password must fail in exactly that way.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from remediate.errors import TransportError
from remediate.lab.fleet import load_fleet
from remediate.lab.server import Lab
from remediate.transport import Transport
from remediate.transport.ssh import SshSettings, SshTransport
from remediate.transport.winrm import WinRMSettings, WinRMTransport

DEMO_FLEET = Path("inventory/lab/demo.yml")


@dataclass(frozen=True)
class HostCheck:
    name: str
    address: str
    protocol: str
    expected: str
    outcome: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.expected == self.outcome


@contextmanager
def demo_lab(fleet_path: Path = DEMO_FLEET) -> Iterator[Lab]:
    with Lab(load_fleet(fleet_path), port_mode="ephemeral") as lab:
        yield lab


def _write_known_hosts(lab: Lab) -> Path:
    path = lab.state_dir / "known_hosts"
    path.write_text(
        "".join(
            lab.ssh_host_key_line(name) + "\n"
            for name in lab.hosts
            if lab.endpoint(name).ssh_port and not lab.host(name).spec.faults.down
        )
    )
    return path


def _transport_for(lab: Lab, name: str, known_hosts: Path) -> tuple[str, Transport]:
    host = lab.host(name)
    endpoint = lab.endpoint(name)
    creds = host.spec.credentials
    if endpoint.http_port is not None:
        settings = WinRMSettings(
            address=endpoint.address,
            port=endpoint.http_port,
            scheme="http",
            auth="ntlm",
            username=f"{creds.domain}\\{creds.username}",
            password=creds.password,
            operation_timeout=5,
            read_timeout=15,
        )
        return "winrm", WinRMTransport(settings, host=name)
    assert endpoint.ssh_port is not None
    ssh = SshSettings(
        address=endpoint.address,
        port=endpoint.ssh_port,
        username=creds.username,
        password=creds.password,
        known_hosts=(str(known_hosts),),
        connect_timeout=5,
    )
    return "ssh", SshTransport(ssh, host=name)


def check_host(lab: Lab, name: str, known_hosts: Path) -> HostCheck:
    """Ask one host its name; classify the outcome."""
    faults = lab.host(name).spec.faults
    expected = "unreachable" if faults.down else "authentication" if faults.wrong_password else "ok"
    protocol, transport = _transport_for(lab, name, known_hosts)
    try:
        result = transport.run_command("hostname")
        outcome, detail = "ok", result.stdout.decode(errors="replace").strip()
    except TransportError as exc:
        outcome, detail = exc.reason, exc.message
    finally:
        transport.close()
    return HostCheck(name, lab.endpoint(name).address, protocol, expected, outcome, detail)


def check_fleet(lab: Lab, workers: int = 16) -> list[HostCheck]:
    known_hosts = _write_known_hosts(lab)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda n: check_host(lab, n, known_hosts), lab.hosts))
