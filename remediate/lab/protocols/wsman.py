"""WS-Management SOAP for the Windows Remote Shell resource, as Windows speaks it.

Requests are read by namespace URI (pywinrm writes `env:`/`w:`, pypsrp `s:`/`wsman:`), and
responses are written with the prefixes Windows uses (`s`, `a`, `x`, `w`, `p`, `rsp`).
References: DMTF DSP0226 (WS-Management), MS-WSMV 3.1.4 (Windows Remote Shell).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_WSMAN_MS = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
NS_IDENTITY = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
CMD_RESOURCE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"

ACTION_CREATE = f"{NS_TRANSFER}/Create"
ACTION_DELETE = f"{NS_TRANSFER}/Delete"
ACTION_COMMAND = f"{NS_SHELL}/Command"
ACTION_SEND = f"{NS_SHELL}/Send"
ACTION_RECEIVE = f"{NS_SHELL}/Receive"
ACTION_SIGNAL = f"{NS_SHELL}/Signal"
ACTION_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ADDRESSING_FAULT = f"{NS_ADDRESSING}/fault"

STATE_RUNNING = f"{NS_SHELL}/CommandState/Running"
STATE_DONE = f"{NS_SHELL}/CommandState/Done"
SIGNAL_TERMINATE = f"{NS_SHELL}/signal/terminate"
SIGNAL_CTRL_C = f"{NS_SHELL}/signal/ctrl_c"
SIGNAL_CTRL_BREAK = f"{NS_SHELL}/signal/ctrl_break"

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"

_ENVELOPE_OPEN = (
    '<s:Envelope xml:lang="en-US"'
    f' xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDRESSING}" xmlns:x="{NS_TRANSFER}"'
    f' xmlns:w="{NS_WSMAN}" xmlns:rsp="{NS_SHELL}" xmlns:p="{NS_WSMAN_MS}">'
)


class SoapError(ValueError):
    """A request that is not a WS-Management envelope the lab can read."""


@dataclass
class Request:
    """The parts of a WS-Management request the Windows Remote Shell cares about."""

    action: str
    message_id: str
    resource_uri: str
    to: str
    selectors: dict[str, str]
    options: dict[str, str]
    operation_timeout: float
    max_envelope_size: int
    body: ET.Element | None
    identify: bool = False
    extra: dict[str, str] = field(default_factory=dict)


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str, default: float) -> float:
    """Seconds in an xs:duration such as `PT20S` or `PT1.500S`; default when absent or odd."""
    match = _DURATION.match(text.strip()) if text else None
    if not match:
        return default
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return (
        parts.get("d", 0) * 86400
        + parts.get("h", 0) * 3600
        + parts.get("m", 0) * 60
        + parts.get("s", 0)
    )


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def parse_request(data: bytes) -> Request:
    """Read a SOAP envelope by namespace URI; SoapError when it is not one."""
    try:
        root = ET.fromstring(data)  # noqa: S314 - the lab reads its own clients' requests
    except ET.ParseError as exc:
        raise SoapError(f"request is not XML: {exc}") from None
    if root.tag != f"{{{NS_SOAP}}}Envelope":
        raise SoapError("request is not a SOAP 1.2 envelope")
    header = root.find(f"{{{NS_SOAP}}}Header")
    body = root.find(f"{{{NS_SOAP}}}Body")
    body_child = body[0] if body is not None and len(body) else None
    identify = body_child is not None and body_child.tag == f"{{{NS_IDENTITY}}}Identify"
    if header is None and not identify:
        raise SoapError("request has no SOAP header")

    def h(ns: str, name: str) -> ET.Element | None:
        return header.find(f"{{{ns}}}{name}") if header is not None else None

    selectors: dict[str, str] = {}
    selector_set = h(NS_WSMAN, "SelectorSet")
    if selector_set is not None:
        for selector in selector_set.findall(f"{{{NS_WSMAN}}}Selector"):
            selectors[selector.get("Name", "")] = _text(selector)
    options: dict[str, str] = {}
    option_set = h(NS_WSMAN, "OptionSet")
    if option_set is not None:
        for option in option_set.findall(f"{{{NS_WSMAN}}}Option"):
            options[option.get("Name", "")] = _text(option)
    max_envelope = _text(h(NS_WSMAN, "MaxEnvelopeSize"))
    return Request(
        action=_text(h(NS_ADDRESSING, "Action")),
        message_id=_text(h(NS_ADDRESSING, "MessageID")),
        resource_uri=_text(h(NS_WSMAN, "ResourceURI")),
        to=_text(h(NS_ADDRESSING, "To")),
        selectors=selectors,
        options=options,
        operation_timeout=parse_duration(_text(h(NS_WSMAN, "OperationTimeout")), 60.0),
        max_envelope_size=int(max_envelope) if max_envelope.isdigit() else 153600,
        body=body_child,
        identify=identify,
    )


def envelope(action: str, relates_to: str, body: str) -> bytes:
    """A response envelope with the addressing headers Windows sends."""
    header = (
        f"<s:Header><a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
    )
    return f"{_ENVELOPE_OPEN}{header}<s:Body>{body}</s:Body></s:Envelope>".encode()


def create_response(
    request: Request, address: str, shell_id: str, owner: str, client_ip: str, idle_timeout: str
) -> bytes:
    """`CreateResponse`: the new shell's endpoint reference and its `rsp:Shell` properties."""
    body = (
        "<x:ResourceCreated>"
        f"<a:Address>{escape(address)}</a:Address>"
        "<a:ReferenceParameters>"
        f"<w:ResourceURI>{CMD_RESOURCE}</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters></x:ResourceCreated>"
        f'<rsp:Shell xmlns:rsp="{NS_SHELL}">'
        f"<rsp:ShellId>{shell_id}</rsp:ShellId>"
        f"<rsp:ResourceUri>{CMD_RESOURCE}</rsp:ResourceUri>"
        f"<rsp:Owner>{escape(owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>"
        f"<rsp:IdleTimeOut>{idle_timeout}</rsp:IdleTimeOut>"
        "<rsp:InputStreams>stdin</rsp:InputStreams>"
        "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
        "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
        "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
        "</rsp:Shell>"
    )
    return envelope(f"{NS_TRANSFER}/CreateResponse", request.message_id, body)


