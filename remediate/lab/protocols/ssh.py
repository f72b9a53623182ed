"""The lab's SSH endpoint: OpenSSH for Windows as clients see it, served by paramiko.

One `SshServer` serves every host of the fleet from one process: a single accept thread waits
on all listening sockets with `selectors`, and each accepted connection gets a paramiko
`Transport` (its own thread). Sessions accept `exec` requests only: the command line is what
OpenSSH for Windows hands to cmd.exe (`hostname`, or `powershell ... -Command -` with the
script on stdin), answered by `remediate.lab.answers.commands`. Host keys are Ed25519 keys kept on
disk, so a host presents the same key every time the lab starts.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import random
import re
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from paramiko.common import MSG_CHANNEL_REQUEST

from remediate.lab.answers import commands
from remediate.lab.answers.cmd_line import split_command_line
from remediate.lab.answers.execution import Execution
from remediate.lab.host import LabHost

log = logging.getLogger(__name__)
TRANSPORT_LOG = f"{__name__}.paramiko"  # the transports' own log, demoted to debug


def _demote(record: logging.LogRecord) -> bool:
    """paramiko logs a client's misbehaviour as an error; for the lab it is debug detail."""
    record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    return logging.getLogger(TRANSPORT_LOG).isEnabledFor(logging.DEBUG)


logging.getLogger(TRANSPORT_LOG).addFilter(_demote)

SERVER_VERSION = "SSH-2.0-OpenSSH_for_Windows_8.1"
MAX_STDIN_BYTES = 256 * 1024 * 1024  # a client streaming without end is cut off here
STDIN_IDLE_SECONDS = 600.0  # a client that never sends EOF is dropped after this
LISTEN_BACKLOG = 128
JOIN_SECONDS = 5.0
_CHUNK = 65536


# -- host keys ----------------------------------------------------------------------------------


