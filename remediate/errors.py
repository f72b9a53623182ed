"""One exception hierarchy carrying what a user needs: where, which host, what to try."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What the process tells its caller (cron, CI, a script): one table for every command."""

    OK = 0
    NEEDS_ACTION = 1  # findings to fix, or hosts an apply could not finish
    USAGE = 2  # bad usage or input: nothing was changed
    HOST_ERRORS = 3  # some hosts could not be audited (and nothing for NEEDS_ACTION)
    # The work ran, but its result could not be written where asked (reports, retry file,
    # history); it was saved to a fallback file that the message names. Above the run's own
    # code, which the message also gives: a cron job that accepts 1 must still hear of it.
    NOT_WRITTEN = 4
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


class RemediateError(Exception):
    """Base of every error the tool reports to a user (never shown as a traceback)."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.file = file
        self.line = line
        self.host = host

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        if self.host:
            where += f"{self.host}: "
        text = f"{where}{self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class InputError(RemediateError):
    """Bad input from a file or the command line (ExitCode.USAGE)."""


class TransportError(RemediateError):
    """A host could not be reached or talked to; `reason` names the kind for reports."""

    exit_code = ExitCode.HOST_ERRORS
    reason = "transport"


class ConfigurationError(TransportError):
    """The host's connection settings cannot work (no user for NTLM, a missing library...)."""

    reason = "configuration"


class ConnectError(TransportError):
    reason = "unreachable"


class AuthenticationError(TransportError):
    reason = "authentication"


class HostKeyError(TransportError):
    reason = "host_key"


class CertificateError(TransportError):
    reason = "certificate"


class HostTimeoutError(TransportError):
    reason = "timeout"


class ProtocolError(TransportError):
    reason = "protocol"
    fault_code: int | None = None


class ProbeError(TransportError):
    """The script ran but its output is unusable (truncated, corrupt, foreign)."""

    reason = "probe_error"
