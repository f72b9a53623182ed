"""The lab: a whole simulated fleet served from one process.

Each host listens on its own loopback address (127.0.0.0/8 is all loopback on Linux) on the
standard ports 5985 (HTTP), 5986 (HTTPS) and 22 (SSH) (80 and 443 for a WinRM 1.1 host),
or on ephemeral ports, or on distinct ports of 127.0.0.1. WinRM runs on one asyncio loop in a
background thread; SSH on paramiko's threads behind one accept thread. Tests use
`with Lab(fleet) as lab:`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import h11

from remediate.lab.fleet import Fleet, HostSpec, KerberosSettings
from remediate.lab.host import LabHost
from remediate.lab.protocols.http import WinRMListener, read_request
from remediate.lab.protocols.kerberos import KerberosService, KerberosUnavailable
from remediate.lab.protocols.ssh import SshServer, load_or_create_host_key
from remediate.lab.protocols.tls import LabAuthority, tls_server_end_point
from remediate.lab.protocols.winrs import ShellService

log = logging.getLogger(__name__)

PortMode = Literal["standard", "ephemeral", "localhost"]
STANDARD_PORTS = {"http": 5985, "https": 5986, "ssh": 22}
REBOOT_GRACE_SECONDS = 0.5  # a restart command returns before the host goes away


class LabError(Exception):
    """The lab cannot start as asked (address in use, no permission for port 22, ...)."""


@dataclass(frozen=True)
class Endpoint:
    """Where one host answers; a port is None when that protocol is off for the host."""

    name: str
    address: str
    http_port: int | None
    https_port: int | None
    ssh_port: int | None


@dataclass
class _HostRuntime:
    host: LabHost
    service: ShellService
    listener: WinRMListener
    servers: list[asyncio.Server]
    ports: dict[str, int | None]


class Lab:
    """Serves every host of a fleet until stopped."""

    def __init__(
        self,
        fleet: Fleet,
        port_mode: PortMode = "ephemeral",
        state_dir: Path | None = None,
        admin_port: int | None = 0,
        kerberos: KerberosSettings | None = None,
    ) -> None:
        """`kerberos` (else the fleet file's) makes the hosts domain members that accept
        Kerberos tickets for their SPNs, with the service keys of its keytab."""
        self.fleet = fleet
        self.kerberos = kerberos or fleet.kerberos
        self.port_mode = port_mode
        self._own_state = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="remediate-lab-"))
        self.authority = LabAuthority()
        self.ca_path = self.authority.write_ca(self.state_dir / "lab-ca.pem")
        self._admin_port = admin_port
        self.admin_url: str | None = None
        self.hosts: dict[str, LabHost] = {h.name: LabHost(h) for h in fleet.hosts}
        self._runtime: dict[str, _HostRuntime] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="lab", daemon=True)
        self._ssh = SshServer()
        self._admin: asyncio.Server | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind every host's listeners; LabError when an address or port cannot be used."""
        _raise_open_file_limit()
        self._thread.start()
        self._started = True
        try:
            self._call(self._start_async())
            self._ssh.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Close every listener and connection; safe to call twice."""
        if not self._started:
            return
        self._started = False
        self._ssh.stop()
        with contextlib.suppress(Exception):
            self._call(self._stop_async())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _start_async(self) -> None:
        keys_dir = self.state_dir / "ssh-host-keys"
        for host in self.hosts.values():
            spec = host.spec
            address = "127.0.0.1" if self.port_mode == "localhost" else host.address
            if self.port_mode == "localhost":
                spec.address = address
            service = ShellService(host)
            listener = WinRMListener(host, service, self._kerberos_service(spec))
            runtime = _HostRuntime(host, service, listener, [], {})
            self._runtime[host.name] = runtime
            host.on_reboot = lambda name=host.name: self._loop.call_soon_threadsafe(
                self._reboot, name
            )
            wanted = {
                "http": spec.endpoints.http and spec.os.winrm,
                "https": spec.endpoints.https and spec.os.winrm,
                "ssh": spec.endpoints.ssh,
            }
            for protocol, enabled in wanted.items():
                if not enabled:
                    runtime.ports[protocol] = None
                    continue
                port = self._port_for(protocol, spec)
                if spec.faults.down:
                    runtime.ports[protocol] = port or _free_port(address)
                    continue
                if protocol == "ssh":
                    key = load_or_create_host_key(keys_dir, host.name)
                    runtime.ports[protocol] = self._bind_ssh(host, address, port, key)
                else:
                    runtime.ports[protocol] = await self._bind_winrm(
                        runtime, protocol, address, port
                    )
        if self._admin_port is not None:
            self._admin = await asyncio.start_server(
                self._serve_admin, "127.0.0.1", self._admin_port
            )
            port = self._admin.sockets[0].getsockname()[1]
            self.admin_url = f"http://127.0.0.1:{port}"

    def _kerberos_service(self, spec: HostSpec) -> KerberosService | None:
        """The host's Kerberos acceptor settings; LabError when the keytab cannot be used."""
        settings = self.kerberos
        if settings is None or not spec.endpoints.kerberos or not spec.os.winrm:
            return None
        service = KerberosService(
            keytab=settings.keytab,
            realm=settings.realm,
            service_principals=settings.service_principals(spec),
            admitted_user=spec.credentials.username,
        )
        try:
            service.check()
        except KerberosUnavailable as exc:
            raise LabError(f"host {spec.name}: cannot accept Kerberos: {exc}") from None
        return service

    def fqdn(self, name: str) -> str | None:
        """The host's DNS name in the lab's Kerberos domain (None without Kerberos)."""
        if self.kerberos is None:
            return None
        return self.kerberos.fqdn(self.hosts[name].spec)

    def _port_for(self, protocol: str, spec: HostSpec) -> int:
        """The port to bind: 0 (any) unless standard, where WinRM's depends on its version."""
        if self.port_mode != "standard":
            return 0
        http, https = spec.endpoints.standard_ports  # 80/443 for WinRM 1.1, else 5985/5986
        return {"http": http, "https": https}.get(protocol, STANDARD_PORTS[protocol])

    def _bind_ssh(self, host: LabHost, address: str, port: int, key: Any) -> int:
        try:
            return self._ssh.add(host, address, port, key)
        except OSError as exc:
            raise LabError(_bind_message(host.name, address, port, "ssh", exc)) from None

    async def _bind_winrm(
        self, runtime: _HostRuntime, protocol: str, address: str, port: int
    ) -> int:
        host = runtime.host
        context = None
        if protocol == "https":
            names = [host.name, host.spec.hostname.lower()]
            fqdn = self.fqdn(host.name)
            if fqdn:
                names.append(fqdn)
            issued = self.authority.issue(host.spec.hostname.lower(), names, [address])
            context = self.authority.server_context(
                issued,
                self.state_dir / "tls",
                host.name,
                client_certificates=host.spec.endpoints.certificate,
            )
            runtime.listener.tls_channel_binding = tls_server_end_point(issued.cert_pem)
            runtime.listener.client_issuer = self.authority.certificate

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            # Cancelled only when the lab stops: end quietly (asyncio's stream callback would
            # log a cancelled handler as an error).
            with contextlib.suppress(asyncio.CancelledError):
                await runtime.listener.serve(reader, writer, protocol)

        try:
            server = await asyncio.start_server(
                accept, address, port, ssl=context, reuse_address=True, backlog=128
            )
        except OSError as exc:
            raise LabError(_bind_message(host.name, address, port, protocol, exc)) from None
        runtime.servers.append(server)
        return server.sockets[0].getsockname()[1]

    async def _stop_async(self) -> None:
        for runtime in self._runtime.values():
            await self._close_winrm(runtime)
        if self._admin is not None:
            self._admin.close()
        # Connection handlers still waiting (a long-poll Receive, a latency sleep) end here,
        # not as "Task was destroyed but it is pending" when the loop closes.
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def _close_winrm(self, runtime: _HostRuntime) -> None:
        for server in runtime.servers:
            server.close()
        runtime.listener.abort_connections()
        runtime.service.close_all()
        runtime.servers.clear()

    # -- reboots -----------------------------------------------------------------------------

    def reboot(self, name: str) -> None:
        """Restart a host now: it refuses connections for its reboot time, then answers again."""
        self.hosts[name].begin_reboot()

    def _reboot(self, name: str) -> None:
        self._loop.call_later(
            REBOOT_GRACE_SECONDS, lambda: asyncio.ensure_future(self._go_down(name))
        )

    async def _go_down(self, name: str) -> None:
        runtime = self._runtime[name]
        await self._close_winrm(runtime)
        self._ssh.disconnect(name)
        delay = max(0.0, runtime.host.offline_until - time.monotonic())
        self._loop.call_later(delay, lambda: asyncio.ensure_future(self._come_back(name)))

    async def _come_back(self, name: str) -> None:
        runtime = self._runtime[name]
        if not self._started:
            return
        for protocol in ("http", "https"):
            port = runtime.ports.get(protocol)
            if port is not None:
                await self._bind_winrm(runtime, protocol, runtime.host.address, port)

    def restart_winrm_service(self, name: str) -> None:
        """Forget the host's shells, as `Restart-Service WinRM` does on Windows."""

        async def drop() -> None:
            self._runtime[name].service.close_all()

        self._call(drop())

    # -- what tests and tools read -----------------------------------------------------------

    def endpoint(self, name: str) -> Endpoint:
        runtime = self._runtime[name]
        return Endpoint(
            name=name,
            address=runtime.host.address,
            http_port=runtime.ports.get("http"),
            https_port=runtime.ports.get("https"),
            ssh_port=runtime.ports.get("ssh"),
        )

    def endpoints(self) -> list[Endpoint]:
        return [self.endpoint(name) for name in self.hosts]

    def host(self, name: str) -> LabHost:
        return self.hosts[name]

    def counters(self, name: str) -> dict[str, int]:
        return self.hosts[name].counters.as_dict()

    def open_shells(self) -> int:
        """Shells open on the whole fleet right now."""
        return sum(h.counters.shells_open for h in self.hosts.values())

    def ssh_host_key_line(self, name: str) -> str:
        """The known_hosts line of a host's SSH key (`address` or `[address]:port`)."""
        endpoint = self.endpoint(name)
        key = load_or_create_host_key(self.state_dir / "ssh-host-keys", name)
        target = (
            endpoint.address
            if endpoint.ssh_port == 22
            else f"[{endpoint.address}]:{endpoint.ssh_port}"
        )
        return f"{target} {key.get_name()} {key.get_base64()}"

    def snapshot(self) -> dict[str, Any]:
        """Every host's address, ports, state and counters (what the admin endpoint serves)."""
        return {
            name: {
                "address": host.address,
                "ports": self._runtime[name].ports if name in self._runtime else {},
                "online": host.is_online(),
                "counters": host.counters.as_dict(),
            }
            for name, host in self.hosts.items()
        }

    async def _serve_admin(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connection = h11.Connection(h11.SERVER)
        try:
            received = await read_request(connection, reader)
            if received is None:
                return
            target = received[0].target.decode("latin-1").rstrip("/")
            status, document = self._admin_document(target)
            body = json.dumps(document, indent=2, default=str).encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            writer.write(connection.send(h11.Response(status_code=status, headers=headers)) or b"")
            writer.write(connection.send(h11.Data(data=body)) or b"")
            writer.write(connection.send(h11.EndOfMessage()) or b"")
            await writer.drain()
        except (ConnectionError, h11.ProtocolError) as exc:
            log.debug("admin connection ended: %s", exc)
        finally:
            writer.close()

    def _admin_document(self, target: str) -> tuple[int, Any]:
        if target in ("", "/hosts"):
            return 200, self.snapshot()
        if target == "/totals":
            totals: dict[str, int] = {}
            for host in self.hosts.values():
                for key, value in host.counters.as_dict().items():
                    totals[key] = totals.get(key, 0) + value
            return 200, totals
        if target.startswith("/hosts/") and target[7:] in self.hosts:
            name = target[7:]
            document = self.snapshot()[name]
            document["received"] = [r.__dict__ for r in self.hosts[name].received]
            return 200, document
        return 404, {"error": f"no such resource {target!r}"}


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def _bind_message(name: str, address: str, port: int, protocol: str, exc: OSError) -> str:
    hint = ""
    if port and port < 1024:
        hint = " (ports below 1024 need root; use --ports ephemeral)"
    elif exc.errno == 98:
        hint = " (something else listens there; use --ports ephemeral)"
    return f"host {name}: cannot listen for {protocol} on {address}:{port}: {exc.strerror}{hint}"


def _raise_open_file_limit() -> None:
    """Three listeners per host and their connections need more than the usual 1,024 files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
