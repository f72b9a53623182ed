"""The lab's Windows Remote Shell answers compared with what real Windows answers.

A raw SOAP client (requests + Basic auth) drives the lab; every response is parsed by namespace
URI and checked against the recorded facts in `wsman_facts.py`: HTTP status and content type,
the addressing headers, the body's elements in order with their attributes and text, the fault
codes and sentences, and the namespace prefixes Windows uses.
"""

from __future__ import annotations

import base64
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from xml.sax.saxutils import escape

import pytest
import requests

from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from tests.lab import wsman_facts as facts
from tests.lab.wsman_facts import NS, El, qname

pytestmark = pytest.mark.lab

USER = "Administrator"
PASSWORD = "Lab-Passw0rd!"
HOST = "fidelity.lab.local"
QUOTA_HOST = "fidelity-quota.lab.local"
QUOTA = 2

FLEET = f"""
name: fidelity
address_base: 127.23.0.1
hosts:
  - name: {HOST}
  - name: {QUOTA_HOST}
    endpoints: {{max_shells_per_user: {QUOTA}}}
"""

# Request-side namespaces, written with pypsrp's prefixes so the lab cannot lean on its own.
REQ_NS = {
    "s": NS["s"],
    "wsa": NS["a"],
    "wsman": NS["w"],
    "wsmv": NS["p"],
    "rsp": NS["rsp"],
}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(parse_fleet(FLEET, "fidelity.yml"), port_mode="ephemeral") as running:
        yield running


# --- a raw WS-Management client ------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    raw: bytes
    root: ET.Element | None
    message_id: str  # of the request
    all_headers: dict[str, list[str]]

    def body(self) -> ET.Element:
        assert self.root is not None, f"no XML in HTTP {self.status}: {self.raw[:300]!r}"
        body = self.root.find(qname("s:Body"))
        assert body is not None, "no s:Body"
        return body