def command_response(request: Request, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return envelope(f"{NS_SHELL}/CommandResponse", request.message_id, body)


def send_response(request: Request) -> bytes:
    return envelope(f"{NS_SHELL}/SendResponse", request.message_id, "<rsp:SendResponse/>")


def signal_response(request: Request) -> bytes:
    return envelope(f"{NS_SHELL}/SignalResponse", request.message_id, "<rsp:SignalResponse/>")


def delete_response(request: Request) -> bytes:
    return envelope(f"{NS_TRANSFER}/DeleteResponse", request.message_id, "")


@dataclass(frozen=True)
class StreamChunk:
    name: str
    data: bytes
    end: bool = False


def receive_response(
    request: Request, command_id: str, chunks: list[StreamChunk], exit_code: int | None
) -> bytes:
    """`ReceiveResponse`: stream chunks, then the command state (Done carries the exit code)."""
    import base64

    parts = ["<rsp:ReceiveResponse>"]
    for chunk in chunks:
        end = ' End="true"' if chunk.end else ""
        payload = base64.b64encode(chunk.data).decode("ascii")
        parts.append(
            f'<rsp:Stream Name="{chunk.name}" CommandId="{command_id}"{end}>{payload}</rsp:Stream>'
        )
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{STATE_RUNNING}"/>')
    else:
        parts.append(
            f'<rsp:CommandState CommandId="{command_id}" State="{STATE_DONE}">'
            f"<rsp:ExitCode>{exit_code}</rsp:ExitCode></rsp:CommandState>"
        )
    parts.append("</rsp:ReceiveResponse>")
    return envelope(f"{NS_SHELL}/ReceiveResponse", request.message_id, "".join(parts))


def identify_response(product_version: str) -> bytes:
    """The answer to a WS-Management Identify request (no addressing headers)."""
    return (
        f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:wsmid="{NS_IDENTITY}"><s:Header/><s:Body>'
        "<wsmid:IdentifyResponse>"
        "<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
        "</wsmid:ProtocolVersion>"
        "<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>"
        f"<wsmid:ProductVersion>{escape(product_version)}</wsmid:ProductVersion>"
        "</wsmid:IdentifyResponse></s:Body></s:Envelope>"
    ).encode()


# -- Faults ------------------------------------------------------------------------------------
# Windows sends every fault with HTTP status 500, whatever its s:Code says; pywinrm reads the
# fault (WSManFaultError) from a 500 response.
FAULT_HTTP_STATUS = 500

# f:WSManFault/@Code: Windows error code names (wsmerror.h; values as published in
# microsoft/windows-rs, Win32::System::RemoteManagement). [MS-WSMV] 2.2.4.43 defines the
# f:WSManFault detail (Code, Machine, Message).
ERROR_WSMAN_INVALID_ACTIONURI = 2150858753  # 0x80338001
ERROR_WSMAN_DESTINATION_UNREACHABLE = 2150858770  # 0x80338012
# [MS-WSMV] 3.1.4.14 Receive: no output before wsman:OperationTimeout -> a fault with this code,
# and the client SHOULD Receive again.
ERROR_WSMAN_OPERATION_TIMEDOUT = 2150858793  # 0x80338029
ERROR_WSMAN_SCHEMA_VALIDATION_ERROR = 2150858817  # 0x80338041
# An unknown ShellId or CommandId: selectors that match nothing (subcode wsman:InvalidSelectors,
# fault detail UnexpectedSelectors).
ERROR_WSMAN_UNEXPECTED_SELECTORS = 2150858843  # 0x8033805B
# [MS-WSMV] 3.1.4.5.2.1 wsman:QuotaLimit: winrm/config/winrs MaxShellsPerUser exceeded on Create.
ERROR_WSMAN_QUOTA_MAX_SHELLS = 2150859173  # 0x803381A5
# MaxConcurrentOperationsPerUser exceeded; WinRS does not give a command's operation back until
# the shell is deleted (Ansible's winrm connection plugin re-creates the shell on this code).
ERROR_WSMAN_QUOTA_MAX_OPERATIONS = 2150859174  # 0x803381A6

# s:Subcode/s:Value: the fault subcodes of DSP0226 (WS-Management) in the wsman namespace, and
# those of WS-Addressing in the addressing namespace (see `Fault.subcode_ns`).
SUBCODE_TIMED_OUT = "TimedOut"  # wsman:TimedOut
SUBCODE_INVALID_SELECTORS = "InvalidSelectors"  # wsman:InvalidSelectors
SUBCODE_QUOTA_LIMIT = "QuotaLimit"  # wsman:QuotaLimit, [MS-WSMV] 3.1.4.5.2.1
# [MS-WSMV] 3.1.4.1.31.3: for any operation whose XML is invalid.
SUBCODE_SCHEMA_VALIDATION_ERROR = "SchemaValidationError"  # wsman:SchemaValidationError
SUBCODE_ACTION_NOT_SUPPORTED = "ActionNotSupported"  # wsa:ActionNotSupported
SUBCODE_DESTINATION_UNREACHABLE = "DestinationUnreachable"  # wsa:DestinationUnreachable


@dataclass(frozen=True)
class Fault:
    """A WS-Management fault as Windows sends it (HTTP 500, s:Fault, f:WSManFault Code=)."""

    code: int
    subcode: str
    message: str
    sender: bool = False
    action: str = ACTION_FAULT
    subcode_ns: str = NS_WSMAN
    reason: str | None = None  # s:Reason when Windows words it apart from f:Message
    detail: str | None = None  # w:FaultDetail URI, before f:WSManFault

    def render(self, relates_to: str, machine: str) -> bytes:
        value = "s:Sender" if self.sender else "s:Receiver"
        prefix = "w" if self.subcode_ns == NS_WSMAN else "a"
        detail = f"<w:FaultDetail>{self.detail}</w:FaultDetail>" if self.detail else ""
        body = (
            f"<s:Fault><s:Code><s:Value>{value}</s:Value>"
            f"<s:Subcode><s:Value>{prefix}:{self.subcode}</s:Value></s:Subcode></s:Code>"
            f'<s:Reason><s:Text xml:lang="en-US">{escape(self.reason or self.message)}'
            "</s:Text></s:Reason>"
            f'<s:Detail>{detail}<f:WSManFault xmlns:f="{NS_FAULT}" Code="{self.code}"'
            f" Machine={quoteattr(machine)}>"
            f"<f:Message>{escape(self.message)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
        )
        return envelope(self.action, relates_to, body)


def timed_out() -> Fault:
    return Fault(
        ERROR_WSMAN_OPERATION_TIMEDOUT,
        SUBCODE_TIMED_OUT,
        "The WS-Management service cannot complete the operation within the time specified in "
        "OperationTimeout.  ",
    )


INVALID_SELECTORS_REASON = (
    "The WS-Management service cannot process the request because the request contained "
    "invalid selectors for the resource. "
)
UNEXPECTED_SELECTORS = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"


def shell_not_found(shell_id: str) -> Fault:
    return Fault(
        ERROR_WSMAN_UNEXPECTED_SELECTORS,
        SUBCODE_INVALID_SELECTORS,
        f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the "
        "shell was not found on the server. Possible causes are: the specified ShellId is "
        "incorrect or the shell no longer exists on the server. Provide the correct ShellId or "
        "create a new shell and retry the operation. ",
        sender=True,
        reason=INVALID_SELECTORS_REASON,
        detail=UNEXPECTED_SELECTORS,
    )


def command_not_found() -> Fault:
    return Fault(
        ERROR_WSMAN_UNEXPECTED_SELECTORS,
        SUBCODE_INVALID_SELECTORS,
        "The Windows Remote Shell received a request to perform an operation on a command "
        "identifier that does not exist. Either the command has completed execution or the "
        "client specified an invalid command identifier. ",
        sender=True,
        reason=INVALID_SELECTORS_REASON,
        detail=UNEXPECTED_SELECTORS,
    )


def shell_quota(limit: int) -> Fault:
    return Fault(
        ERROR_WSMAN_QUOTA_MAX_SHELLS,
        SUBCODE_QUOTA_LIMIT,
        f"The WS-Management service cannot process the request. This user is allowed a maximum "
        f"number of {limit} concurrent shells, which has been exceeded. Close existing shells or "
        "raise the quota for this user. ",
        sender=True,
        reason="The WS-Management service cannot process the request. The maximum number of "
        "concurrent shells for this user has been exceeded. Close existing shells or raise the "
        "quota for this user. ",
    )


def operations_quota(limit: int) -> Fault:
    return Fault(
        ERROR_WSMAN_QUOTA_MAX_OPERATIONS,
        SUBCODE_QUOTA_LIMIT,
        f"The WS-Management service cannot process the request. This user is allowed a maximum "
        f"number of {limit} concurrent operations, which has been exceeded. Close existing "
        "operations for this user, or raise the quota for this user. ",
        sender=True,
    )


def action_not_supported(action: str) -> Fault:
    return Fault(
        ERROR_WSMAN_INVALID_ACTIONURI,
        SUBCODE_ACTION_NOT_SUPPORTED,
        f"The WS-Management service cannot process the request because the action {action!r} "
        "is not supported for this resource. ",
        sender=True,
        action=ADDRESSING_FAULT,
        subcode_ns=NS_ADDRESSING,
    )


def resource_unavailable(resource_uri: str) -> Fault:
    return Fault(
        ERROR_WSMAN_DESTINATION_UNREACHABLE,
        SUBCODE_DESTINATION_UNREACHABLE,
        f"The WS-Management service cannot process the request. The resource URI "
        f"{resource_uri} was not found in the WS-Management catalog. ",
        sender=True,
        action=ADDRESSING_FAULT,
        subcode_ns=NS_ADDRESSING,
    )


def invalid_request(detail: str) -> Fault:
    return Fault(
        ERROR_WSMAN_SCHEMA_VALIDATION_ERROR,
        SUBCODE_SCHEMA_VALIDATION_ERROR,
        f"The SOAP XML in the message does not match the corresponding XML schema "
        f"definition. {detail} ",
        sender=True,
    )
