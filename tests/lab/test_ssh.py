"""The lab's SSH endpoint, spoken to by paramiko's client over real loopback sockets."""

from __future__ import annotations

import io
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from remediate.lab.fleet import Credentials, Faults, HostSpec, OperatingSystem
from remediate.lab.host import LabHost
from remediate.lab.protocols.ssh import SshServer, load_or_create_host_key

PASSWORD = "Lab-Passw0rd!"
POWERSHELL_STDIN = "powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command -"


def _client_key() -> paramiko.PKey:
    text = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return paramiko.Ed25519Key(file_obj=io.StringIO(text.decode()))


CLIENT_KEY = _client_key()


def _connect(
    address: str,
    port: int,
    password: str | None = PASSWORD,
    username: str = "Administrator",
    pkey: paramiko.PKey | None = None,
    client: paramiko.SSHClient | None = None,
    nodelay: bool = True,
) -> paramiko.SSHClient:
    """Log on; with `nodelay`, over a TCP_NODELAY socket (else each exec waits on delayed ACKs)."""
    sock = None
    if nodelay:
        sock = socket.create_connection((address, port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if client is None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # noqa: S507 - lab hosts
    try:
        client.connect(
            address,
            port=port,
            username=username,
            password=password,
            pkey=pkey,
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
            banner_timeout=10,
            auth_timeout=10,
            sock=sock,
        )
    except BaseException:
        client.close()
        if sock is not None:
            sock.close()
        raise
    return client


def _run(
    client: paramiko.SSHClient, command: str, stdin: bytes | None = None
) -> tuple[bytes, bytes, int]:
    channel_in, channel_out, channel_err = client.exec_command(command, timeout=60)
    if stdin is not None:
        channel_in.write(stdin)
        channel_in.channel.shutdown_write()
    out = channel_out.read()
    err = channel_err.read()
    return out, err, channel_out.channel.recv_exit_status()


def _listening(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


class _Fleet:
    def __init__(self, server: SshServer, hosts: dict[str, LabHost], ports: dict[str, int]):
        self.server = server
        self.hosts = hosts
        self.ports = ports

    def connect(self, name: str, **kwargs: object) -> paramiko.SSHClient:
        return _connect(self.hosts[name].address, self.ports[name], **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Fleet]:
    keys = tmp_path_factory.mktemp("ssh-host-keys")
    authorized = f"{CLIENT_KEY.get_name()} {CLIENT_KEY.get_base64()} admin@workstation"
    specs = [
        HostSpec(
            name="ex01",
            address="127.20.9.1",
            credentials=Credentials(authorized_keys=["# a comment line", authorized]),
        ),
        HostSpec(name="nops", address="127.20.9.2", os=OperatingSystem(powershell=None)),
        HostSpec(name="slow", address="127.20.9.3", faults=Faults(latency_ms=300)),
        HostSpec(name="rebooting", address="127.20.9.4"),
        HostSpec(name="hole", address="127.20.9.5", faults=Faults(blackhole=True)),
        HostSpec(name="flappy", address="127.20.9.6", faults=Faults(flapping=1.0)),
    ]
    hosts = {spec.name: LabHost(spec) for spec in specs}
    hosts["rebooting"].offline_until = time.monotonic() + 3600
    server = SshServer()
    ports = {
        name: server.add(host, host.address, 0, load_or_create_host_key(keys, name))
        for name, host in hosts.items()
    }
    server.start()
    yield _Fleet(server, hosts, ports)
    server.stop()


def test_password_logon_runs_hostname(fleet: _Fleet) -> None:
    host = fleet.hosts["ex01"]
    before = host.counters.as_dict()
    with fleet.connect("ex01", nodelay=False) as client:
        assert client.get_transport().remote_version.startswith("SSH-2.0-OpenSSH_for_Windows")
        assert _run(client, "hostname") == (b"EX01\r\n", b"", 0)
        assert _run(client, "whoami") == (b"lab\\administrator\r\n", b"", 0)
    after = host.counters.as_dict()
    assert after["connections"] == before["connections"] + 1
    assert after["ssh_sessions"] == before["ssh_sessions"] + 2
    assert after["commands"] == before["commands"] + 2
    assert after["auth_failures"] == before["auth_failures"]


def test_wrong_password_is_refused_and_counted(fleet: _Fleet) -> None:
    host = fleet.hosts["ex01"]
    failures = host.counters.auth_failures
    with pytest.raises(paramiko.AuthenticationException):
        fleet.connect("ex01", password="not-the-password")
    assert host.counters.auth_failures == failures + 1
    with pytest.raises(paramiko.AuthenticationException):
        fleet.connect("ex01", username="Guest")
    assert host.counters.auth_failures == failures + 2


def test_public_key_logon(fleet: _Fleet) -> None:
    with fleet.connect("ex01", password=None, pkey=CLIENT_KEY) as client:
        assert client.get_transport().is_authenticated()
        assert _run(client, "hostname") == (b"EX01\r\n", b"", 0)
    with fleet.connect("ex01", password=None, username="LAB\\administrator", pkey=CLIENT_KEY):
        pass


def test_public_key_must_be_listed_and_user_must_match(fleet: _Fleet) -> None:
    host = fleet.hosts["ex01"]
    failures = host.counters.auth_failures
    with pytest.raises(paramiko.AuthenticationException):
        fleet.connect("ex01", password=None, pkey=_client_key())
    with pytest.raises(paramiko.AuthenticationException):
        fleet.connect("ex01", password=None, username="Guest", pkey=CLIENT_KEY)
    with pytest.raises(paramiko.AuthenticationException):  # listed, but not on this host
        fleet.connect("nops", password=None, pkey=CLIENT_KEY)
    assert host.counters.auth_failures >= failures + 2


def test_exit_code_is_the_programs(fleet: _Fleet) -> None:
    with fleet.connect("ex01") as client:
        assert _run(client, "exit 7") == (b"", b"", 7)
        out, err, code = _run(client, "nosuchprogram /x")
        assert code == 9009
        assert b"'nosuchprogram' is not recognized" in err
        assert out == b""


def test_powershell_script_on_stdin(fleet: _Fleet) -> None:
    with fleet.connect("ex01") as client:
        out, err, code = _run(client, POWERSHELL_STDIN, b"hostname\r\nhostname\r\n")
    assert (out, err, code) == (b"EX01\r\nEX01\r\n", b"", 0)


def test_many_quick_execs_on_one_connection(fleet: _Fleet) -> None:
    # A program that ends at once must not close its channel before the exec reply is sent.
    with fleet.connect("ex01") as client:
        transport = client.get_transport()
        for _ in range(200):
            channel = transport.open_session(timeout=10)
            channel.exec_command("hostname")
            assert channel.recv_exit_status() == 0
            channel.close()


def test_megabytes_of_stdin_and_output(fleet: _Fleet) -> None:
    lines = [f"echo line{index:06d}-{'x' * 90}" for index in range(30_000)]
    script = ("\r\n".join(lines) + "\r\n").encode()
    assert len(script) > 3 * 1024 * 1024
    with fleet.connect("ex01") as client:
        out, err, code = _run(client, POWERSHELL_STDIN, script)
    assert (err, code) == (b"", 0)
    expected = "".join(f"{line.removeprefix('echo ')}\r\n" for line in lines).encode()
    assert len(out) == len(expected)
    assert out == expected


def test_host_without_powershell(fleet: _Fleet) -> None:
    with fleet.connect("nops") as client:
        out, err, code = _run(client, POWERSHELL_STDIN, b"hostname\r\n")
        assert code == 9009
        assert out == b""
        assert err.startswith(b"'powershell' is not recognized as an internal or external command")
        assert _run(client, "hostname") == (b"NOPS\r\n", b"", 0)


def test_shell_and_subsystem_requests_fail_cleanly(fleet: _Fleet) -> None:
    with fleet.connect("ex01") as client:
        transport = client.get_transport()
        with pytest.raises(paramiko.SSHException):
            transport.open_session(timeout=10).invoke_shell()
        with pytest.raises(paramiko.SSHException):
            transport.open_session(timeout=10).invoke_subsystem("sftp")
        assert _run(client, "hostname") == (b"EX01\r\n", b"", 0)


def test_a_pty_is_granted_and_the_command_runs_as_on_windows(fleet: _Fleet) -> None:
    # Win32-OpenSSH grants pty-req (ConPTY); Ansible's `-m raw` asks for one (ssh -tt).
    with fleet.connect("ex01") as client:
        _, stdout, _ = client.exec_command("hostname", get_pty=True, timeout=60)
        assert stdout.read() == b"EX01\r\n"
        assert stdout.channel.recv_exit_status() == 0
        _, stdout, stderr = client.exec_command("nosuchprogram", get_pty=True, timeout=60)
        out = stdout.read()
        assert stderr.read() == b""  # one output on a pseudo console
        assert b"'nosuchprogram' is not recognized" in out
        assert stdout.channel.recv_exit_status() == 9009


def test_latency_fault_delays_each_exec(fleet: _Fleet) -> None:
    with fleet.connect("slow") as client:
        started = time.monotonic()
        assert _run(client, "hostname") == (b"SLOW\r\n", b"", 0)
        assert time.monotonic() - started >= 0.3


def test_rebooting_host_closes_connections(fleet: _Fleet) -> None:
    host = fleet.hosts["rebooting"]
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        fleet.connect("rebooting")
    assert host.counters.connections == 0
    host.offline_until = time.monotonic()  # back up
    with fleet.connect("rebooting") as client:
        assert _run(client, "hostname") == (b"REBOOTING\r\n", b"", 0)
    assert host.counters.connections == 1


def test_blackholed_host_never_answers(fleet: _Fleet) -> None:
    host = fleet.hosts["hole"]
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException, match="banner"):
        client.connect(
            host.address, fleet.ports["hole"], "Administrator", PASSWORD, banner_timeout=0.5
        )
    client.close()
    assert host.counters.connections == 1


def test_flapping_host_drops_the_connection(fleet: _Fleet) -> None:
    host = fleet.hosts["flappy"]
    with fleet.connect("flappy") as client:
        out, _err, code = _run(client, "hostname")
        assert (out, code) == (b"", -1)
        assert not client.get_transport().is_active()
    assert host.counters.faults_sent == 1


def test_misbehaving_clients_do_not_stop_the_server(fleet: _Fleet) -> None:
    address, port = fleet.hosts["ex01"].address, fleet.ports["ex01"]
    with socket.create_connection((address, port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n" + bytes(range(256)) * 40)
    with socket.create_connection((address, port), timeout=5) as raw:
        raw.sendall(b"SSH-2.0-broken\r\n" + b"\x00\x00\x00\x10" + b"\xff" * 64)
    with socket.create_connection((address, port), timeout=5):
        pass
    with fleet.connect("ex01") as client:  # exec, then vanish without reading or EOF
        channel = client.get_transport().open_session(timeout=10)
        channel.exec_command(POWERSHELL_STDIN)
        channel.sendall(b"hostname\r\n")
    with fleet.connect("ex01") as client:
        assert _run(client, "hostname") == (b"EX01\r\n", b"", 0)


def test_host_key_is_stable_and_private(tmp_path: Path) -> None:
    first = load_or_create_host_key(tmp_path / "keys", "ex01.lab.local")
    second = load_or_create_host_key(tmp_path / "keys", "ex01.lab.local")
    other = load_or_create_host_key(tmp_path / "keys", "ex02.lab.local")
    assert first.get_name() == "ssh-ed25519"
    assert first.get_base64() == second.get_base64()
    assert other.get_base64() != first.get_base64()
    files = list((tmp_path / "keys").iterdir())
    assert len(files) == 2
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")


def _server_key(keys: Path, address: str) -> tuple[paramiko.PKey, int]:
    host = LabHost(HostSpec(name="ex01", address=address))
    server = SshServer()
    port = server.add(host, address, 0, load_or_create_host_key(keys, host.name))
    server.start()
    try:
        with _connect(address, port) as client:
            return client.get_transport().get_remote_server_key(), port
    finally:
        server.stop()


def test_host_key_survives_restarts_and_a_changed_key_is_refused(tmp_path: Path) -> None:
    address = "127.20.9.10"
    first, _ = _server_key(tmp_path, address)
    second, _ = _server_key(tmp_path, address)
    assert first.get_base64() == second.get_base64()

    host = LabHost(HostSpec(name="ex01", address=address))
    server = SshServer()
    port = server.add(host, address, 0, load_or_create_host_key(tmp_path, host.name))
    server.start()
    try:
        known = tmp_path / "known_hosts"
        known.write_text(f"[{address}]:{port} {first.get_name()} {first.get_base64()}\n")
        trusting = paramiko.SSHClient()
        trusting.load_host_keys(str(known))
        trusting.set_missing_host_key_policy(paramiko.RejectPolicy())
        with _connect(address, port, client=trusting) as client:
            assert _run(client, "hostname") == (b"EX01\r\n", b"", 0)

        stale = _client_key()
        known.write_text(f"[{address}]:{port} {stale.get_name()} {stale.get_base64()}\n")
        suspicious = paramiko.SSHClient()
        suspicious.load_host_keys(str(known))
        suspicious.set_missing_host_key_policy(paramiko.RejectPolicy())
        with pytest.raises(paramiko.BadHostKeyException):
            _connect(address, port, client=suspicious)
        suspicious.close()
    finally:
        server.stop()


def test_stop_closes_listeners_and_connections(tmp_path: Path) -> None:
    address = "127.20.9.11"
    host = LabHost(HostSpec(name="ex01", address=address))
    server = SshServer()
    port = server.add(host, address, 0, load_or_create_host_key(tmp_path, "ex01"))
    threads_before = set(threading.enumerate())
    server.start()
    client = _connect(address, port)
    assert _run(client, "hostname")[2] == 0
    assert server.live_connections("ex01") == 1
    server.stop()
    assert not _listening(address, port)
    transport = client.get_transport()
    deadline = time.monotonic() + 5
    while transport.is_active() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not transport.is_active()
    client.close()
    # the client's own transport thread: close() returns at once on a transport the server
    # already ended, so its thread may still be winding down; it is not the server's
    transport.join(5)
    server.stop()  # idempotent
    # accept, transport and exec threads are gone (other tests' threads may come and go)
    leftovers = [
        t
        for t in set(threading.enumerate()) - threads_before
        if isinstance(t, paramiko.Transport) or t.name.startswith("lab-ssh")
    ]
    assert leftovers == []


def test_binding_a_taken_port_raises(tmp_path: Path) -> None:
    address = "127.20.9.12"
    host = LabHost(HostSpec(name="ex01", address=address))
    key = load_or_create_host_key(tmp_path, "ex01")
    server = SshServer()
    try:
        port = server.add(host, address, 0, key)
        with pytest.raises(OSError):
            server.add(host, address, port, key)
    finally:
        server.stop()


def test_one_accept_thread_serves_many_hosts(tmp_path: Path) -> None:
    server = SshServer()
    hosts = [LabHost(HostSpec(name=f"h{i:02d}", address=f"127.20.9.{100 + i}")) for i in range(40)]
    try:
        before = threading.active_count()
        ports = [
            server.add(host, host.address, 0, load_or_create_host_key(tmp_path, host.name))
            for host in hosts[:30]
        ]
        server.start()
        ports += [  # hosts added while running are served too
            server.add(host, host.address, 0, load_or_create_host_key(tmp_path, host.name))
            for host in hosts[30:]
        ]
        assert threading.active_count() == before + 1
        for host, port in [(hosts[0], ports[0]), (hosts[-1], ports[-1])]:
            with _connect(host.address, port) as client:
                expected = f"{host.spec.hostname}\r\n".encode()
                assert _run(client, "hostname") == (expected, b"", 0)
    finally:
        server.stop()
    assert not any(_listening(h.address, p) for h, p in zip(hosts, ports, strict=True))