class RawWinRS:
    def __init__(self, lab: Lab, host: str, password: str = PASSWORD) -> None:
        endpoint = lab.endpoint(host)
        self.url = f"http://{endpoint.address}:{endpoint.http_port}/wsman"
        self.session = requests.Session()
        self.session.auth = (USER, password)

    def call(
        self,
        action: str,
        body: str = "",
        *,
        shell_id: str | None = None,
        options: dict[str, str] | None = None,
        timeout: str = "PT20S",
        max_envelope: int = 153600,
    ) -> Reply:
        message_id = f"uuid:{str(uuid.uuid4()).upper()}"
        headers = [
            f'<wsa:Action s:mustUnderstand="true">{action}</wsa:Action>',
            f'<wsman:MaxEnvelopeSize s:mustUnderstand="true">{max_envelope}'
            "</wsman:MaxEnvelopeSize>",
            f"<wsa:MessageID>{message_id}</wsa:MessageID>",
            f"<wsman:OperationTimeout>{timeout}</wsman:OperationTimeout>",
            f'<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">{facts.ANONYMOUS}</wsa:Address>'
            "</wsa:ReplyTo>",
            f'<wsman:ResourceURI s:mustUnderstand="true">{facts.CMD_RESOURCE_URI}'
            "</wsman:ResourceURI>",
            f"<wsa:To>{self.url}</wsa:To>",
        ]
        if options:
            items = "".join(
                f'<wsman:Option Name="{name}">{value}</wsman:Option>'
                for name, value in options.items()
            )
            headers.append(f'<wsman:OptionSet s:mustUnderstand="true">{items}</wsman:OptionSet>')
        if shell_id is not None:
            headers.append(
                '<wsman:SelectorSet><wsman:Selector Name="ShellId">'
                f"{shell_id}</wsman:Selector></wsman:SelectorSet>"
            )
        declarations = " ".join(f'xmlns:{p}="{uri}"' for p, uri in REQ_NS.items())
        envelope = (
            f"<s:Envelope {declarations}><s:Header>{''.join(headers)}</s:Header>"
            f"<s:Body>{body}</s:Body></s:Envelope>"
        )
        response = self.session.post(
            self.url,
            data=envelope.encode("utf-8"),
            headers={"Content-Type": facts.HTTP.content_type},
            timeout=30,
        )
        raw = response.content
        root = ET.fromstring(raw) if raw.strip() else None  # noqa: S314 - the lab's own reply
        all_headers: dict[str, list[str]] = {}
        for name, value in response.raw.headers.items():
            all_headers.setdefault(name.lower(), []).append(value)
        return Reply(response.status_code, response.headers, raw, root, message_id, all_headers)

    # operations
    def create(self) -> Reply:
        return self.call(
            facts.CREATE.request_action,
            "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>",
            options={"WINRS_NOPROFILE": "FALSE", "WINRS_CODEPAGE": "65001"},
        )

    def command(self, shell_id: str, program: str, *arguments: str) -> Reply:
        args = "".join(f"<rsp:Arguments>{escape(a)}</rsp:Arguments>" for a in arguments)
        return self.call(
            facts.COMMAND.request_action,
            f"<rsp:CommandLine><rsp:Command>{escape(program)}</rsp:Command>{args}"
            "</rsp:CommandLine>",
            shell_id=shell_id,
            options={"WINRS_CONSOLEMODE_STDIN": "TRUE", "WINRS_SKIP_CMD_SHELL": "FALSE"},
        )

    def send(self, shell_id: str, command_id: str, data: bytes, end: bool) -> Reply:
        payload = base64.b64encode(data).decode("ascii")
        return self.call(
            facts.SEND.request_action,
            f'<rsp:Send><rsp:Stream Name="stdin" CommandId="{command_id}" End="{end}">'
            f"{payload}</rsp:Stream></rsp:Send>",
            shell_id=shell_id,
        )

    def receive(self, shell_id: str, command_id: str, **kwargs: object) -> Reply:
        return self.call(
            facts.RECEIVE_DONE.request_action,
            f'<rsp:Receive><rsp:DesiredStream CommandId="{command_id}">stdout stderr'
            "</rsp:DesiredStream></rsp:Receive>",
            shell_id=shell_id,
            options={"WSMAN_CMDSHELL_OPTION_KEEPALIVE": "TRUE"},
            **kwargs,  # type: ignore[arg-type]
        )

    def signal(self, shell_id: str, command_id: str, code: str = "terminate") -> Reply:
        return self.call(
            facts.SIGNAL.request_action,
            f'<rsp:Signal CommandId="{command_id}"><rsp:Code>{facts.SHELL_NS}/signal/{code}'
            "</rsp:Code></rsp:Signal>",
            shell_id=shell_id,
        )

    def delete(self, shell_id: str) -> Reply:
        return self.call(facts.DELETE.request_action, shell_id=shell_id)

    def open_shell(self) -> str:
        reply = self.create()
        assert reply.status == 200, reply.raw
        return selector_shell_id(reply)


def selector_shell_id(reply: Reply) -> str:
    return reply.body().findtext(f".//{qname('rsp:Shell')}/{qname('rsp:ShellId')}") or ""


def command_id_of(reply: Reply) -> str:
    return reply.body().findtext(f"{qname('rsp:CommandResponse')}/{qname('rsp:CommandId')}") or ""


# --- checking a reply against the facts ----------------------------------------------------------
def attr_name(name: str) -> str:
    return qname(name) if ":" in name else name


def element_problems(element: ET.Element, spec: El, path: str) -> list[str]:
    where = f"{path}/{spec.name}"
    if element.tag != qname(spec.name):
        return [f"{where}: found {element.tag}"]
    problems: list[str] = []
    expected = {attr_name(k): v for k, v in spec.attrs.items()}
    if set(element.attrib) != set(expected):
        problems.append(f"{where}: attributes {sorted(element.attrib)} != {sorted(expected)}")
    for key, pattern in expected.items():
        value = element.get(key)
        if value is not None and not re.fullmatch(pattern, value):
            problems.append(f"{where}/@{key}: {value!r} !~ {pattern!r}")
    if spec.text is not None and not re.fullmatch(spec.text, element.text or ""):
        problems.append(f"{where}: text {element.text!r} !~ {spec.text!r}")
    problems.extend(sequence_problems(list(element), spec.children, where))
    return problems


