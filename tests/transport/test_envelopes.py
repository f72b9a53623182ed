"""The pre-formatted WinRS messages are pywinrm's own, byte for byte; replies read the same."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from winrm.protocol import Protocol

from remediate.transport.envelopes import PreformattedProtocol

FIXED = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
NS = (
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
    'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"'
)
CREATED = (
    f"<s:Envelope {NS}><s:Header><a:RelatesTo>uuid:{FIXED}</a:RelatesTo></s:Header><s:Body>"
    "<x:ResourceCreated><a:ReferenceParameters><w:SelectorSet>"
    '<w:Selector Name="ShellId">11111111-2222-3333-4444-555555555555</w:Selector>'
    "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated></s:Body></s:Envelope>"
)
COMMAND = (
    f"<s:Envelope {NS}><s:Header/><s:Body><rsp:CommandResponse>"
    "<rsp:CommandId>AAAA-BBBB</rsp:CommandId></rsp:CommandResponse></s:Body></s:Envelope>"
)
RELATED = (
    f"<s:Envelope {NS}><s:Header><a:RelatesTo>uuid:{FIXED}</a:RelatesTo></s:Header>"
    "<s:Body/></s:Envelope>"
)
RECEIVED = (
    f"<s:Envelope {NS}><s:Header/><s:Body><rsp:ReceiveResponse>"
    '<rsp:Stream Name="stdout" CommandId="AAAA-BBBB">aGVsbG8g</rsp:Stream>'
    '<rsp:Stream Name="stdout" CommandId="AAAA-BBBB">d29ybGQ=</rsp:Stream>'
    '<rsp:Stream Name="stderr" CommandId="AAAA-BBBB">b29wcw==</rsp:Stream>'
    '<rsp:Stream Name="stdout" CommandId="AAAA-BBBB" End="true"></rsp:Stream>'
    '<rsp:CommandState CommandId="AAAA-BBBB" '
    'State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done">'
    "<rsp:ExitCode>3</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse></s:Body></s:Envelope>"
)
RUNNING = RECEIVED.replace("CommandState/Done", "CommandState/Running").replace(
    "<rsp:ExitCode>3</rsp:ExitCode>", ""
)


class _Recorder:
    """A transport that keeps what is sent and answers `reply` to everything."""

    encryption = False

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.sent: list[str] = []

    def build_session(self) -> None:
        return None

    def close_session(self) -> None:
        return None

    def send_message(self, message: str) -> bytes:
        self.sent.append(message)
        return self.reply.encode("utf-8")


def recording(cls: type[Any], reply: str) -> tuple[Any, list[str]]:
    """pywinrm's Protocol or ours, sending through a recorder (7 s operation timeout)."""
    recorder = _Recorder(reply)
    if cls is PreformattedProtocol:
        return PreformattedProtocol(recorder, operation_timeout_sec=7), recorder.sent
    protocol = cls(
        "http://h:5985/wsman",
        username="u",
        password="p",
        transport="basic",
        operation_timeout_sec=7,
        read_timeout_sec=9,
    )
    protocol.transport = recorder
    return protocol, recorder.sent


CASES: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("create", CREATED, lambda p: p.open_shell(codepage=65001)),
    ("delete", RELATED, lambda p: p.close_shell("S-1 <&>\"'", close_session=False)),
    ("command", COMMAND, lambda p: p.run_command("S", "powershell.exe", ("-Command", "-"))),
    (
        "command, odd text",
        COMMAND,
        lambda p: p.run_command("S", "a&b<c>\"d'", ["x y", b"\xc3\xa9"]),
    ),
    ("command, no arguments", COMMAND, lambda p: p.run_command("S", "hostname")),
    ("signal", RELATED, lambda p: p.cleanup_command("S", 'C"1')),
    ("send", RELATED, lambda p: p.send_command_input("S", "C", b"\x00script\r\n" * 40, end=True)),
    ("send, not last", RELATED, lambda p: p.send_command_input("S", "C", "text", end=False)),
    ("receive, done", RECEIVED, lambda p: p.get_command_output_raw("S", "AAAA-BBBB")),
    ("receive, running", RUNNING, lambda p: p.get_command_output_raw("S", "AAAA-BBBB")),
]


@pytest.mark.parametrize(("name", "reply", "call"), CASES, ids=[c[0] for c in CASES])
def test_the_same_bytes_and_the_same_reading_as_pywinrm(
    name: str, reply: str, call: Callable[[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uuid, "uuid4", lambda: FIXED)
    theirs, theirs_sent = recording(Protocol, reply)
    ours, ours_sent = recording(PreformattedProtocol, reply)
    assert call(ours) == call(theirs)
    assert ours_sent == theirs_sent
    assert len(ours_sent) == 1


def test_replies_with_a_dtd_are_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    ours, _ = recording(PreformattedProtocol, bomb)
    with pytest.raises(Exception, match=r"(?i)entit|dtd"):
        ours.get_command_output_raw("S", "C")


def test_a_reply_to_another_message_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    ours, _ = recording(PreformattedProtocol, RELATED)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=1))
    with pytest.raises(ValueError, match="does not relate"):
        ours.cleanup_command("S", "C")
