"""What `-v`, `-vv` and `-vvv` show of a connection, shared by the transports.

Each transport logs to its own logger (`remediate.transport.winrm`, `remediate.transport.ssh`):

* INFO (`-v`): per host, the endpoint, the authentication scheme and the timings (connecting,
  each command, the whole connection when it closes);
* DEBUG (`-vv`): every request, a WS-Management action or an SSH command's program name, with
  its size in bytes and its duration;
* TRACE (`-vvv`): HTTP header and body sizes, connection details, and every retry.

Messages carry names, sizes and times, never a password, a header's value, an authentication
token or a message body. Each record still carries the host's password, hidden (`Hidden`
prints `***`), so that the command line's handler can redact it from any text a message may
quote (a library's error, say): this package cannot import `remediate.connect.secrets`
(`remediate.connect` imports the transports), the handler can.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TRACE = logging.DEBUG - 5
"""The `-vvv` level, below DEBUG."""
logging.addLevelName(TRACE, "TRACE")

SECRETS_FIELD = "remediate_secrets"
"""The record attribute holding the `Hidden` secrets of the host a record is about."""
HOST_FIELD = "remediate_host"


class Hidden:
    """Secret strings riding on a log record for redaction; shown as `***` everywhere."""

    __slots__ = ("users", "values")

    def __init__(self, values: Iterable[str | None], users: Iterable[str | None] = ()) -> None:
        self.values = tuple(value for value in values if value)
        self.users = tuple(user for user in users if user)

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("secrets cannot be pickled")


class HostLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A transport's logger for one host: each message starts with the host's name, and each
    record carries the host's secrets (hidden) for the handler to redact."""

    def __init__(
        self,
        logger: logging.Logger,
        host: str,
        secrets: Iterable[str | None] = (),
        users: Iterable[str | None] = (),
    ) -> None:
        super().__init__(logger, {HOST_FIELD: host, SECRETS_FIELD: Hidden(secrets, users)})
        self.host = host

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = self.extra
        return f"{self.host}: {msg}", kwargs

    def trace(self, msg: str, *args: object) -> None:
        self.log(TRACE, msg, *args)


@dataclass
class Traffic:
    """What one connection exchanged: requests, bytes each way, seconds waiting for answers."""

    requests: int = 0
    sent: int = 0
    received: int = 0
    waiting: float = 0.0

    def add(self, sent: int, received: int, seconds: float) -> None:
        self.requests += 1
        self.sent += sent
        self.received += received
        self.waiting += seconds

    def __str__(self) -> str:
        return (
            f"{self.requests} request(s), {self.sent} B sent, {self.received} B received, "
            f"{self.waiting:.3f} s waiting for answers"
        )


def text_bytes(text: str | bytes) -> int:
    """The size of a text as UTF-8 on the wire (without encoding the ASCII common case)."""
    if isinstance(text, bytes):
        return len(text)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def header_bytes(headers: Mapping[str, Any]) -> int:
    """The size of HTTP headers as sent (`Name: value` and CRLF each); values are not kept."""
    return sum(len(str(name)) + len(str(value)) + 4 for name, value in headers.items())
