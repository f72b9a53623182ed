"""The SSH transport against the lab: logons, host keys, stdin, reboots."""

from __future__ import annotations

import io
import time
from pathlib import Path

import paramiko
import pytest

from remediate.errors import (
    AuthenticationError,
    ConnectError,
    HostKeyError,
    HostTimeoutError,
    TransportError,
)
from remediate.lab.fleet import parse_fleet
from remediate.lab.protocols.ssh import load_or_create_host_key
from remediate.lab.server import Lab
from remediate.transport.ssh import SshSettings, SshTransport
from tests.conftest import PASSWORD

HOST = "w2k.lab.local"


def settings(lab: Lab, known_hosts: Path, **overrides: object) -> SshSettings:
    endpoint = lab.endpoint(HOST)
    values: dict[str, object] = {
        "address": endpoint.address,
        "port": endpoint.ssh_port,
        "username": "Administrator",
        "password": PASSWORD,
        "known_hosts": (str(known_hosts),),
        "connect_timeout": 5,
    }
    values.update(overrides)
    return SshSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def known_hosts(lab: Lab, tmp_path: Path) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(lab.ssh_host_key_line(HOST) + "\n")
    return path


def test_password_logon_runs_a_command(lab: Lab, known_hosts: Path) -> None:
    link = SshTransport(settings(lab, known_hosts), host=HOST)
    try:
        result = link.run_command("hostname")
        assert (result.stdout, result.exit_code) == (b"W2K\r\n", 0)
        assert link.run_command("exit", ("7",)).exit_code == 7
    finally:
        link.close()


def test_no_powershell_on_windows_2000(lab: Lab, known_hosts: Path) -> None:
    link = SshTransport(settings(lab, known_hosts), host=HOST)
    try:
        result = link.run("hostname\n")
    finally:
        link.close()
    assert result.exit_code == 9009
    assert b"is not recognized as an internal or external command" in result.stderr


def test_large_stdin_arrives_whole(lab: Lab, known_hosts: Path) -> None:
    endpoint = lab.endpoint("ex2003.lab.local")
    path = known_hosts.with_name("kh2")
    path.write_text(lab.ssh_host_key_line("ex2003.lab.local") + "\n")
    link = SshTransport(
        settings(lab, path, address=endpoint.address, port=endpoint.ssh_port), host="ex2003"
    )
    script = "echo " + "y" * 100 + "\n"
    try:
        result = link.run(script * 11_000)
    finally:
        link.close()
    assert result.exit_code == 0
    assert result.stdout == ("y" * 100 + "\r\n").encode() * 11_000


def test_public_key_logon(lab: Lab, known_hosts: Path, tmp_path: Path) -> None:
    key = paramiko.RSAKey.generate(2048)
    key_file = tmp_path / "id_rsa"
    key.write_private_key_file(str(key_file))
    spec = lab.host(HOST).spec
    spec.credentials.authorized_keys.append(f"{key.get_name()} {key.get_base64()} test")
    try:
        link = SshTransport(settings(lab, known_hosts, password=None, key_file=str(key_file)))
        try:
            assert link.run_command("whoami").stdout == b"lab\\administrator\r\n"
        finally:
            link.close()
    finally:
        spec.credentials.authorized_keys.pop()


def test_wrong_password_is_refused_and_counted(lab: Lab, known_hosts: Path) -> None:
    before = lab.counters(HOST)["auth_failures"]
    link = SshTransport(settings(lab, known_hosts, password="nope"), host=HOST)
    with pytest.raises(AuthenticationError):
        link.run_command("hostname")
    assert lab.counters(HOST)["auth_failures"] > before


def test_unknown_host_key_is_refused_unless_accepted(lab: Lab, tmp_path: Path) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(HostKeyError, match="unknown"):
        SshTransport(settings(lab, empty), host=HOST).run_command("hostname")
    link = SshTransport(settings(lab, empty, accept_new_host_keys=True), host=HOST)
    try:
        assert link.run_command("hostname").exit_code == 0
    finally:
        link.close()
    assert lab.ssh_host_key_line(HOST).split()[2] in empty.read_text()