def sequence_problems(elements: list[ET.Element], specs: tuple[El, ...], path: str) -> list[str]:
    index = 0
    for spec in specs:
        if spec.repeat or spec.optional:
            while index < len(elements) and not element_problems(elements[index], spec, path):
                index += 1
                if spec.optional:
                    break
            continue
        if index >= len(elements):
            return [f"{path}: missing {spec.name}"]
        found = element_problems(elements[index], spec, path)
        if found:
            return found
        index += 1
    if index < len(elements):
        return [f"{path}: unexpected {elements[index].tag} at position {index}"]
    return []


def declared_prefixes(raw: bytes) -> list[tuple[str, str]]:
    events = ET.iterparse(BytesIO(raw), events=("start-ns",))  # noqa: S314 - the lab's reply
    return [value for _, value in events]  # type: ignore[misc]


def check_prefixes(reply: Reply) -> None:
    """Windows' prefixes: every declaration of a known prefix binds Windows' URI, and every
    element and QName value is written with one of those prefixes."""
    for prefix, uri in declared_prefixes(reply.raw):
        if prefix in NS:
            assert uri == NS[prefix], f"xmlns:{prefix}={uri!r}, Windows binds {NS[prefix]!r}"
    used = set(re.findall(rb"</?([A-Za-z]+):[A-Za-z]", reply.raw))
    unknown = {p.decode() for p in used} - set(NS)
    assert not unknown, f"element prefixes Windows does not use: {unknown}"
    assert reply.raw.lstrip().startswith((b"<s:Envelope", b"<?xml")), reply.raw[:60]


def check_envelope(reply: Reply, action: str) -> None:
    assert reply.root is not None, reply.raw
    assert reply.root.tag == qname("s:Envelope")
    assert reply.root.attrib == {attr_name(k): v for k, v in facts.ENVELOPE_ATTRS.items()}
    assert [child.tag for child in reply.root] == [qname("s:Header"), qname("s:Body")]
    head = reply.root.find(qname("s:Header"))
    assert head is not None
    problems = sequence_problems(list(head), facts.header(action), "s:Header")
    assert not problems, problems
    assert head.findtext(qname("a:RelatesTo")) == reply.message_id
    for name in facts.HEADER_FORBIDDEN:
        assert head.find(qname(name)) is None, f"{name} returned but the client sent none"
    check_prefixes(reply)


def check_http(reply: Reply, status: int) -> None:
    assert reply.status == status, (reply.status, reply.raw[:500])
    content_type = reply.headers.get("Content-Type", "")
    media, _, params = content_type.partition(";")
    assert media.strip().lower() == "application/soap+xml", content_type
    assert params.replace(" ", "").lower() == "charset=utf-8", content_type


def check_response(reply: Reply, expected: facts.ResponseFacts) -> None:
    check_http(reply, facts.HTTP.ok_status)
    check_envelope(reply, expected.response_action)
    problems = sequence_problems(list(reply.body()), expected.body, "s:Body")
    assert not problems, f"{problems} ({expected.source})\n{reply.raw.decode()}"


