"""The lab's SSH endpoint: OpenSSH for Windows as clients see it (paramiko server mode).

One accept thread watches every host's listening socket (1,000 hosts do not mean 1,000
accept threads); each connection runs on paramiko's transport thread plus one thread per exec
channel. An exec request is a cmd.exe command line; a program that reads stdin (PowerShell's
`-Command -`, the cscript bootstrap) gets everything the client sends until it closes its
side, as with a real pipe.
"""

from __future__ import annotations

import contextlib
import logging
import re
import selectors
import socket
import threading
import time
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from remediate.lab import commands
from remediate.lab.host import LabHost

log = logging.getLogger(__name__)
EXEC_WAIT_SECONDS = 30.0


def load_or_create_host_key(directory: Path, host_name: str) -> paramiko.PKey:
    """The host's Ed25519 key, made on first use and kept in `directory` (mode 0600)."""
    path = directory / (re.sub(r"[^A-Za-z0-9._-]", "_", host_name) + ".key")
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        private = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        path.touch(mode=0o600)
        path.write_bytes(private)
    return paramiko.Ed25519Key.from_private_key_file(str(path))


class _Session(paramiko.ServerInterface):
    """Authentication and channel requests for one connection to one host."""

    def __init__(self, host: LabHost) -> None:
        self.host = host
        self.commands: dict[int, str] = {}
        self.ready = threading.Condition()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password"

    def check_auth_password(self, username: str, password: str) -> int:
        if self.host.check_password(username, password):
            return paramiko.AUTH_SUCCESSFUL
        self.host.count("auth_failures")
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        credentials = self.host.spec.credentials
        user_ok = username.split("\\")[-1].lower() == credentials.username.lower()
        offered = f"{key.get_name()} {key.get_base64()}"
        known = {" ".join(line.split()[:2]) for line in credentials.authorized_keys}
        if user_ok and offered in known and not self.host.spec.faults.wrong_password:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        with self.ready:
            self.commands[channel.get_id()] = command.decode("utf-8", errors="replace")
            self.ready.notify_all()
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return False

    def check_channel_pty_request(self, *args: object) -> bool:
        return False

    def wait_for_exec(self, channel: paramiko.Channel, timeout: float) -> str | None:
        with self.ready:
            self.ready.wait_for(lambda: channel.get_id() in self.commands, timeout)
            return self.commands.pop(channel.get_id(), None)


class SshServer:
    """Serves SSH for many hosts from one process."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._transports: set[paramiko.Transport] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, host: LabHost, address: str, port: int, host_key: paramiko.PKey) -> int:
        """Listen for `host` on address:port (0 = any free port); returns the port."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((address, port))
            listener.listen(64)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._listeners.append(listener)
        self._selector.register(listener, selectors.EVENT_READ, (host, host_key))
        return listener.getsockname()[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._accept_loop, name="lab-ssh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every listener and connection; safe to call twice."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        for listener in self._listeners:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(listener)
            listener.close()
        self._listeners.clear()
        with self._lock:
            transports = list(self._transports)
            self._transports.clear()
        for transport in transports:
            transport.close()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                listener: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    connection, _ = listener.accept()
                except (BlockingIOError, OSError):
                    continue
                host, host_key = key.data
                threading.Thread(
                    target=self._serve, args=(connection, host, host_key), daemon=True
                ).start()

    def _serve(self, connection: socket.socket, host: LabHost, host_key: paramiko.PKey) -> None:
        connection.setblocking(True)
        if not host.is_online():
            connection.close()
            return
        host.count("connections")
        if host.spec.faults.blackhole:
            with contextlib.suppress(OSError):
                while connection.recv(65536):
                    pass
            connection.close()
            return
        transport = paramiko.Transport(connection)
        transport.add_server_key(host_key)
        session = _Session(host)
        with self._lock:
            self._transports.add(transport)
        try:
            transport.start_server(server=session)
            while transport.is_active() and not self._stopping.is_set():
                channel = transport.accept(timeout=1)
                if channel is not None:
                    threading.Thread(
                        target=self._run_channel, args=(host, session, channel), daemon=True
                    ).start()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            log.debug("%s: ssh connection ended: %s", host.name, exc)
        finally:
            with self._lock:
                self._transports.discard(transport)
            transport.close()

    def _run_channel(self, host: LabHost, session: _Session, channel: paramiko.Channel) -> None:
        try:
            command_line = session.wait_for_exec(channel, EXEC_WAIT_SECONDS)
            if command_line is None:
                return
            host.count("ssh_sessions")
            words = commands.split_command_line(command_line) or [""]
            program, arguments = words[0], words[1:]
            stdin = bytearray()
            if commands.needs_stdin(program, arguments):
                while chunk := channel.recv(65536):
                    stdin += chunk
            latency = host.spec.faults.latency_ms
            if latency:
                time.sleep(latency / 1000)
            result = commands.run(host, program, arguments, bytes(stdin), "ssh")
            if result.delay_seconds:
                time.sleep(result.delay_seconds)
            if result.stdout:
                channel.sendall(result.stdout)
            if result.stderr:
                channel.sendall_stderr(result.stderr)
            channel.send_exit_status(result.exit_code & 0xFFFFFFFF)
            channel.shutdown_write()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            log.debug("%s: ssh channel ended: %s", host.name, exc)
        finally:
            channel.close()
