"""What real Windows WinRM answers on the Windows Remote Shell resource (`.../windows/shell/cmd`).

Facts only, each with where it was observed. The lab must answer in the same shape; the tests in
`test_wsman_fidelity.py` compare the lab's responses against these facts, parsing by namespace
URI. Sources:

- pypsrp recorded exchanges with real Windows hosts (jborean93/pypsrp `tests/responses/*.yml`:
  `test_winrs_standard.yml`, `test_winrs_send.yml`, `test_winrs_bad_cmd_id.yml`,
  `test_winrs_fail_poll_process.yml`, `test_psrp_long_running_cmdlet.yml`).
- pywinrm fixtures (diyan/pywinrm `winrm/tests/test_exceptions.py`, `winrm/tests/conftest.py`).
- masterzen/winrm `fixture_test.go` (responses captured from Windows, including the Running
  state and the TimedOut fault).
- WinRb/WinRM `spec/stubs/responses/wmi_error_v2.xml`, and the fault text quoted from real hosts in
  test-kitchen/test-kitchen#656 and dmitry-zaets/vagrantfile-windows-iis-mssql#7 (quota faults).
- [MS-WSMV] sections named per fact (2.2.4.x types, 3.1.4.x processing rules).

Element names are written `prefix:Local` with Windows' own prefixes (`NS` below); a checker
must resolve them through `NS` and compare URIs, never prefixes. The prefixes are nevertheless
what Windows writes, and the lab writes the same ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --- Namespaces and the prefixes Windows binds them to ------------------------------------------
# Every recorded response envelope (pypsrp test_winrs_standard.yml) opens with
# <s:Envelope xml:lang="en-US" xmlns:s=... xmlns:a=... xmlns:x=... xmlns:w=... xmlns:rsp=...
# xmlns:p=...>; fault envelopes add xmlns:e and xmlns:n (test_winrs_bad_cmd_id.yml) and declare
# f on s:Detail/f:WSManFault itself.
NS: dict[str, str] = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "e": "http://schemas.xmlsoap.org/ws/2004/08/eventing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "xml": "http://www.w3.org/XML/1998/namespace",
}

# Which prefixes each recorded response envelope declares on s:Envelope (cosmetic: parsers go by
# URI; recorded so the lab can match byte-for-byte if it wants to).
# Source: pypsrp test_winrs_standard.yml / test_winrs_bad_cmd_id.yml.
ENVELOPE_DECLARES: dict[str, tuple[str, ...]] = {
    "CreateResponse": ("s", "a", "x", "w", "rsp", "p"),
    "CommandResponse": ("s", "a", "x", "w", "rsp", "p"),
    "SendResponse": ("s", "a", "x", "w", "rsp", "p"),
    "SignalResponse": ("s", "a", "x", "w", "rsp", "p"),
    "ReceiveResponse": ("s", "a", "w", "rsp", "p"),
    "DeleteResponse": ("s", "a", "w", "p"),
    "fault": ("s", "a", "x", "e", "n", "w", "p"),
}

SHELL_NS = NS["rsp"]
CMD_RESOURCE_URI = f"{SHELL_NS}/cmd"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

# Patterns (full match) for generated values. Windows writes GUIDs in upper case: ShellId
# 4283CBDC-3706-415B-88BD-B385F3E51A53, CommandId CF84C20A-..., MessageID uuid:2131383B-...
# (pypsrp test_winrs_standard.yml).
GUID = r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
UUID_URN = rf"uuid:{GUID}"
BASE64 = r"[A-Za-z0-9+/]*={0,2}"
# xs:duration as WinRS writes ShellRunTime/ShellInactivity: P0DT0H0M0S (pypsrp), P0DT0H0M1S
# (masterzen/winrm fixture_test.go).
DAYS_DURATION = r"P\d+DT\d+H\d+M\d+S"
ANY = r"(?s).*"
EMPTY = r"\s*"


# --- HTTP --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpFacts:
    # Media type of every SOAP response and request: pywinrm `winrm/transport.py` sends it, and
    # MS-WSMV 2.2.9.1.1.2 shows the same value inside encrypted payloads.
    content_type: str = "application/soap+xml;charset=UTF-8"
    # Success is 200; every WS-Management fault comes with HTTP 500: pypsrp
    # test_winrs_bad_cmd_id.yml and test_winrs_fail_poll_process.yml record `transport_error:
    # {protocol: http, code: 500}` for the fault responses; pywinrm test_exceptions.py raises
    # WinRMTransportError("http", 500, <fault>) for the TimedOut fault.
    ok_status: int = 200
    fault_status: int = 500
    # Bad or missing credentials: 401 with an empty body (Content-Length: 0) and one
    # WWW-Authenticate header per enabled scheme, e.g. `Negotiate` and `Basic realm="WSMAN"`
    # (curl traces of Windows hosts quoted in public issues; http.sys `Server:
    # Microsoft-HTTPAPI/2.0`).
    unauthorized_status: int = 401
    basic_challenge: str = 'Basic realm="WSMAN"'
    negotiate_challenge: str = "Negotiate"
    server_header: str = "Microsoft-HTTPAPI/2.0"


HTTP = HttpFacts()


# --- XML shape -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class El:
    """One element: name (`prefix:Local`, resolved through NS), its complete attribute set
    (name -> full-match pattern; attribute names may be `xml:lang`), a full-match pattern for
    its own text (None: not checked), and its children in document order. `repeat`: zero or more
    consecutive occurrences; `optional`: zero or one."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    children: tuple[El, ...] = ()
    repeat: bool = False
    optional: bool = False