def check_fault(reply: Reply, expected: facts.FaultFacts, **fields: object) -> None:
    check_http(reply, facts.HTTP.fault_status)
    check_envelope(reply, facts.FAULT_ACTION)
    body = list(reply.body())
    assert [e.tag for e in body] == [qname("s:Fault")], body
    fault = body[0]
    assert [e.tag for e in fault] == [qname("s:Code"), qname("s:Reason"), qname("s:Detail")]
    code = fault.find(qname("s:Code"))
    assert code is not None
    assert [e.tag for e in code] == [qname("s:Value"), qname("s:Subcode")]
    assert code.findtext(qname("s:Value")) == expected.code_value
    subcode = code.find(qname("s:Subcode"))
    assert subcode is not None
    assert [e.tag for e in subcode] == [qname("s:Value")]
    assert subcode.findtext(qname("s:Value")) == expected.subcode_value
    reason = fault.find(qname("s:Reason"))
    assert reason is not None
    texts = list(reason)
    assert [e.tag for e in texts] == [qname("s:Text")]
    assert texts[0].attrib == {qname("xml:lang"): "en-US"}
    assert texts[0].text == expected.reason
    detail = fault.find(qname("s:Detail"))
    assert detail is not None
    wanted = [qname("f:WSManFault")]
    if expected.fault_detail is not None:
        wanted.insert(0, qname("w:FaultDetail"))
    assert [e.tag for e in detail] == wanted, (expected.source, [e.tag for e in detail])
    if expected.fault_detail is not None:
        assert detail.findtext(qname("w:FaultDetail")) == expected.fault_detail
    wsman_fault = detail.find(qname("f:WSManFault"))
    assert wsman_fault is not None
    assert set(wsman_fault.attrib) == {"Code", "Machine"}
    assert wsman_fault.get("Code") == str(expected.wsman_code)
    assert wsman_fault.get("Machine"), "Machine names the host that faulted"
    assert [e.tag for e in wsman_fault] == [qname("f:Message")]
    assert wsman_fault.findtext(qname("f:Message")) == expected.message.format(**fields)
    # Windows declares f on the WSManFault element itself.
    assert b'<f:WSManFault xmlns:f="' + NS["f"].encode() + b'"' in reply.raw


