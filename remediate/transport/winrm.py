"""WinRM transport: WinRS over WS-Management, one shell per host, scripts fed through stdin.

The script goes to `powershell.exe -Command -` through Send messages, so its size has no
command-line limit. Receive is retried on operation timeouts (the server's way of saying
"nothing yet", [MS-WSMV] 3.1.4.14: no output within wsman:OperationTimeout is a w:TimedOut
fault) until the command's own limit: the audit's --timeout, or a remediation step's timeout,
which may be an hour while each request still waits only `read_timeout` (a host that stops
answering is noticed within it). The shell is always closed, and "shell not found" on close is
not an error, except after a step's timeout: then it is left open (see CommandStillRunning).

With `-v` and more, the logger `remediate.transport.winrm` tells each host's endpoint, scheme
and timings, then each request (its WS-Management action, size and duration), then the HTTP
header and body sizes and the retries (see `remediate.transport.connection_log`).

Basic and NTLM go over our own HTTP path (wsman_http.py); Kerberos, CredSSP and certificates
over pywinrm's transport (pywinrm_path.py, imported only for such a host). Both speak through
PreformattedProtocol and raise wsman_errors' exceptions, translated here into ours.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from remediate.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
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
from remediate.transport.connection_log import (
    TRACE,
    HostLog,
    Traffic,
    header_bytes,
    text_bytes,
)
from remediate.transport.envelopes import PreformattedProtocol, WSManTransport
from remediate.transport.kerberos_auth import (
    TicketCache,
    is_kerberos_error,
    kerberos_failure,
    thread_ccache,
)
from remediate.transport.settings import WinRMSettings
from remediate.transport.wsman_errors import (
    CredentialsRefused,
    HttpStatusError,
    OperationTimedOut,
    WSManFault,
    broke,
    connection_broke,
    first_line,
)
from remediate.transport.wsman_http import HttpTarget, WSManHTTP, can_carry, offered_schemes

LOG = logging.getLogger(__name__)

STDIN_CHUNK = 64 * 1024  # raw bytes per Send; base64 keeps it well under MaxEnvelopeSize
OPERATIONS_QUOTA = 2150859174  # MaxConcurrentOperationsPerUser exceeded
# Deleting a shell after its connection broke, or on Ctrl-C, is one short attempt: the host may
# really be gone, and whoever waits (the next host, a user who pressed Ctrl-C) must not.
CLEANUP_TIMEOUT = 5


class _RequestMeter:
    """Counts and times one host's requests; at -vv, logs each (action, sizes, duration)."""

    def __init__(self, log: HostLog) -> None:
        self.log = log
        self.traffic = Traffic()

    def measure(self, envelope: str, send: Callable[[str], bytes]) -> bytes:
        started = time.monotonic()
        try:
            reply = send(envelope)
        except BaseException as exc:
            self._done(envelope, 0, started, _outcome(exc))
            raise
        self._done(envelope, len(reply), started, "")
        return reply

    def _done(self, envelope: str, received: int, started: float, outcome: str) -> None:
        seconds = time.monotonic() - started
        sent = text_bytes(envelope)
        self.traffic.add(sent, received, seconds)
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug(
                "%s: sent %d B, received %d B in %.3f s%s",
                _action(envelope),
                sent,
                received,
                seconds,
                outcome,
            )


class _MeteredProtocol(PreformattedProtocol):
    """Every request of the transport passes through `send_message`: measured there."""

    meter: _RequestMeter

    def send_message(self, message: str) -> bytes:
        return self.meter.measure(message, super().send_message)


def _action(envelope: str) -> str:
    """The WS-Management action's last word (`Create`, `Command`, `Receive`...)."""
    end = envelope.find("</a:Action>")
    if end < 0:
        return "request"
    return envelope[envelope.rfind("/", 0, end) + 1 : end]