def qname(name: str) -> str:
    """`rsp:Shell` -> `{http://schemas.microsoft.com/wbem/wsman/1/windows/shell}Shell`."""
    prefix, local = name.split(":", 1)
    return f"{{{NS[prefix]}}}{local}"


@dataclass(frozen=True)
class ResponseFacts:
    """One operation's successful answer."""

    request_action: str
    response_action: str
    body: tuple[El, ...]  # children of s:Body, in order (empty tuple: empty body)
    source: str


# s:Envelope carries xml:lang="en-US" (every recorded response, pypsrp test_winrs_*.yml).
ENVELOPE_ATTRS: dict[str, str] = {"xml:lang": "en-US"}


# s:Header children, in this order: a:Action, a:MessageID, [p:ActivityId], a:To, a:RelatesTo.
# a:To is always the anonymous role; a:RelatesTo echoes the request's wsa:MessageID.
# p:ActivityId (a GUID) appears only on some hosts (pypsrp test_winrs_bad_cmd_id.yml has it on
# every response; test_winrs_standard.yml has none). No p:OperationID / p:SequenceId is returned
# unless the client sent them (MS-WSMV 3.1.4.1.39, robust connections); pywinrm and pypsrp never
# send them, and no recorded response carries them.
def header(action: str) -> tuple[El, ...]:
    return (
        El("a:Action", text=_literal(action)),
        El("a:MessageID", text=UUID_URN),
        El("p:ActivityId", text=GUID, optional=True),
        El("a:To", text=_literal(ANONYMOUS)),
        El("a:RelatesTo", text=ANY),  # equals the request's MessageID; checked by the test
    )


HEADER_FORBIDDEN = ("p:OperationID", "p:SequenceId")


def _literal(value: str) -> str:
    return re.escape(value)


# CreateResponse (MS-WSMV 3.1.4.5, 2.2.4.37 Shell). Observed: pypsrp test_winrs_standard.yml,
# test_winrs_send.yml, test_winrs_bad_cmd_id.yml; masterzen/winrm fixture_test.go
# createShellResponse. Body = x:ResourceCreated (WS-Transfer namespace, not w:) followed by
# rsp:Shell (which re-declares xmlns:rsp on itself). a:Address echoes the request's wsa:To
# (http://192.168.56.11:5985/wsman). For the cmd resource rsp:Shell has exactly these nine
# children in this order; Owner is the user name without domain ("vagrant", "Administrator");
# ClientIP the client's address; IdleTimeOut PT7200.000S (the default IdleTimeout 7200000 ms).
# (PowerShell shells add ProcessId, MaxIdleTimeOut, Locale, ... — test_psrp_long_running_cmdlet.yml
# — not the cmd resource.)
CREATE = ResponseFacts(
    request_action="http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
    response_action="http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
    body=(
        El(
            "x:ResourceCreated",
            children=(
                El("a:Address", text=r"https?://\S+/wsman"),
                El(
                    "a:ReferenceParameters",
                    children=(
                        El("w:ResourceURI", text=_literal(CMD_RESOURCE_URI)),
                        El(
                            "w:SelectorSet",
                            children=(El("w:Selector", attrs={"Name": "ShellId"}, text=GUID),),
                        ),
                    ),
                ),
            ),
        ),
        El(
            "rsp:Shell",
            children=(
                El("rsp:ShellId", text=GUID),
                El("rsp:ResourceUri", text=_literal(CMD_RESOURCE_URI)),
                El("rsp:Owner", text=r"[^\\@\s]+"),
                El("rsp:ClientIP", text=r"[0-9A-Fa-f.:]+"),
                El("rsp:IdleTimeOut", text=r"PT7200\.000S"),
                El("rsp:InputStreams", text="stdin"),
                El("rsp:OutputStreams", text=r"stdout\s+stderr"),
                El("rsp:ShellRunTime", text=DAYS_DURATION),
                El("rsp:ShellInactivity", text=DAYS_DURATION),
            ),
        ),
    ),
    source="pypsrp tests/responses/test_winrs_standard.yml; MS-WSMV 2.2.4.37",
)

