"""SSH transport: paramiko to OpenSSH on Windows, the script on standard input.

Host keys are checked against known_hosts files: an unknown key is refused unless the caller
accepts new keys (like `StrictHostKeyChecking=accept-new`); a changed key is always refused.

With `-v` and more, the logger `remediate.transport.ssh` tells each host's endpoint,
authentication and timings, then each command (its program's name, sizes and duration), then
the connection's details and the retries (see `remediate.transport.connection_log`).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import time
from pathlib import Path

import paramiko

from remediate.errors import (
    AuthenticationError,
    ConnectError,
    HostKeyError,
    HostTimeoutError,
    ProtocolError,
    TransportError,
)
from remediate.transport import (
    POWERSHELL,
    POWERSHELL_STDIN_ARGUMENTS,
    CommandStillRunning,
    Result,
    wsh_command_line,
)
from remediate.transport.connection_log import TRACE, HostLog, Traffic
from remediate.transport.settings import SshSettings

LOG = logging.getLogger(__name__)


class SshTransport:
    """Runs scripts on one host, one exec channel per script over one SSH connection."""

    def __init__(self, settings: SshSettings, host: str | None = None) -> None:
        self.settings = settings
        self.host = host or settings.address
        self._client: paramiko.SSHClient | None = None
        self._log = HostLog(LOG, self.host, (settings.password,), (settings.username,))
        self._traffic = Traffic()
        self._connected_at: float | None = None

    def _connect(self) -> paramiko.SSHClient:
        """The connection, opened on first use; refused or timed-out connects are retried."""
        if self._client is not None:
            return self._client
        started = time.monotonic()
        self._announce()
        attempt = 0
        while True:
            try:
                self._client = self._open()
                break
            except ConnectError as exc:
                if attempt >= self.settings.connect_retries:
                    self._log_failure(started, exc)
                    raise
                delay = self.settings.retry_backoff * (2**attempt)
                self._log.trace(
                    "connecting failed (%s); retry %d of %d in %.1f s",
                    exc.message,
                    attempt + 1,
                    self.settings.connect_retries,
                    delay,
                )
                time.sleep(delay)
                attempt += 1
            except TransportError as exc:
                self._log_failure(started, exc)
                raise
        self._connected_at = started
        self._log.info("connected and authenticated in %.3f s", time.monotonic() - started)
        if self._log.isEnabledFor(TRACE):
            self._trace_connection(self._client)
        return self._client

    def _log_failure(self, started: float, error: TransportError) -> None:
        self._log.info(
            "connecting failed after %.3f s: %s", time.monotonic() - started, error.message
        )

    def _announce(self) -> None:
        """-v: where and how this host is reached (never the password)."""
        settings = self.settings
        if settings.key_file and settings.password:
            auth = f"public key {settings.key_file}, then password"
        elif settings.key_file:
            auth = f"public key {settings.key_file}"
        else:
            auth = "password" if settings.password else "none"
        address = f"[{settings.address}]" if ":" in settings.address else settings.address
        self._log.info(
            "ssh://%s:%d, user %s, auth %s, host key %s",
            address,
            settings.port,
            settings.username or "(none)",
            auth,
            "new keys accepted" if settings.accept_new_host_keys else "must be known",
        )

    def _trace_connection(self, client: paramiko.SSHClient) -> None:
        """-vvv: the server's version, the cipher and the host key's fingerprint."""
        transport = client.get_transport()
        if transport is None:
            return
        key = transport.get_remote_server_key()
        self._log.trace(
            "server %s, cipher %s, host key %s %s",
            transport.remote_version,
            transport.remote_cipher,
            key.get_name(),
            key.fingerprint,
        )

    def _open(self) -> paramiko.SSHClient:
        settings = self.settings
        client = paramiko.SSHClient()
        client.load_system_host_keys()
        for path in settings.known_hosts:
            if Path(path).exists():
                client.load_host_keys(path)
        client.set_missing_host_key_policy(
            paramiko.AutoAddPolicy() if settings.accept_new_host_keys else paramiko.RejectPolicy()
        )
        try:
            # Nagle plus delayed ACKs cost ~40 ms on every exec after the first: send at once.
            sock = socket.create_connection(
                (settings.address, settings.port), timeout=settings.connect_timeout
            )
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.connect(
                settings.address,
                sock=sock,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                key_filename=settings.key_file,
                timeout=settings.connect_timeout,
                banner_timeout=settings.connect_timeout,
                auth_timeout=settings.connect_timeout,
                allow_agent=False,
                look_for_keys=False,
            )
        except paramiko.BadHostKeyException:
            client.close()
            raise HostKeyError(
                f"the SSH host key of {settings.address} has CHANGED; refusing to connect",
                host=self.host,
                hint="if the host was rebuilt, remove its old line from known_hosts",
            ) from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise HostKeyError(
                    f"the SSH host key of {settings.address} is unknown",
                    host=self.host,
                    hint="add it to known_hosts or pass --accept-new-host-keys",
                ) from None
            if isinstance(exc, paramiko.AuthenticationException):
                raise AuthenticationError(
                    "SSH authentication failed",
                    host=self.host,
                    hint="check ansible_user and the password or key",
                ) from None
            raise ProtocolError(f"SSH error: {exc}", host=self.host) from None
        except TimeoutError:
            client.close()
            raise HostTimeoutError(
                f"connecting to {settings.address}:{settings.port} timed out", host=self.host
            ) from None
        except OSError as exc:
            client.close()
            raise ConnectError(
                f"cannot connect to {settings.address}:{settings.port}: {exc.strerror or exc}",
                host=self.host,
            ) from None
        if settings.accept_new_host_keys and settings.known_hosts:
            with contextlib.suppress(OSError):
                client.save_host_keys(settings.known_hosts[0])
        return client

    def run(self, script: str, dialect: str = "powershell", timeout: float | None = None) -> Result:
        if dialect == "wsh":
            command = wsh_command_line(secrets.token_hex(8))
        else:
            command = " ".join((POWERSHELL, *POWERSHELL_STDIN_ARGUMENTS))
        return self.exec(command, script.encode("utf-8"), timeout)

    def run_command(self, program: str, arguments: tuple[str, ...] = ()) -> Result:
        return self.exec(" ".join((program, *arguments)), None)

    def exec(self, command_line: str, stdin: bytes | None, timeout: float | None = None) -> Result:
        """Run a command line; feed stdin (then EOF) when given.

        `timeout` (a remediation step's own) replaces the command timeout; past it the channel
        is closed and CommandStillRunning raised: the command may or may not go on (see there).
        """
        wait = self.settings.command_timeout if timeout is None else timeout
        started = time.monotonic()
        client = self._connect()
        transport = client.get_transport()
        if transport is None:
            raise ConnectError("SSH connection lost", host=self.host)
        begun = time.monotonic()
        try:
            stdout, stderr, exit_code = self._on_channel(
                transport, command_line, stdin, started, wait, timeout
            )
        except BaseException as exc:
            self._measured(command_line, stdin, 0, begun, f": failed ({type(exc).__name__})")
            raise
        self._measured(command_line, stdin, len(stdout) + len(stderr), begun, "")
        elapsed = time.monotonic() - started
        self._log.info(
            "%s: exit %d in %.3f s (stdin %d B, stdout %d B, stderr %d B)",
            _program(command_line),
            exit_code,
            elapsed,
            len(stdin or b""),
            len(stdout),
            len(stderr),
        )
        return Result(bytes(stdout), bytes(stderr), exit_code, elapsed)

    def _on_channel(
        self,
        transport: paramiko.Transport,
        command_line: str,
        stdin: bytes | None,
        started: float,
        wait: float,
        timeout: float | None,
    ) -> tuple[bytearray, bytearray, int]:
        """One exec channel: the command's stdout, stderr and exit code."""
        try:
            opening = time.monotonic()
            channel = transport.open_session(timeout=self.settings.connect_timeout)
            self._log.trace(
                "channel %d opened in %.3f s; command line %d B",
                channel.get_id(),
                time.monotonic() - opening,
                len(command_line.encode("utf-8", "surrogatepass")),
            )
            channel.settimeout(wait)
            channel.exec_command(command_line)
            stdout, stderr = bytearray(), bytearray()
            readers = [
                threading.Thread(target=_drain, args=(channel.recv, stdout), daemon=True),
                threading.Thread(target=_drain, args=(channel.recv_stderr, stderr), daemon=True),
            ]
            for reader in readers:
                reader.start()
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
            for reader in readers:
                reader.join(max(0.0, started + wait - time.monotonic()))
            if not any(r.is_alive() for r in readers):
                # A reader also ends when recv times out: wait for the exit status a little.
                channel.status_event.wait(max(1.0, started + wait - time.monotonic()))
            if any(r.is_alive() for r in readers) or not channel.exit_status_ready():
                channel.close()
                if timeout is not None:
                    raise CommandStillRunning(
                        f"the step was still running after {timeout:g} s",
                        host=self.host,
                        hint="`apply --resume` checks the host again before going on",
                    )
                raise HostTimeoutError("the command did not finish in time", host=self.host)
            exit_code = channel.recv_exit_status()
            channel.close()
            if exit_code == -1 and not transport.is_active():
                # paramiko ends a channel, with no exit status (-1), when its connection
                # drops: the command's result is unknown, not an empty success. sshd ends a
                # session whose connection is gone, so nothing is left to close on the host.
                self.close()
                raise ConnectError("the SSH connection was lost during the command", host=self.host)
        except (paramiko.SSHException, OSError) as exc:
            raise ProtocolError(f"SSH channel failed: {exc}", host=self.host) from None
        return stdout, stderr, exit_code

    def _measured(
        self,
        command_line: str,
        stdin: bytes | None,
        received: int,
        started: float,
        outcome: str,
    ) -> None:
        """Count one command; -vv: its program's name, sizes and duration."""
        seconds = time.monotonic() - started
        sent = len(command_line.encode("utf-8", "surrogatepass")) + len(stdin or b"")
        self._traffic.add(sent, received, seconds)
        self._log.debug(
            "exec %s: sent %d B, received %d B in %.3f s%s",
            _program(command_line),
            sent,
            received,
            seconds,
            outcome,
        )

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
            if self._connected_at is not None:
                elapsed = time.monotonic() - self._connected_at
                self._log.info("closed after %.3f s: %s", elapsed, self._traffic)
                self._connected_at = None
                self._traffic = Traffic()

    def abort(self) -> None:
        """Close from another thread: dropping the connection ends the remote command."""
        self.close()


def _program(command_line: str) -> str:
    """The program a command line runs, without its arguments (they may say too much)."""
    return command_line.split(" ", 1)[0] or "(empty)"


def _drain(receive, sink: bytearray) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(OSError, paramiko.SSHException):
        while chunk := receive(65536):
            sink.extend(chunk)
