"""The WinRS operations this project uses, written as pywinrm's Protocol writes them.

pywinrm builds every SOAP envelope as a dictionary and serialises it with `xmltodict.unparse`,
which was a sixth of the controller's CPU per host (bench/audit.py profile). This class writes
the very same bytes from pre-formatted text (tests/transport/test_envelopes.py compares them
with pywinrm's own output, message by message), and reads the replies with ElementTree paths
(soap_xml.py: the C parser, a reply with a DTD refused before it is parsed).
Sending, authentication and encryption are the transport's (`send_message`): the lean HTTP
path's or pywinrm's, both raising wsman_errors' exceptions.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from typing import Protocol as Interface
from xml.sax.saxutils import escape, quoteattr

from remediate.transport.soap_xml import parse_reply

NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
RESOURCE_CMD = f"{NS_SHELL}/cmd"
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = f"{NS_SHELL}/Command"
ACTION_SEND = f"{NS_SHELL}/Send"
ACTION_RECEIVE = f"{NS_SHELL}/Receive"
ACTION_SIGNAL = f"{NS_SHELL}/Signal"
SIGNAL_TERMINATE = f"{NS_SHELL}/signal/terminate"
STATE_DONE = f"{NS_SHELL}/CommandState/Done"

_XMLNS = (
    ("xsd", "http://www.w3.org/2001/XMLSchema"),
    ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    ("env", "http://www.w3.org/2003/05/soap-envelope"),
    ("a", "http://schemas.xmlsoap.org/ws/2004/08/addressing"),
    ("b", "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"),
    ("n", "http://schemas.xmlsoap.org/ws/2004/09/enumeration"),
    ("x", "http://schemas.xmlsoap.org/ws/2004/09/transfer"),
    ("w", "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"),
    ("p", "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"),
    ("rsp", NS_SHELL),
    ("cfg", "http://schemas.microsoft.com/wbem/wsman/1/config"),
)
_OPEN = (
    '<?xml version="1.0" encoding="utf-8"?>\n<env:Envelope '
    + " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _XMLNS)
    + "><env:Header><a:To>http://windows-host:5985/wsman</a:To><a:ReplyTo>"
    '<a:Address mustUnderstand="true">'
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
    '<w:MaxEnvelopeSize mustUnderstand="true">153600</w:MaxEnvelopeSize>'
)
_LOCALE = (
    '<w:Locale mustUnderstand="false" xml:lang="en-US"></w:Locale>'
    '<p:DataLocale mustUnderstand="false" xml:lang="en-US"></p:DataLocale>'
)
_ELEMENTS = {prefix: "{" + uri + "}" for prefix, uri in _XMLNS}
_COMMAND_ID = f".//{_ELEMENTS['rsp']}CommandId"
_RELATES_TO = f".//{_ELEMENTS['a']}RelatesTo"
_STREAM = f".//{_ELEMENTS['rsp']}Stream"
_STATE = f".//{_ELEMENTS['rsp']}CommandState"
_EXIT_CODE = f"{_ELEMENTS['rsp']}ExitCode"


def _text(value: str) -> str:
    return escape(value)  # &, < and > in text, as xmltodict writes it


def _options(options: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"<w:Option Name={quoteattr(n)}>{_text(v)}</w:Option>" for n, v in options)
    return f"<w:OptionSet>{items}</w:OptionSet>"


class WSManTransport(Interface):
    """What a protocol needs of its transport (WSManHTTP, or pywinrm's, adapted)."""

    @property
    def encryption(self) -> bool: ...

    def build_session(self) -> object: ...

    def close_session(self) -> None: ...

    def send_message(self, message: str) -> bytes: ...


class PreformattedProtocol:
    """The WinRS operations this project uses, with pywinrm's messages byte for byte."""

    def __init__(self, transport: WSManTransport, operation_timeout_sec: int) -> None:
        self.transport = transport
        self.operation_timeout_sec = operation_timeout_sec

    def send_message(self, message: str) -> bytes:
        """One request and its reply; wsman_errors' exceptions for anything else."""
        return self.transport.send_message(message)

    def _envelope(
        self,
        action: str,
        body: str,
        shell_id: str | None = None,
        options: str = "",
        message_id: uuid.UUID | None = None,
    ) -> str:
        selector = (
            f'<w:SelectorSet><w:Selector Name="ShellId">{_text(shell_id)}</w:Selector>'
            "</w:SelectorSet>"
            if shell_id
            else ""
        )
        return (
            f"{_OPEN}<a:MessageID>uuid:{message_id or uuid.uuid4()}</a:MessageID>{_LOCALE}"
            f"<w:OperationTimeout>PT{int(self.operation_timeout_sec)}S</w:OperationTimeout>"
            f'<w:ResourceURI mustUnderstand="true">{RESOURCE_CMD}</w:ResourceURI>'
            f'<a:Action mustUnderstand="true">{action}</a:Action>'
            f"{selector}{options}</env:Header>{body}</env:Envelope>"
        )

    def open_shell(
        self, i_stream: str = "stdin", o_stream: str = "stdout stderr", codepage: int = 437
    ) -> str:
        options = _options((("WINRS_NOPROFILE", "FALSE"), ("WINRS_CODEPAGE", str(codepage))))
        body = (
            f"<env:Body><rsp:Shell><rsp:InputStreams>{_text(i_stream)}</rsp:InputStreams>"
            f"<rsp:OutputStreams>{_text(o_stream)}</rsp:OutputStreams></rsp:Shell></env:Body>"
        )
        envelope = self._envelope(ACTION_CREATE, body, options=options)
        root = parse_reply(self.send_message(envelope))
        for node in root.iter():  # the ResourceCreated selector, as pywinrm looks for it
            if node.get("Name") == "ShellId" and node.text:
                return node.text
        raise ValueError("the CreateResponse names no ShellId")

    def close_shell(self, shell_id: str, close_session: bool = True) -> None:
        message_id = uuid.uuid4()
        try:
            envelope = self._envelope(
                ACTION_DELETE, "<env:Body></env:Body>", shell_id, message_id=message_id
            )
            self._check_relates_to(self.send_message(envelope), message_id)
        finally:
            if close_session:
                self.transport.close_session()

    def run_command(
        self,
        shell_id: str,
        command: str,
        arguments: Iterable[str | bytes] = (),
        console_mode_stdin: bool = True,
        skip_cmd_shell: bool = False,
    ) -> str:
        options = _options(
            (
                ("WINRS_CONSOLEMODE_STDIN", str(console_mode_stdin).upper()),
                ("WINRS_SKIP_CMD_SHELL", str(skip_cmd_shell).upper()),
            )
        )
        texts = [a if isinstance(a, str) else a.decode("utf-8") for a in arguments]
        joined = f"<rsp:Arguments>{_text(' '.join(texts))}</rsp:Arguments>" if texts else ""
        body = (
            f"<env:Body><rsp:CommandLine><rsp:Command>{_text(command)}</rsp:Command>"
            f"{joined}</rsp:CommandLine></env:Body>"
        )
        envelope = self._envelope(ACTION_COMMAND, body, shell_id, options)
        root = parse_reply(self.send_message(envelope))
        node = root.find(_COMMAND_ID)
        if node is None or not node.text:
            raise ValueError("the CommandResponse names no CommandId")
        return node.text

    def cleanup_command(self, shell_id: str, command_id: str) -> None:
        message_id = uuid.uuid4()
        body = (
            f"<env:Body><rsp:Signal CommandId={quoteattr(command_id)}>"
            f"<rsp:Code>{SIGNAL_TERMINATE}</rsp:Code></rsp:Signal></env:Body>"
        )
        envelope = self._envelope(ACTION_SIGNAL, body, shell_id, message_id=message_id)
        self._check_relates_to(self.send_message(envelope), message_id)

    def send_command_input(
        self, shell_id: str, command_id: str, stdin_input: str | bytes, end: bool = False
    ) -> None:
        if isinstance(stdin_input, str):
            stdin_input = stdin_input.encode("437")
        data = base64.b64encode(stdin_input).decode("ascii")
        body = (
            f"<env:Body><rsp:Send><rsp:Stream CommandId={quoteattr(command_id)} "
            f'Name="stdin" End="{"true" if end else "false"}" xmlns:rsp="{NS_SHELL}">'
            f"{data}</rsp:Stream></rsp:Send></env:Body>"
        )
        self.send_message(self._envelope(ACTION_SEND, body, shell_id))

    def get_command_output_raw(
        self, shell_id: str, command_id: str
    ) -> tuple[bytes, bytes, int, bool]:
        body = (
            f"<env:Body><rsp:Receive><rsp:DesiredStream CommandId={quoteattr(command_id)}>"
            "stdout stderr</rsp:DesiredStream></rsp:Receive></env:Body>"
        )
        root = parse_reply(self.send_message(self._envelope(ACTION_RECEIVE, body, shell_id)))
        stdout, stderr = [], []
        for node in root.iterfind(_STREAM):
            if not node.text:
                continue
            if node.get("Name") == "stdout":
                stdout.append(base64.b64decode(node.text))
            elif node.get("Name") == "stderr":
                stderr.append(base64.b64decode(node.text))
        state = root.find(_STATE)
        done = state is not None and state.get("State", "").endswith("CommandState/Done")
        code = -1
        if done and state is not None:
            exit_code = state.find(_EXIT_CODE)
            code = int(exit_code.text or -1) if exit_code is not None else -1
        return b"".join(stdout), b"".join(stderr), code, done

    @staticmethod
    def _check_relates_to(response: bytes, message_id: uuid.UUID) -> None:
        node = parse_reply(response).find(_RELATES_TO)
        text = (node.text or "") if node is not None else ""
        if text.replace("uuid:", "").strip().lower() != str(message_id):
            raise ValueError("the reply does not relate to the request sent")