def test_changed_host_key_is_always_refused(lab: Lab, tmp_path: Path) -> None:
    endpoint = lab.endpoint(HOST)
    impostor = paramiko.RSAKey.generate(2048)
    path = tmp_path / "known_hosts"
    path.write_text(
        f"[{endpoint.address}]:{endpoint.ssh_port} {impostor.get_name()} {impostor.get_base64()}\n"
    )
    for accept in (False, True):
        with pytest.raises(HostKeyError, match="CHANGED"):
            SshTransport(settings(lab, path, accept_new_host_keys=accept)).run_command("hostname")


def test_host_keys_are_stable_across_starts(tmp_path: Path) -> None:
    first = load_or_create_host_key(tmp_path, "a.lab.local")
    second = load_or_create_host_key(tmp_path, "a.lab.local")
    assert first.get_base64() == second.get_base64()
    assert (tmp_path / "a.lab.local.key").stat().st_mode & 0o777 == 0o600
    other = load_or_create_host_key(tmp_path, "b.lab.local")
    assert other.get_base64() != first.get_base64()
    assert isinstance(
        paramiko.Ed25519Key(file_obj=io.StringIO((tmp_path / "a.lab.local.key").read_text())),
        paramiko.PKey,
    )


def test_a_rebooting_host_refuses_ssh(lab: Lab, known_hosts: Path) -> None:
    host = lab.host(HOST)
    host.offline_until = time.monotonic() + 2
    try:
        with pytest.raises(TransportError):
            SshTransport(settings(lab, known_hosts), host=HOST).run_command("hostname")
    finally:
        host.offline_until = 0.0


BREAKING_FLEET = """
address_base: 127.28.1.1
hosts:
  - name: dies.lab.local
    faults: {drop_mid_command: true}
  - name: slow.lab.local
    faults: {slow_probe_seconds: 30}
"""
COLLECT_SCRIPT = "# remediate-script: collect v1\n$RemediateArgs = 'e30='\n"


def _ssh_to(lab: Lab, name: str, known: Path, **overrides: object) -> SshTransport:
    endpoint = lab.endpoint(name)
    values: dict[str, object] = {
        "address": endpoint.address,
        "port": endpoint.ssh_port,
        "username": "Administrator",
        "password": PASSWORD,
        "known_hosts": (str(known),),
        "connect_timeout": 5,
        **overrides,
    }
    return SshTransport(SshSettings(**values), host=name)  # type: ignore[arg-type]


def _live_after(lab: Lab, name: str, seconds: float = 3.0) -> int:
    deadline = time.monotonic() + seconds
    while lab._ssh.live_connections(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    return lab._ssh.live_connections(name)


def test_a_connection_dropped_mid_command_is_an_error_and_leaves_no_session(
    tmp_path: Path,
) -> None:
    """sshd ends the session of a connection that is gone: the client must not read the
    missing exit status as a result, and nothing is left open on the host."""
    with Lab(parse_fleet(BREAKING_FLEET, "b.yml"), port_mode="ephemeral") as lab:
        known = tmp_path / "known_hosts"
        known.write_text("".join(lab.ssh_host_key_line(n) + "\n" for n in lab.hosts))
        link = _ssh_to(lab, "dies.lab.local", known)
        with pytest.raises(ConnectError, match="lost during the command"):
            link.run(COLLECT_SCRIPT)
        link.close()
        assert lab.counters("dies.lab.local")["faults_sent"] == 1
        assert _live_after(lab, "dies.lab.local") == 0

        slow = _ssh_to(lab, "slow.lab.local", known, command_timeout=1)
        with pytest.raises(HostTimeoutError):
            slow.run(COLLECT_SCRIPT)
        assert lab._ssh.live_connections("slow.lab.local") == 1  # the command still runs
        slow.close()  # closing the transport ends the session on the host
        assert _live_after(lab, "slow.lab.local") == 0