def _outcome(exc: BaseException) -> str:
    """How a request failed, in words that quote nothing the host or a library wrote."""
    if isinstance(exc, OperationTimedOut):
        return ": operation timeout (nothing yet)"
    if isinstance(exc, WSManFault):
        return f": WS-Management fault {exc.code}"
    if isinstance(exc, CredentialsRefused):
        return ": HTTP 401, credentials rejected"
    if isinstance(exc, HttpStatusError):
        return f": HTTP {exc.status}"
    return f": failed ({type(exc).__name__})"


class WinRMTransport:
    """Runs scripts on one host through a single WinRS shell."""

    def __init__(self, settings: WinRMSettings, host: str | None = None) -> None:
        self.settings = settings
        self.host = host or settings.address
        self._log = HostLog(LOG, self.host, (settings.password,), (settings.username,))
        self._meter = _RequestMeter(self._log)
        self._connected_at: float | None = None  # when this connection's first shell was asked
        self._protocol = self._new_protocol()
        self._shell_id: str | None = None
        self._ccache: str | None = None  # managed Kerberos: the run's cache for our principal
        self._offers: frozenset[str] = frozenset()  # schemes of the host's last 401
        self._broken = False  # the connection broke during a command: delete over a new one
        self._aborted = False  # abort() was called: a shell opened after it is deleted at once
        self.abandoned_shell: str | None = None  # left open for a step still running

    def _new_protocol(self, read_timeout: int | None = None) -> PreformattedProtocol:
        settings = self.settings
        read = settings.read_timeout if read_timeout is None else read_timeout
        if not settings.username and settings.auth not in ("kerberos", "certificate"):
            # pywinrm raised its own InvalidCredentialsError here, which reached users as a
            # traceback: no user is this host's configuration error, found before any request
            raise ConfigurationError(
                f"no user name for {settings.auth} authentication",
                host=self.host,
                hint="set ansible_user (or ansible_winrm_user) for this host or its group",
            )
        operation = min(settings.operation_timeout, max(1, read - 1))
        read = max(read, 2)
        transport: WSManTransport
        if self._lean():
            transport = WSManHTTP(
                self._http_target(),
                read,
                on_refused=self._note_offers,
                on_exchange=self._trace_exchange if self._log.isEnabledFor(TRACE) else None,
            )
        else:
            from remediate.transport.pywinrm_path import PywinrmTransport

            pywinrm = PywinrmTransport(settings, operation, read)
            pywinrm.on_refusal = self._note_refusal
            if self._log.isEnabledFor(TRACE):
                pywinrm.on_response = self._trace_http
            transport = pywinrm
        protocol = _MeteredProtocol(transport, operation)
        protocol.meter = self._meter
        return protocol

    def _lean(self) -> bool:
        """Basic and NTLM go over remediate's own HTTP path (transport/wsman_http.py); the
        other logons, a client certificate and a proxy from the environment stay pywinrm's."""
        settings = self.settings
        if settings.message_encryption == "always" and settings.auth != "ntlm":
            return False  # pywinrm says why it cannot encrypt
        return can_carry(settings.auth, settings.scheme, settings.address, settings.cert_pem)

    def _http_target(self) -> HttpTarget:
        settings = self.settings
        encrypt = settings.auth == "ntlm" and (
            settings.message_encryption == "always"
            or (settings.message_encryption == "auto" and settings.scheme == "http")
        )
        return HttpTarget(
            scheme=settings.scheme,
            address=settings.address,
            port=settings.port,
            auth=settings.auth,
            username=settings.username,
            password=settings.password,
            encrypt=encrypt,
            validate_certificate=settings.validate_certificate,
            ca_trust_path=settings.ca_trust_path,
        )

    def _note_offers(self, offers: frozenset[str]) -> None:
        self._offers = offers

    def _trace_exchange(
        self,
        method: str,
        status: int,
        request_headers: int,
        request_body: int,
        response_headers: int,
        response_body: int,
        legs: int,
    ) -> None:
        """-vvv on the lean path: the sizes of one HTTP exchange (never a header's value)."""
        self._log.trace(
            "HTTP %s %d: request headers %d B, body %d B; response headers %d B, body %d B%s",
            method,
            status,
            request_headers,
            request_body,
            response_headers,
            response_body,
            f"; after {legs} authentication exchange(s)" if legs else "",
        )

    def _open_session(self, protocol: PreformattedProtocol) -> None:
        """Connect (and, to encrypt, authenticate) before the first message."""
        protocol.transport.build_session()

    def _note_refusal(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """pywinrm's path: note the schemes of a 401 (`response` is a requests Response)."""
        if response.status_code == 401:
            self._offers = offered_schemes(
                answer.headers.get("WWW-Authenticate", "")  # requests joins several with commas
                for answer in (*response.history, response)
            )

    def _trace_http(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """-vvv on pywinrm's path: the sizes of one HTTP exchange (never a header's value or
        a body; `response` is a requests Response)."""
        request = response.request
        body = request.body
        exchanges = len(response.history)
        self._log.trace(
            "HTTP %s %d: request headers %d B, body %d B; response headers %d B, body %d B%s",
            request.method,
            response.status_code,
            header_bytes(request.headers),
            text_bytes(body) if isinstance(body, (str, bytes)) else 0,
            header_bytes(response.headers),
            len(response.content),
            f"; after {exchanges} authentication exchange(s)" if exchanges else "",
        )

    def _shell(self) -> str:
        """The host's shell, opened on first use; connection failures are retried with backoff.

        Opening a shell changes nothing on the host, so retrying it is safe; nothing after it
        is ever retried automatically.
        """
        if self._shell_id is None:
            started = time.monotonic()
            if self._connected_at is None:
                self._connected_at = started
                self._announce()
            attempt = 0
            while True:
                tried = time.monotonic()
                try:
                    self._call(lambda: self._open_session(self._protocol))
                    self._log.info(
                        "HTTP session ready in %.3f s (%s)",
                        time.monotonic() - tried,
                        "authenticated, messages encrypted"
                        if self._protocol.transport.encryption
                        else "authentication with the first request",
                    )
                    self._shell_id = self._call(lambda: self._protocol.open_shell(codepage=65001))
                    break
                except ConnectError as exc:
                    if attempt >= self.settings.connect_retries or self._aborted:
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
                    self._restart_session()
                    time.sleep(delay)
                    attempt += 1
                except TransportError as exc:
                    self._log_failure(started, exc)
                    raise
            self._log.info("shell %s opened in %.3f s", self._shell_id, time.monotonic() - started)
            if self._aborted:
                # abort() came while the shell was being created and found none to delete.
                self.close()
                raise ConnectError("the connection was closed while opening", host=self.host)
        return self._shell_id

    def _restart_session(self) -> None:
        """Drop a session that failed while it was being made: pywinrm keeps the session even
        when setting up its message encryption failed, and would send the next attempt's
        messages on it unencrypted (a host with AllowUnencrypted=false refuses them)."""
        with contextlib.suppress(Exception):
            self._protocol.transport.close_session()
        self._protocol = self._new_protocol()

    def _log_failure(self, started: float, error: TransportError) -> None:
        self._log.info(
            "connecting failed after %.3f s: %s", time.monotonic() - started, error.message
        )

    def _announce(self) -> None:
        """-v: where and how this host is reached (never the password)."""
        settings = self.settings
        if settings.scheme == "http":
            tls = "no TLS"
        elif settings.validate_certificate:
            tls = f"TLS certificate checked against {settings.ca_trust_path or 'the system CAs'}"
        else:
            tls = "TLS certificate NOT checked"
        self._log.info(
            "winrm %s, auth %s, user %s, message encryption %s, %s",
            settings.endpoint,
            settings.auth,
            settings.username or "(none)",
            settings.message_encryption,
            tls,
        )
        if settings.auth == "kerberos":
            self._log.info(
                "Kerberos: SPN %s, ticket %s, delegation %s",
                settings.spn,
                "from the password (managed)"
                if settings.kinit_mode == "managed"
                else "from the user's cache (manual)",
                "yes" if settings.kerberos_delegation else "no",
            )

    def run(self, script: str, dialect: str = "powershell", timeout: float | None = None) -> Result:
        data = script.encode("utf-8")
        if dialect == "wsh":
            program, _, arguments = wsh_command_line(secrets.token_hex(8)).partition(" ")
            return self._execute(program, (arguments,), data, timeout)
        return self._execute(POWERSHELL, POWERSHELL_STDIN_ARGUMENTS, data, timeout)

    def run_command(self, program: str, arguments: tuple[str, ...] = ()) -> Result:
        return self._execute(program, arguments, None)

    def _start(
        self, program: str, arguments: tuple[str, ...], stdin_fed: bool = False
    ) -> tuple[str, str]:
        """Start a command; past the operations quota, close the shell and reopen it once.

        A command fed through stdin gets pipe mode (WINRS_CONSOLEMODE_STDIN=FALSE): "The
        client-side mode for standard input is console if TRUE and pipe if FALSE" ([MS-WSMV]
        3.1.4.11 Command), ours is a pipe that ends; a console-mode stdin does not reach EOF
        for a program that reads it to the end (MetricsHub/winrm-java), and Ansible's winrm
        plugin sends `console_mode_stdin=(stdin_iterator is None)`.
        """
        console = not stdin_fed
        shell_id = self._shell()
        try:
            return shell_id, self._call(
                lambda: self._protocol.run_command(
                    shell_id, program, arguments, console_mode_stdin=console
                )
            )
        except ProtocolError as exc:
            if exc.fault_code != OPERATIONS_QUOTA:
                raise
        self._log.trace("operations quota reached: retrying the command in a new shell")
        self.close()
        shell_id = self._shell()
        return shell_id, self._call(
            lambda: self._protocol.run_command(
                shell_id, program, arguments, console_mode_stdin=console
            )
        )

    def _execute(
        self,
        program: str,
        arguments: tuple[str, ...],
        stdin: bytes | None,
        timeout: float | None = None,
    ) -> Result:
        started = time.monotonic()
        shell_id, command_id = self._start(program, arguments, stdin is not None)
        try:
            if stdin is not None:
                self._send(shell_id, command_id, stdin)
            stdout, stderr, exit_code = self._receive(shell_id, command_id, started, timeout)
        except CommandStillRunning:
            # A step past its own timeout: neither Signal nor Delete, both would end it.
            self.abandoned_shell, self._shell_id = self._shell_id, None
            raise
        except BaseException as exc:
            if connection_broke(exc):
                # The connection died under the command (reset, answer cut, no answer in
                # time, Ctrl-C in mid-request): the shell lives on the host, bound to no
                # connection, until its idle timeout (IdleTimeOut, 2 h by default, "Quota
                # Management for Remote Shells"), holding one of the user's
                # MaxShellsPerUser (5 on WinRM 2.0). close() deletes it over a new
                # connection; a Signal on this one would only wait or fail again.
                self._broken = True
                raise
            # A command cut short is told to stop. One that reached Done needs no Signal: the
            # shell's Delete releases it, and skipping it saves a round trip per host.
            with contextlib.suppress(TransportError):
                self._call(lambda: self._protocol.cleanup_command(shell_id, command_id))
            raise
        finally:
            self._protocol.operation_timeout_sec = self.settings.operation_timeout
        elapsed = time.monotonic() - started
        self._log.info(
            "%s: exit %d in %.3f s (stdin %d B, stdout %d B, stderr %d B)",
            program,
            exit_code,
            elapsed,
            len(stdin or b""),
            len(stdout),
            len(stderr),
        )
        return Result(stdout, stderr, exit_code, elapsed)

    def _send(self, shell_id: str, command_id: str, data: bytes) -> None:
        chunks = [data[i : i + STDIN_CHUNK] for i in range(0, len(data), STDIN_CHUNK)] or [b""]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            self._call(
                lambda c=chunk, e=last: self._protocol.send_command_input(
                    shell_id, command_id, c, e
                )
            )

    def _receive(
        self, shell_id: str, command_id: str, started: float, timeout: float | None = None
    ) -> tuple[bytes, bytes, int]:
        """Read output until Done; an operation timeout only means "nothing yet"."""
        stdout, stderr = bytearray(), bytearray()
        deadline = started + (self.settings.command_timeout if timeout is None else timeout)
        while True:
            if timeout is not None:
                # Ask for no more than the step has left, so it is given up on at its time.
                left = math.ceil(deadline - time.monotonic())
                self._protocol.operation_timeout_sec = max(
                    1, min(self.settings.operation_timeout, left)
                )
            try:
                out, err, code, done = self._call(
                    lambda: self._protocol.get_command_output_raw(shell_id, command_id)
                )
            except OperationTimedOut:
                if time.monotonic() >= deadline and timeout is not None:
                    raise CommandStillRunning(
                        f"the step was still running after {timeout:g} s; it was left running",
                        host=self.host,
                        hint="`apply --resume` checks the host again before going on",
                    ) from None
                if time.monotonic() >= deadline:
                    raise HostTimeoutError(
                        f"no result within {self.settings.command_timeout:g} s",
                        host=self.host,
                        hint="raise --timeout, or look at what is slow on the host",
                    ) from None
                continue
            stdout += out
            stderr += err
            if done:
                return bytes(stdout), bytes(stderr), code

    def close(self) -> None:
        """Delete the shell; never raises.

        After a broken connection, or when the Delete itself finds the connection broken,
        the Delete goes out once more on a new, newly authenticated connection (the old
        session's NTLM context and sealing keys died with its socket).
        """
        shell_id, self._shell_id = self._shell_id, None
        broken, self._broken = self._broken, False
        if shell_id is None:
            return
        try:
            if not broken:
                try:
                    self._call(lambda: self._protocol.close_shell(shell_id))
                    return
                except TransportError as exc:
                    if not connection_broke(exc):
                        return  # a fault: the shell is gone already, or the host said why not
            self._log.trace("the connection broke: deleting shell %s over a new one", shell_id)
            self._delete_fresh(shell_id)
            self._protocol = self._new_protocol()  # the next shell starts on a clean session
        finally:
            self._report_closed()

    def _report_closed(self) -> None:
        """-v: how long the host's connection lasted and what it exchanged."""
        if self._connected_at is not None:
            elapsed = time.monotonic() - self._connected_at
            self._log.info("closed after %.3f s: %s", elapsed, self._meter.traffic)
            self._connected_at = None
            self._meter.traffic = Traffic()

    def abort(self) -> None:
        """Close the shell from another thread while a command may still be running.

        The running thread holds the authenticated connection (NTLM binds the session to it),
        so the Delete goes out on a fresh connection of its own; the shell belongs to the
        user, not to the connection, and the other thread's next Receive fails at once.
        """
        self._aborted = True
        shell_id, self._shell_id = self._shell_id, None
        if shell_id is not None:
            self._log.trace("stopping: deleting shell %s over a new connection", shell_id)
            self._delete_fresh(shell_id)
            self._report_closed()

    def _delete_fresh(self, shell_id: str) -> bool:
        """Delete a shell over a new connection, each request waiting CLEANUP_TIMEOUT at most;
        True when the host confirmed (or no longer knows the shell). Never raises."""
        protocol = self._new_protocol(min(self.settings.read_timeout, CLEANUP_TIMEOUT))
        try:
            self._call(lambda: self._open_session(protocol))
            self._call(lambda: protocol.close_shell(shell_id))
            return True
        except TransportError as exc:
            return not connection_broke(exc)
        except Exception:  # a cleanup must not hide what went wrong before it
            return False
        finally:
            with contextlib.suppress(Exception):
                protocol.transport.close_session()

    def _ticket_cache(self) -> str | None:
        """Managed Kerberos: the run's cache holding our principal's ticket (asked of the KDC
        by the first host of the principal); None for manual mode and other transports."""
        settings = self.settings
        if settings.auth != "kerberos" or settings.kinit_mode != "managed":
            return None
        if self._ccache is None:
            tickets = settings.tickets if settings.tickets is not None else _process_tickets()
            started = time.monotonic()
            self._ccache = tickets.ccache_for(
                settings.username,
                settings.password,
                self.host,
                forwardable=settings.kerberos_delegation,
            )
            self._log.info(
                "Kerberos ticket of %s ready in %.3f s (the run's private cache)",
                settings.username,
                time.monotonic() - started,
            )
        return self._ccache

    def _call(self, operation):  # type: ignore[no-untyped-def]
        """Run one protocol operation, turning library errors into ours (no secrets inside).

        Kerberos calls in this thread use the run's cache while it runs (see kerberos_auth).
        """
        with thread_ccache(self._ticket_cache()):
            return self._translate(operation)

    def _refused(self) -> AuthenticationError:
        """Why the host answered 401, as far as the schemes it offers tell."""
        auth, offers = self.settings.auth, self._offers
        shown = ", ".join(sorted(offers)) or "none"
        if auth == "kerberos" and offers and not offers & {"negotiate", "kerberos"}:
            return AuthenticationError(
                f"the host does not accept Kerberos (it offers: {shown})",
                host=self.host,
                hint="enable Kerberos in the host's WinRM service (winrm/config/service/auth), "
                "or choose another ansible_winrm_transport",
            )
        if auth == "kerberos":
            return AuthenticationError(
                f"the host refused the Kerberos ticket for {self.settings.spn} (HTTP 401)",
                host=self.host,
                hint="the user may not be allowed to connect (Remote Management Users or "
                "Administrators on the host), the SPN may belong to another account "
                f"(setspn -Q {self.settings.spn}) so the host cannot read the ticket, or the "
                "host's WinRM service does not accept Kerberos (winrm/config/service/auth)",
            )
        if auth == "certificate":
            return AuthenticationError(
                "the host refused the client certificate (HTTP 401)",
                host=self.host,
                hint="the host maps certificates to accounts with winrm/config/service/"
                "certmapping (Issuer: the thumbprint of the CA that signed the certificate, "
                "Subject: the UPN in its subjectAltName) and needs Auth/Certificate=true; the "
                "certificate needs the Client Authentication EKU and must be valid now",
            )
        if auth == "ntlm" and offers and not offers & {"negotiate", "ntlm"}:
            return _ntlm_refused(self.host, f"it offers: {shown}")
        if auth == "ntlm":
            # A host that denies NTLM (Restrict NTLM: Incoming NTLM traffic = Deny all) answers
            # the AUTHENTICATE_MESSAGE with the same bare 401 as a wrong password: both named.
            return AuthenticationError(
                "the host refused the NTLM logon (HTTP 401): wrong user or password, or the "
                "host denies NTLM",
                host=self.host,
                hint="check ansible_user/ansible_password; a host with 'Restrict NTLM: "
                "Incoming NTLM traffic = Deny all' takes Kerberos only: set "
                "ansible_winrm_transport=kerberos and ansible_user=user@REALM",
            )
        return AuthenticationError(
            "the credentials were rejected (HTTP 401)",
            host=self.host,
            hint="check ansible_user/ansible_password and ansible_winrm_transport; a host "
            "that restricts NTLM refuses NTLM logons too: use kerberos there",
        )

    def _library_failure(self, exc: BaseException) -> TransportError | None:
        """requests' and pywinrm's errors (their path only) in our words; None otherwise."""
        if not type(exc).__module__.startswith(("requests", "urllib3", "winrm")):
            return None
        from remediate.transport.pywinrm_path import is_pywinrm_error, requests_failure

        failure = requests_failure(exc, self.settings.endpoint, self.host)
        if failure is None and is_pywinrm_error(exc):
            failure = ProtocolError(f"WinRM error: {first_line(exc)}", host=self.host)
        return failure

    def _translate(self, operation):  # type: ignore[no-untyped-def]
        try:
            return operation()
        except TransportError as exc:  # the lean HTTP path's own (transport/wsman_http.py)
            if exc.host is None:
                exc.host = self.host
            raise
        except OperationTimedOut:
            raise
        except CredentialsRefused:
            raise self._refused() from None
        except PermissionError as exc:
            # requests_ntlm: "Server did not respond with NTLM challenge token": the host
            # answered our NTLM NEGOTIATE_MESSAGE with a bare 401, refusing NTLM itself.
            if self.settings.auth == "ntlm" and "NTLM" in str(exc):
                raise _ntlm_refused(self.host, "it sent no NTLM challenge") from None
            raise broke(
                ProtocolError(f"unusable answer: {first_line(exc)}", host=self.host)
            ) from None
        except WSManFault as exc:
            error = ProtocolError(f"WS-Management fault {exc.code}: {exc.reason}", host=self.host)
            error.fault_code = exc.code
            raise error from None
        except HttpStatusError as exc:
            raise ProtocolError(
                f"HTTP {exc.status} from {self.settings.endpoint}", host=self.host
            ) from None
        except Exception as exc:  # a broken answer: cut headers, bad tokens
            failure = self._library_failure(exc)
            if failure is not None:
                raise failure from None
            if self.settings.auth == "credssp" and _is_credssp_error(exc):
                raise _credssp_refused(exc, self.host) from None
            if is_kerberos_error(exc):
                raise kerberos_failure(
                    exc, self.host, self.settings.username, self.settings.spn
                ) from None
            raise broke(
                ProtocolError(
                    f"unusable answer from {self.settings.endpoint}: "
                    f"{type(exc).__name__}: {first_line(exc)}",
                    host=self.host,
                )
            ) from None


# What a CredSSP acceptor answers in its TSRequest errorCode ([MS-CSSP] 2.2.1, version 3 and
# later): NTSTATUS or SSPI codes; the names are Windows' (ntstatus.h, winerror.h).
_CREDSSP_STATUS = {
    0x8009030C: ("SEC_E_LOGON_DENIED", "wrong user or password"),
    0xC000006D: ("STATUS_LOGON_FAILURE", "wrong user or password"),
    0xC0000071: ("STATUS_PASSWORD_EXPIRED", "the password has expired"),
    0xC0000072: ("STATUS_ACCOUNT_DISABLED", "the account is disabled"),
    0xC000006E: ("STATUS_ACCOUNT_RESTRICTION", "the account may not log on this way"),
}


def _is_credssp_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("requests_credssp")


def _credssp_refused(exc: BaseException, host: str) -> AuthenticationError:
    """requests-credssp's refusals as a domain administrator reads them (no library text)."""
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        name, meaning = _CREDSSP_STATUS.get(status & 0xFFFFFFFF, (f"0x{status:08X}", ""))
        return AuthenticationError(
            f"the host refused the CredSSP logon ({name}{': ' + meaning if meaning else ''})",
            host=host,
            hint="check ansible_user (DOMAIN\\user or user@domain) and ansible_password",
        )
    if "CredSSP" in str(exc) and "available" in str(exc):
        return AuthenticationError(
            "the host does not offer CredSSP (its 401 names no CredSSP)",
            host=host,
            hint="on the host: Enable-WSManCredSSP -Role Server (winrm/config/service/auth "
            "CredSSP=true), or choose another ansible_winrm_transport",
        )
    return AuthenticationError(
        f"the CredSSP logon failed ({type(exc).__name__})",
        host=host,
        hint="check ansible_user/ansible_password; the host's CredSSP settings (Get-WSManCredSSP)",
    )


_PROCESS_TICKETS: TicketCache | None = None
_PROCESS_LOCK = threading.Lock()


def _process_tickets() -> TicketCache:
    """Tickets for settings made without a run's cache (a library caller): one per process."""
    global _PROCESS_TICKETS
    with _PROCESS_LOCK:
        if _PROCESS_TICKETS is None:
            _PROCESS_TICKETS = TicketCache()
        return _PROCESS_TICKETS


def _ntlm_refused(host: str, offers: str) -> AuthenticationError:
    return AuthenticationError(
        f"the host refuses NTLM ({offers})",
        host=host,
        hint="the host denies incoming NTLM (Network security: Restrict NTLM: Incoming NTLM "
        "traffic = Deny all): use ansible_winrm_transport=kerberos with user@REALM",
    )
