"""What a WS-Management request can end in, short of a reply: our own exceptions.

Both ways to a host raise these: the lean HTTP path (wsman_http.py) directly, pywinrm's
transport (pywinrm_path.py, for Kerberos, CredSSP and certificates) translated. So the WinRM
transport handles one set of errors, and a run over Basic or NTLM never imports pywinrm or
requests (a third of a second of start-up, issue 18).

A fault is read as [MS-WSMV] sends it: HTTP 500 with a SOAP 1.2 Fault whose Detail holds a
WSManFault with a numeric Code; 2150858793 (0x80338029, ERROR_WSMAN_OPERATION_TIMEDOUT) on a
Receive means "no output yet" ([MS-WSMV] 3.1.4.14), not a failure.
"""

from __future__ import annotations

import re
from typing import NoReturn, TypeVar
from xml.etree.ElementTree import ParseError

from remediate.errors import TransportError
from remediate.transport.soap_xml import UnsafeReplyError, parse_reply

OPERATION_TIMED_OUT = 2150858793

_SOAP = "{http://www.w3.org/2003/05/soap-envelope}"
_WSMAN_FAULT = "{http://schemas.microsoft.com/wbem/wsman/1/wsmanfault}WSManFault"
_FAULT = f"{_SOAP}Body/{_SOAP}Fault"
_REASON = f"{_SOAP}Reason/{_SOAP}Text"
_DETAIL_FAULT = f"{_SOAP}Detail/{_WSMAN_FAULT}"


class CredentialsRefused(Exception):
    """HTTP 401 to a logon: the host said no (why is for the caller to tell)."""


class HttpStatusError(Exception):
    """An HTTP error status whose body is not a WS-Management fault."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class WSManFault(Exception):
    """A WS-Management fault: its numeric code (None when it gives none) and its reason."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"WS-Management fault {code}: {reason}")
        self.code = code
        self.reason = reason


class OperationTimedOut(Exception):
    """The host had nothing to send within wsman:OperationTimeout: ask again."""


def raise_for_status(status: int, body: bytes) -> NoReturn:
    """The error an HTTP status other than 200 means: a fault when the body is one."""
    try:
        root = parse_reply(body)
    except (ParseError, UnsafeReplyError):
        raise HttpStatusError(status) from None
    fault = root.find(_FAULT)
    if fault is None:
        raise HttpStatusError(status)
    detail = fault.find(_DETAIL_FAULT)
    code_text = detail.get("Code", "") if detail is not None else ""
    code = int(code_text) if code_text.isdigit() else None
    if code == OPERATION_TIMED_OUT:
        raise OperationTimedOut()
    reason = fault.findtext(_REASON) or "(no error message in fault)"
    raise WSManFault(code, reason.strip())


Error = TypeVar("Error", bound=TransportError)


def broke(error: Error) -> Error:
    """Mark an error after which the connection cannot be trusted: no whole answer came back
    (the WinRM transport then deletes its shell over a new connection)."""
    error.connection_broke = True  # type: ignore[attr-defined]
    return error


def connection_broke(exc: BaseException) -> bool:
    """Whether the connection may be dead: marked by `broke` (no whole answer came back: a
    reset, a cut answer, no answer in time) or Ctrl-C in mid-request, as opposed to an answer
    or fault from the host, or the command's own time running out between two Receives."""
    return isinstance(exc, KeyboardInterrupt) or getattr(exc, "connection_broke", False)


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def first_line(exc: BaseException) -> str:
    """A library error's root cause in a few words (urllib3 buries it in nested reprs)."""
    text = str(exc)
    cause = _ERRNO.search(text)
    if cause:
        return cause.group(1).strip().rstrip(".").lower()
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__