# --- the operations ------------------------------------------------------------------------------
def test_create_response_matches_windows(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    reply = client.create()
    check_response(reply, facts.CREATE)
    body = reply.body()
    created = body.find(qname("x:ResourceCreated"))
    assert created is not None
    assert created.findtext(qname("a:Address")) == client.url  # echoes the request's wsa:To
    selector = created.findtext(f".//{qname('w:Selector')}")
    shell_id = selector_shell_id(reply)
    assert selector == shell_id
    shell = body.find(qname("rsp:Shell"))
    assert shell is not None
    assert shell.findtext(qname("rsp:Owner")) == USER
    assert b'<rsp:Shell xmlns:rsp="' + NS["rsp"].encode() + b'">' in reply.raw
    check_response(client.delete(shell_id), facts.DELETE)


def test_command_send_signal_and_delete_match_windows(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    shell_id = client.open_shell()
    reply = client.command(shell_id, "powershell", "-NoProfile", "-Command", "-")
    check_response(reply, facts.COMMAND)
    command_id = command_id_of(reply)
    check_response(
        client.send(shell_id, command_id, b"Write-Output 'hi'\r\n", end=False), facts.SEND
    )
    check_response(client.signal(shell_id, command_id, "terminate"), facts.SIGNAL)
    check_response(client.delete(shell_id), facts.DELETE)


def receive_until_done(
    client: RawWinRS, shell_id: str, command_id: str, **kw: object
) -> list[Reply]:
    replies: list[Reply] = []
    for _ in range(50):
        reply = client.receive(shell_id, command_id, **kw)
        replies.append(reply)
        assert reply.status == 200, reply.raw
        state = reply.body().find(f".//{qname('rsp:CommandState')}")
        if state is not None and state.get("State") == facts.STATE_DONE:
            return replies
    raise AssertionError("command never reached CommandState/Done")


def test_receive_done_carries_end_streams_and_exit_code(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    shell_id = client.open_shell()
    command_id = command_id_of(client.command(shell_id, "cmd.exe", "/c", "echo", "hi"))
    replies = receive_until_done(client, shell_id, command_id)
    for reply in replies[:-1]:
        check_response(reply, facts.RECEIVE_RUNNING)
    done = replies[-1]
    check_response(done, facts.RECEIVE_DONE)
    streams = done.body().iter(qname("rsp:Stream"))
    stdout = b""
    for reply in replies:
        for stream in reply.body().iter(qname("rsp:Stream")):
            assert stream.get("CommandId") == command_id
            if stream.get("Name") == "stdout":
                stdout += base64.b64decode(stream.text or "")
    assert stdout == b"hi\r\n"
    for stream in streams:
        assert tuple(stream.attrib) == tuple(
            k for k in facts.STREAM_ATTR_ORDER if k in stream.attrib
        ), "Windows writes Name, CommandId, End in that order"
    state = done.body().find(f".//{qname('rsp:CommandState')}")
    assert state is not None
    assert state.get("CommandId") == command_id
    assert state.findtext(qname("rsp:ExitCode")) == "0"
    client.signal(shell_id, command_id)
    check_response(client.delete(shell_id), facts.DELETE)


def test_receive_exit_code_is_reported(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    shell_id = client.open_shell()
    command_id = command_id_of(client.command(shell_id, "cmd.exe", "/c", "exit", "7"))
    done = receive_until_done(client, shell_id, command_id)[-1]
    check_response(done, facts.RECEIVE_DONE)
    assert done.body().findtext(f".//{qname('rsp:ExitCode')}") == "7"
    client.delete(shell_id)


def test_receive_running_has_no_exit_code(lab: Lab) -> None:
    """Output larger than one envelope comes in several Receives; all but the last are Running."""
    client = RawWinRS(lab, HOST)
    shell_id = client.open_shell()
    word = "x" * 6000
    command_id = command_id_of(client.command(shell_id, "cmd.exe", "/c", "echo", word))
    replies = receive_until_done(client, shell_id, command_id, max_envelope=4096)
    assert len(replies) > 1, "a 6 KB output should not fit one 4 KB envelope"
    for reply in replies[:-1]:
        check_response(reply, facts.RECEIVE_RUNNING)
    check_response(replies[-1], facts.RECEIVE_DONE)
    client.delete(shell_id)


# --- the faults ----------------------------------------------------------------------------------
def test_receive_without_output_times_out_like_windows(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    shell_id = client.open_shell()
    command_id = command_id_of(client.command(shell_id, "powershell", "-Command", "-"))
    reply = client.receive(shell_id, command_id, timeout="PT1S")
    check_fault(reply, facts.TIMED_OUT)
    # The command survives the fault: the client simply asks again.
    check_response(client.signal(shell_id, command_id, "terminate"), facts.SIGNAL)
    check_response(client.delete(shell_id), facts.DELETE)


def test_unknown_shell_is_invalid_selectors(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    missing = str(uuid.uuid4()).upper()
    check_fault(
        client.receive(missing, str(uuid.uuid4()).upper()), facts.SHELL_NOT_FOUND, shell_id=missing
    )
    check_fault(client.delete(missing), facts.SHELL_NOT_FOUND, shell_id=missing)


def test_deleted_shell_is_invalid_selectors(lab: Lab) -> None:
    client = RawWinRS(lab, HOST)
    shell_id = client.open_shell()
    check_response(client.delete(shell_id), facts.DELETE)
    check_fault(client.delete(shell_id), facts.SHELL_NOT_FOUND, shell_id=shell_id)


def test_shell_quota_is_quota_limit(lab: Lab) -> None:
    client = RawWinRS(lab, QUOTA_HOST)
    shells = [client.open_shell() for _ in range(QUOTA)]
    try:
        check_fault(client.create(), facts.SHELL_QUOTA, limit=QUOTA)
    finally:
        for shell_id in shells:
            client.delete(shell_id)
    # Closing a shell frees its slot.
    again = client.open_shell()
    client.delete(again)


# --- HTTP ----------------------------------------------------------------------------------------
def test_wrong_password_is_401_with_windows_challenges(lab: Lab) -> None:
    client = RawWinRS(lab, HOST, password="wrong")
    reply = client.create()
    assert reply.status == facts.HTTP.unauthorized_status
    assert reply.raw == b""
    challenges = reply.all_headers.get("www-authenticate", [])
    assert facts.HTTP.basic_challenge in challenges, challenges
    assert facts.HTTP.negotiate_challenge in challenges, challenges