# CommandResponse (MS-WSMV 2.2.4.8): rsp:CommandResponse with one rsp:CommandId (upper-case GUID).
# Observed: pypsrp test_winrs_standard.yml, masterzen/winrm executeCommandResponse.
COMMAND = ResponseFacts(
    request_action=f"{SHELL_NS}/Command",
    response_action=f"{SHELL_NS}/CommandResponse",
    body=(El("rsp:CommandResponse", children=(El("rsp:CommandId", text=GUID),)),),
    source="pypsrp tests/responses/test_winrs_standard.yml; MS-WSMV 2.2.4.8",
)

# SendResponse (MS-WSMV 2.2.4.33): an empty <rsp:SendResponse/>, for End="False" and End="True"
# alike. Observed: pypsrp test_winrs_send.yml.
SEND = ResponseFacts(
    request_action=f"{SHELL_NS}/Send",
    response_action=f"{SHELL_NS}/SendResponse",
    body=(El("rsp:SendResponse", text=EMPTY),),
    source="pypsrp tests/responses/test_winrs_send.yml; MS-WSMV 2.2.4.33",
)

# SignalResponse (MS-WSMV 2.2.4.39): an empty <rsp:SignalResponse/> (ctrl_c and terminate).
# Observed: pypsrp test_winrs_standard.yml, test_winrs_send.yml.
SIGNAL = ResponseFacts(
    request_action=f"{SHELL_NS}/Signal",
    response_action=f"{SHELL_NS}/SignalResponse",
    body=(El("rsp:SignalResponse", text=EMPTY),),
    source="pypsrp tests/responses/test_winrs_standard.yml; MS-WSMV 2.2.4.39",
)

# DeleteResponse (MS-WSMV 3.1.4.4): empty s:Body (`<s:Body></s:Body>`).
# Observed: pypsrp test_winrs_standard.yml, test_winrs_fail_poll_process.yml.
DELETE = ResponseFacts(
    request_action="http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
    response_action="http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse",
    body=(),
    source="pypsrp tests/responses/test_winrs_standard.yml",
)

# Command states (MS-WSMV 2.2.5.4 CommandStateEnumeration).
STATE_DONE = f"{SHELL_NS}/CommandState/Done"
STATE_RUNNING = f"{SHELL_NS}/CommandState/Running"
STATE_PENDING = f"{SHELL_NS}/CommandState/Pending"

