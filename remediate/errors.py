"""One exception hierarchy carrying what a user needs: where, which host, what to try."""

from __future__ import annotations


class RemediateError(Exception):
    """Base of every error the tool reports to a user (never shown as a traceback)."""

    exit_code = 2

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
    """Bad input from a file or the command line (exit code 2)."""


class TransportError(RemediateError):
    """A host could not be reached or talked to; `reason` names the kind for reports."""

    exit_code = 3
    reason = "transport"


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