def _key_path(directory: Path, host_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", host_name).lstrip(".") or "host"
    if safe != host_name:  # keep distinct names distinct after cleaning
        safe += "-" + hashlib.sha256(host_name.encode()).hexdigest()[:8]
    return directory / f"{safe}.key"


def _new_private_key_text() -> bytes:
    """A fresh private key in OpenSSH format: Ed25519, or RSA 2048 when Ed25519 is missing."""
    try:
        key: Any = ed25519.Ed25519PrivateKey.generate()
    except UnsupportedAlgorithm:
        log.debug("Ed25519 unavailable in this cryptography build; using RSA 2048")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def _load_key(path: Path) -> paramiko.PKey:
    return paramiko.PKey.from_path(path)


def _write_private(path: Path, data: bytes) -> Path:
    """Write `data` to a new 0600 file next to `path`; returns the temporary file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    return temporary


def load_or_create_host_key(directory: Path, host_name: str) -> paramiko.PKey:
    """The host's SSH key, generated on first use and read back from `directory` afterwards."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _key_path(directory, host_name)
    if path.exists():
        try:
            return _load_key(path)
        except Exception as exc:  # empty, truncated or foreign: any parse error
            log.warning("%s: unusable SSH host key %s (%s); replacing it", host_name, path, exc)
            temporary = _write_private(path, _new_private_key_text())
            os.replace(temporary, path)
            return _load_key(path)
    temporary = _write_private(path, _new_private_key_text())
    try:
        os.link(temporary, path)  # first writer wins when two starts race
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return _load_key(path)


# -- authorized keys ----------------------------------------------------------------------------


def _authorized_blobs(lines: list[str]) -> set[tuple[str, bytes]]:
    """(key type, public key blob) of each usable authorized_keys line; options are skipped."""
    found: set[tuple[str, bytes]] = set()
    for line in lines:
        fields = line.strip().split()
        for index, word in enumerate(fields[:-1]):
            if not (word.startswith(("ssh-", "ecdsa-", "sk-")) and "@" not in word):
                continue
            try:
                blob = base64.b64decode(fields[index + 1], validate=True)
            except (binascii.Error, ValueError):
                continue
            found.add((word, blob))
            break
    return found


def _same_user(offered: str, expected: str) -> bool:
    user = offered.split("\\")[-1].split("@")[0]
    return user.lower() == expected.lower()


# -- one SSH connection -------------------------------------------------------------------------


class _HostInterface(paramiko.ServerInterface):
    """paramiko's view of one host for one connection: authentication and session requests."""

    def __init__(self, server: SshServer, host: LabHost, transport: paramiko.Transport) -> None:
        self.server = server
        self.host = host
        self.transport = transport
        self._pending: dict[int, str] = {}
        self._executing: set[int] = set()
        self.pty_channels: set[int] = set()
        self._lock = threading.Lock()

    # authentication

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password"

    def check_auth_password(self, username: str, password: str) -> int:
        if self.host.check_password(username, password):
            return paramiko.AUTH_SUCCESSFUL
        self.host.count("auth_failures")
        log.debug("%s: password refused for %r", self.host.name, username)
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        credentials = self.host.spec.credentials
        try:
            offered = (key.get_name(), key.asbytes())
        except Exception as exc:  # a key paramiko parsed but cannot serialise
            log.debug("%s: unusable public key offered: %s", self.host.name, exc)
            offered = ("", b"")
        if _same_user(username, credentials.username) and offered in _authorized_blobs(
            credentials.authorized_keys
        ):
            return paramiko.AUTH_SUCCESSFUL
        self.host.count("auth_failures")
        log.debug("%s: public key refused for %r", self.host.name, username)
        return paramiko.AUTH_FAILED

    # channels and requests

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind != "session":
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        self.host.count("ssh_sessions")
        return paramiko.OPEN_SUCCEEDED

    def check_channel_pty_request(self, channel: paramiko.Channel, *args: Any) -> bool:
        # Win32-OpenSSH grants pty-req ("session_pty_req: session 0 alloc windows-pty" in its
        # sshd log, PowerShell/Win32-OpenSSH#1399; ConPTY from Windows 10 1809 / Server 2019,
        # wiki "TTY/PTY support in Windows OpenSSH", #1326). Ansible's `-m raw` asks for one
        # (ssh -tt): refusing it made the lab run nothing and report an empty success.
        with self._lock:
            self.pty_channels.add(channel.get_id())
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return False

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        return False

    def check_channel_env_request(
        self, channel: paramiko.Channel, name: bytes, value: bytes
    ) -> bool:
        return False

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode("utf-8", errors="replace")
        chanid = channel.get_id()
        with self._lock:
            if chanid in self._executing or chanid in self._pending:
                return False  # one program per session channel, as sshd
            if _DEFERRED_START:
                self._pending[chanid] = text  # started by start_pending after the reply
                return True
            self._executing.add(chanid)
        self.server._spawn(self, channel, text)
        return True

    def start_pending(self, channel: paramiko.Channel) -> None:
        """Run the exec accepted on `channel`, now that the client has its reply."""
        with self._lock:
            text = self._pending.pop(channel.get_id(), None)
            if text is None:
                return
            self._executing.add(channel.get_id())
        self.server._spawn(self, channel, text)


def _handle_channel_request(channel: paramiko.Channel, message: paramiko.Message) -> None:
    """paramiko's own request handling (which replies), then start any exec it accepted.

    Starting the program from `check_channel_exec_request` could send its output, exit status
    and close before paramiko sends the request's success reply, and a client then reports
    "Channel closed" for a command that ran.
    """
    paramiko.Channel._handle_request(channel, message)
    server = channel.transport.server_object if channel.transport else None
    if isinstance(server, _HostInterface):
        server.start_pending(channel)


_HANDLERS = getattr(paramiko.Transport, "_channel_handler_table", None)
_DEFERRED_START = isinstance(_HANDLERS, dict) and MSG_CHANNEL_REQUEST in _HANDLERS


class _LabTransport(paramiko.Transport):
    """A server transport that starts exec programs only after replying to the request."""

    if _DEFERRED_START:
        _channel_handler_table = {
            **_HANDLERS,  # type: ignore[dict-item]
            MSG_CHANNEL_REQUEST: _handle_channel_request,
        }


# -- the server ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Listener:
    host: LabHost
    host_key: paramiko.PKey
    sock: socket.socket


@dataclass(eq=False)
class _Blackholed:
    host: LabHost
    sock: socket.socket


@dataclass
class _HostState:
    transports: set[paramiko.Transport] = field(default_factory=set)
    random: random.Random = field(default_factory=random.Random)


class SshServer:
    """SSH for many lab hosts: one accept thread, one paramiko transport per connection."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._listeners: list[_Listener] = []
        self._blackholed: set[_Blackholed] = set()
        self._hosts: dict[str, _HostState] = {}
        self._workers: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- lifecycle ------------------------------------------------------------------------------

    def add(self, host: LabHost, address: str, port: int, host_key: paramiko.PKey) -> int:
        """Listen for `host` on address:port (0 = ephemeral); the bound port. OSError if taken."""
        if self._stopped:
            raise RuntimeError("the SSH server has been stopped")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        listener = _Listener(host, host_key, sock)
        with self._lock:
            self._listeners.append(listener)
            self._hosts.setdefault(host.name, _HostState(random=random.Random(host.name)))
            self._selector.register(sock, selectors.EVENT_READ, listener)
        self._wake()
        return int(sock.getsockname()[1])

    def start(self) -> None:
        """Start accepting connections on every listener, present and future."""
        if self._stopped:
            raise RuntimeError("the SSH server has been stopped")
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._accept_loop, name="lab-ssh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close listeners and live connections and wait for their threads; safe to repeat."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(JOIN_SECONDS)
        with self._lock:
            listeners, self._listeners = self._listeners, []
            blackholed, self._blackholed = self._blackholed, set()
            transports = [t for state in self._hosts.values() for t in state.transports]
            for state in self._hosts.values():
                state.transports.clear()
        for item in [*listeners, *blackholed]:
            self._forget(item.sock)
        for transport in transports:
            _close_transport(transport)
        deadline = time.monotonic() + JOIN_SECONDS
        for transport in transports:
            transport.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(OSError):
            self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def disconnect(self, host_name: str) -> int:
        """Drop every live SSH connection of one host (it went away); how many were dropped."""
        with self._lock:
            state = self._hosts.get(host_name)
            transports = list(state.transports) if state else []
            if state:
                state.transports.clear()
        for transport in transports:
            _close_transport(transport)
        return len(transports)

    def live_connections(self, host_name: str | None = None) -> int:
        """Connections whose transport is still running, for one host or for all of them."""
        with self._lock:
            if host_name is None:
                states = list(self._hosts.values())
            else:
                states = [self._hosts[host_name]] if host_name in self._hosts else []
            return sum(1 for state in states for t in state.transports if t.is_active())

    # -- accepting ------------------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"\0")

    def _forget(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _accept_loop(self) -> None:
        pruned = time.monotonic()
        while not self._stopping.is_set():
            try:
                ready = self._selector.select(timeout=1.0)
            except (OSError, ValueError) as exc:
                log.debug("ssh accept loop: select failed: %s", exc)
                time.sleep(0.05)
                continue
            for key, _events in ready:
                if self._stopping.is_set():
                    return
                item = key.data
                try:
                    if item is None:
                        with contextlib.suppress(OSError):
                            self._wake_reader.recv(4096)
                    elif isinstance(item, _Listener):
                        self._accept_all(item)
                    elif isinstance(item, _Blackholed):
                        self._drain_blackholed(item)
                except Exception:
                    log.debug("ssh accept loop: unexpected error", exc_info=True)
            if time.monotonic() - pruned >= 1.0:
                self._prune()
                pruned = time.monotonic()

    def _accept_all(self, listener: _Listener) -> None:
        for _ in range(64):  # then give the other listeners a turn
            try:
                sock, peer = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: keep serving what is open
                log.debug("%s: ssh accept failed: %s", listener.host.name, exc)
                time.sleep(0.01)
                return
            try:
                self._serve(listener, sock, peer)
            except Exception:
                log.debug("%s: cannot serve ssh connection", listener.host.name, exc_info=True)
                with contextlib.suppress(OSError):
                    sock.close()

    def _serve(self, listener: _Listener, sock: socket.socket, peer: Any) -> None:
        host = listener.host
        if not host.is_online():
            log.debug("%s: offline, closing ssh connection from %s", host.name, peer)
            sock.close()
            return
        host.count("connections")
        if host.spec.faults.blackhole:
            sock.setblocking(False)
            hole = _Blackholed(host, sock)
            with self._lock:
                self._blackholed.add(hole)
                self._selector.register(sock, selectors.EVENT_READ, hole)
            return
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport = _LabTransport(sock)
        transport.local_version = SERVER_VERSION
        transport.set_log_channel(TRANSPORT_LOG)
        transport.add_server_key(listener.host_key)
        interface = _HostInterface(self, host, transport)
        with self._lock:
            if self._stopping.is_set():
                sock.close()
                return
            self._hosts[host.name].transports.add(transport)
        transport.start_server(event=threading.Event(), server=interface)

    def _drain_blackholed(self, hole: _Blackholed) -> None:
        """A blackholed host takes the bytes and never answers; forget it when the peer leaves."""
        try:
            data = hole.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            with self._lock:
                self._blackholed.discard(hole)
            self._forget(hole.sock)

    def _prune(self) -> None:
        with self._lock:
            for state in self._hosts.values():
                if state.transports:
                    state.transports = {t for t in state.transports if t.is_alive()}

    # -- running commands -----------------------------------------------------------------------

    def _spawn(self, interface: _HostInterface, channel: paramiko.Channel, text: str) -> None:
        worker = threading.Thread(
            target=self._exec,
            args=(interface, channel, text),
            name=f"lab-ssh-exec-{interface.host.name}",
            daemon=True,
        )
        with self._lock:
            if self._stopping.is_set():
                _close_channel(channel)
                return
            self._workers.add(worker)
        try:
            worker.start()
        except RuntimeError as exc:  # out of threads: refuse this program, keep serving
            log.debug("%s: cannot start ssh exec: %s", interface.host.name, exc)
            with self._lock:
                self._workers.discard(worker)
            _close_channel(channel)

    def _exec(self, interface: _HostInterface, channel: paramiko.Channel, text: str) -> None:
        host = interface.host
        try:
            self._answer(interface, channel, text)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            log.debug("%s: ssh exec %r ended: %s", host.name, text[:80], exc)
        except Exception:
            log.debug("%s: ssh exec %r failed", host.name, text[:80], exc_info=True)
        finally:
            _close_channel(channel)
            with self._lock:
                self._workers.discard(threading.current_thread())

    def _answer(self, interface: _HostInterface, channel: paramiko.Channel, text: str) -> None:
        host = interface.host
        parts = split_command_line(text)
        if not parts:
            channel.send_exit_status(0)
            return
        command, arguments = parts[0], parts[1:]
        stdin = b""
        if commands.needs_stdin(command, arguments):
            received = _read_stdin(channel)
            if received is None:
                return
            stdin = received
        try:
            execution = commands.run(host, command, arguments, stdin, transport="ssh")
        except Exception as exc:  # a lab bug: show it to the client instead of hanging up
            log.exception("%s: the lab failed to answer %r", host.name, text[:80])
            message = f"lab error: {type(exc).__name__}: {exc}\r\n".encode(errors="replace")
            execution = Execution(stderr=message, exit_code=1)
        wait = execution.delay_seconds + host.spec.faults.latency_ms / 1000
        if wait > 0 and self._stopping.wait(wait):
            return
        flapping = host.spec.faults.flapping
        if host.spec.faults.drop_mid_command or (
            flapping and self._hosts[host.name].random.random() < flapping
        ):
            host.count("faults_sent")
            log.debug("%s: flapping, dropping the ssh connection", host.name)
            _close_transport(interface.transport)
            return
        stdout, stderr = execution.stdout, execution.stderr
        if channel.get_id() in interface.pty_channels:
            # A program on a pseudo console has one output: its errors come on stdout, and
            # the client's extended-data (stderr) stream stays empty, as with sshd's pty.
            stdout, stderr = stdout + stderr, b""
        if stdout:
            channel.sendall(stdout)
        if stderr:
            channel.sendall_stderr(stderr)
        channel.send_exit_status(execution.exit_code & 0xFFFFFFFF)


def _read_stdin(channel: paramiko.Channel) -> bytes | None:
    """Everything the client sends until EOF; None when it misbehaves or goes away."""
    channel.settimeout(STDIN_IDLE_SECONDS)
    received = bytearray()
    while True:
        try:
            chunk = channel.recv(_CHUNK)
        except TimeoutError:
            log.debug("ssh: no stdin EOF after %.0fs, dropping the session", STDIN_IDLE_SECONDS)
            return None
        if not chunk:
            break
        received += chunk
        if len(received) > MAX_STDIN_BYTES:
            log.debug("ssh: stdin beyond %d bytes, dropping the session", MAX_STDIN_BYTES)
            return None
    if channel.closed:
        return None  # the connection went away rather than ending stdin
    channel.settimeout(None)
    return bytes(received)


def _close_channel(channel: paramiko.Channel) -> None:
    with contextlib.suppress(Exception):
        channel.close()


def _close_transport(transport: paramiko.Transport) -> None:
    with contextlib.suppress(Exception):
        transport.close()