# ReceiveResponse (MS-WSMV 2.2.4.27 ReceiveResponse, 2.2.4.40 StreamType, 2.2.4.9
# CommandStateType). rsp:Stream attributes are written in the order Name, CommandId, End; data
# streams carry base64 text; when a stream is finished Windows sends one more, empty, rsp:Stream
# for it with End="true" (lower case), one per desired stream in DesiredStream order (stdout then
# stderr); then rsp:CommandState CommandId=... State=.../Done with one rsp:ExitCode child.
# Observed: pypsrp test_winrs_standard.yml:
#   <rsp:Stream Name="stdout" CommandId="CF84...">aGkNCg==</rsp:Stream>
#   <rsp:Stream Name="stdout" CommandId="CF84..." End="true"></rsp:Stream>
#   <rsp:Stream Name="stderr" CommandId="CF84..." End="true"></rsp:Stream>
#   <rsp:CommandState CommandId="CF84..." State=".../CommandState/Done">
#     <rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>
# and test_winrs_send.yml (several stdout data chunks before the End markers).
STREAM_ATTR_ORDER = ("Name", "CommandId", "End")
DATA_STREAM = El(
    "rsp:Stream", attrs={"Name": "stdout|stderr", "CommandId": GUID}, text=BASE64, repeat=True
)
RECEIVE_DONE = ResponseFacts(
    request_action=f"{SHELL_NS}/Receive",
    response_action=f"{SHELL_NS}/ReceiveResponse",
    body=(
        El(
            "rsp:ReceiveResponse",
            children=(
                DATA_STREAM,
                El(
                    "rsp:Stream",
                    attrs={"Name": "stdout", "CommandId": GUID, "End": "true"},
                    text=EMPTY,
                ),
                El(
                    "rsp:Stream",
                    attrs={"Name": "stderr", "CommandId": GUID, "End": "true"},
                    text=EMPTY,
                ),
                El(
                    "rsp:CommandState",
                    attrs={"CommandId": GUID, "State": _literal(STATE_DONE)},
                    children=(El("rsp:ExitCode", text=r"\d+"),),
                ),
            ),
        ),
    ),
    source="pypsrp tests/responses/test_winrs_standard.yml, test_winrs_send.yml",
)

# ReceiveResponse while the command still runs: data streams without End, then
# <rsp:CommandState CommandId=... State=".../CommandState/Running"></rsp:CommandState> with no
# rsp:ExitCode. Observed: masterzen/winrm fixture_test.go outputResponse / singleOutputResponse.
RECEIVE_RUNNING = ResponseFacts(
    request_action=f"{SHELL_NS}/Receive",
    response_action=f"{SHELL_NS}/ReceiveResponse",
    body=(
        El(
            "rsp:ReceiveResponse",
            children=(
                DATA_STREAM,
                El(
                    "rsp:CommandState",
                    attrs={"CommandId": GUID, "State": _literal(STATE_RUNNING)},
                    text=EMPTY,
                ),
            ),
        ),
    ),
    source="masterzen/winrm fixture_test.go; MS-WSMV 2.2.4.27",
)


# --- Faults --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaultFacts:
    """A WS-Management fault: HTTP 500, a:Action FAULT_ACTION, s:Body/s:Fault with
    s:Code/s:Value, s:Code/s:Subcode/s:Value, s:Reason/s:Text xml:lang="en-US", and s:Detail with
    an optional w:FaultDetail URI followed by f:WSManFault Code= Machine= holding f:Message."""

    code_value: str  # literal text of s:Code/s:Value
    subcode_value: str  # literal text of s:Code/s:Subcode/s:Value
    reason: str  # exact s:Reason/s:Text (note Windows' trailing spaces)
    wsman_code: int  # f:WSManFault/@Code (decimal)
    message: str  # exact f:Message; `{…}` fields are formatted by the test
    fault_detail: str | None  # s:Detail/w:FaultDetail, or None when Windows sends none
    source: str


# TimedOut: a Receive with no output within wsman:OperationTimeout. Windows answers 500 with this
# fault and the client simply Receives again (pywinrm transport.py comments cite MS-WSMV 3.1.4.14
# / msdn cc251676 rule 3). Reason and Message are the same sentence with TWO trailing spaces; no
# w:FaultDetail. Observed: masterzen/winrm fixture_test.go operationTimeoutResponse
# (Machine="127.0.0.1"); diyan/pywinrm winrm/tests/test_exceptions.py
# (Machine="server2022.domain.test").
TIMED_OUT_TEXT = (
    "The WS-Management service cannot complete the operation within the time specified in "
    "OperationTimeout.  "
)
TIMED_OUT = FaultFacts(
    code_value="s:Receiver",
    subcode_value="w:TimedOut",
    reason=TIMED_OUT_TEXT,
    wsman_code=2150858793,  # 0x80338029 ERROR_WSMAN_OPERATION_TIMEDOUT
    message=TIMED_OUT_TEXT,
    fault_detail=None,
    source="masterzen/winrm fixture_test.go; diyan/pywinrm winrm/tests/test_exceptions.py",
)

# InvalidSelectors: the request's ShellId (or CommandId) names nothing. Code 2150858843
# (0x8033805B). Envelope/Code/Subcode/Reason/FaultDetail recorded by pypsrp
# test_winrs_bad_cmd_id.yml (Receive with an unknown CommandId, Machine="192.168.56.15"):
#   <s:Value>s:Sender</s:Value> <s:Value>w:InvalidSelectors</s:Value>
#   <s:Text xml:lang="en-US">The WS-Management service cannot process the request because the
#   request contained invalid selectors for the resource. </s:Text>
#   <w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors
#   </w:FaultDetail><f:WSManFault ... Code="2150858843" ...>
# The f:Message for an unknown *shell* is the sentence Exchange/PowerShell users see
# (MicrosoftDocs Exchange "Connect to Security & Compliance PowerShell" troubleshooting text);
# Windows ends f:Message sentences with one space.
INVALID_SELECTORS_REASON = (
    "The WS-Management service cannot process the request because the request contained invalid "
    "selectors for the resource. "
)
UNEXPECTED_SELECTORS = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors"
SHELL_NOT_FOUND = FaultFacts(
    code_value="s:Sender",
    subcode_value="w:InvalidSelectors",
    reason=INVALID_SELECTORS_REASON,
    wsman_code=2150858843,
    message=(
        "The request for the Windows Remote Shell with ShellId {shell_id} failed because the "
        "shell was not found on the server. Possible causes are: the specified ShellId is "
        "incorrect or the shell no longer exists on the server. Provide the correct ShellId or "
        "create a new shell and retry the operation. "
    ),
    fault_detail=UNEXPECTED_SELECTORS,
    source="pypsrp tests/responses/test_winrs_bad_cmd_id.yml (structure); MicrosoftDocs (text)",
)
# Same fault for an unknown CommandId (pypsrp test_winrs_bad_cmd_id.yml, verbatim).
COMMAND_NOT_FOUND = FaultFacts(
    code_value="s:Sender",
    subcode_value="w:InvalidSelectors",
    reason=INVALID_SELECTORS_REASON,
    wsman_code=2150858843,
    message=(
        "The Windows Remote Shell received a request to perform an operation on a command "
        "identifier that does not exist. Either the command has completed execution or the "
        "client specified an invalid command identifier. "
    ),
    fault_detail=UNEXPECTED_SELECTORS,
    source="pypsrp tests/responses/test_winrs_bad_cmd_id.yml",
)

# QuotaLimit on Create beyond MaxShellsPerUser (MS-WSMV 3.1.4.5.2.1 wsman:QuotaLimit). Code
# 2150859173 (0x803381A5 ERROR_WSMAN_QUOTA_MAX_SHELLS). Windows 2008 R2 answers with an
# f:WSManFault (test-kitchen/test-kitchen#656: `<f:WSManFault Code='2150859173'
# Machine='127.0.0.1'><f:Message>The WS-Management service cannot process the request. This user
# is allowed a maximum number of 5 concurrent shells, which has been exceeded. Close existing
# shells or raise the quota for this user. </f:Message>`); s:Code/Subcode/Reason from
# WinRb/WinRM spec/stubs/responses/wmi_error_v2.xml (s:Sender, w:QuotaLimit). Newer hosts put the
# same message in a p:MSFT_WmiError detail instead (that file); the lab uses the f:WSManFault form,
# which every client parses.
SHELL_QUOTA = FaultFacts(
    code_value="s:Sender",
    subcode_value="w:QuotaLimit",
    reason=(
        "The WS-Management service cannot process the request. The maximum number of concurrent "
        "shells for this user has been exceeded. Close existing shells or raise the quota for "
        "this user. "
    ),
    wsman_code=2150859173,
    message=(
        "The WS-Management service cannot process the request. This user is allowed a maximum "
        "number of {limit} concurrent shells, which has been exceeded. Close existing shells or "
        "raise the quota for this user. "
    ),
    fault_detail=None,
    source="test-kitchen/test-kitchen#656; WinRb/WinRM spec/stubs/responses/wmi_error_v2.xml",
)

# Concurrent operations quota (MaxConcurrentOperationsPerUser): code 2150859174 (0x803381A6).
# Message observed (dmitry-zaets/vagrantfile-windows-iis-mssql#7, Machine='127.0.0.1'); the
# s:Reason was not captured, so the lab's reason is not checked against a recording.
OPERATIONS_QUOTA_CODE = 2150859174
OPERATIONS_QUOTA_MESSAGE = (
    "The WS-Management service cannot process the request. This user is allowed a maximum number "
    "of {limit} concurrent operations, which has been exceeded. Close existing operations for this "
    "user, or raise the quota for this user. "
)
