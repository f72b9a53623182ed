"""The Windows Remote Shell service of one simulated host: shells, commands, streams.

Operations follow MS-WSMV 3.1.4.1 (Create, Command, Send, Receive, Signal, Delete). A command
that reads stdin (`powershell -Command -`) starts once the client sends `End="true"`; others
start at once. A Receive waits for output up to the request's OperationTimeout, then faults
with TimedOut as Windows does, and the client simply asks again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
import contextlib
import time
import uuid
from dataclasses import dataclass, field, replace

from remediate.lab.answers import commands
from remediate.lab.answers.cmd_line import split_command_line
from remediate.lab.answers.execution import Execution, Launch
from remediate.lab.host import LabHost
from remediate.lab.protocols import wsman
from remediate.lab.protocols.wsman import Fault, Request, StreamChunk

CTRL_C_EXIT = 0xC000013A  # STATUS_CONTROL_C_EXIT, as WinRS reports it (unsigned)
UTF8_CODE_PAGE = 65001
DEFAULT_CODE_PAGE = 437  # the OEM code page of an en-US host, when Create names none
UTF8_BOM = b"\xef\xbb\xbf"
# Exceeding MaxMemoryPerShellMB makes the shell's processes fail their allocations (the quota is
# "the maximum amount of memory allocated per shell, including the shell's child processes",
# "Quota Management for Remote Shells"); wsmerror.h has no fault of its own for it (the
# ERROR_WSMAN_QUOTA_* codes name shells, operations, users and plug-ins), and PowerShell then
# reports this (ansible/ansible#39327, WinRb/winrm-fs#55, chef/knife-windows#365).
OUT_OF_MEMORY = b"Exception of type 'System.OutOfMemoryException' was thrown.\r\n"
IDLE_TIMEOUT = "PT7200.000S"
STREAM_OVERHEAD = 2048  # bytes of envelope around the streams in a ReceiveResponse


@dataclass
class Command:
    id: str
    program: str
    arguments: list[str]
    reads_stdin: bool
    console_stdin: bool = False
    stdin: bytearray = field(default_factory=bytearray)
    started: bool = False
    result: Execution | None = None
    ready_at: float = 0.0
    sent: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    exit_code_override: int | None = None


@dataclass
class Shell:
    id: str
    owner: str
    client_ip: str
    code_page: int = DEFAULT_CODE_PAGE
    commands: dict[str, Command] = field(default_factory=dict)
    operations: int = 0
    broken: bool = False  # a connection carrying one of its requests broke


class ShellService:
    """WinRS for one host; all methods run on the lab's event loop thread."""

    def __init__(
        self,
        host: LabHost,
        run: Launch = commands.run,
    ) -> None:
        self.host = host
        self.shells: dict[str, Shell] = {}
        self._run = run

    @property
    def _limits(self) -> tuple[int, int]:
        endpoints = self.host.spec.endpoints
        return endpoints.max_shells_per_user, endpoints.max_concurrent_operations

    def mark_broken(self, shell_id: str | None) -> None:
        """A connection broke while it carried a request for this shell."""
        shell = self.shells.get((shell_id or "").upper())
        if shell is not None:
            shell.broken = True

    def close_all(self) -> None:
        """Forget every shell (the host rebooted or the lab stops)."""
        for shell in self.shells.values():
            for command in shell.commands.values():
                command.wake.set()
        self.host.count("shells_open", -len(self.shells))
        self.shells.clear()

    async def handle(self, request: Request, user: str, client_ip: str, address: str) -> bytes:
        """Answer one request; raises FaultError for a WS-Management fault."""
        if request.resource_uri and request.resource_uri.lower() != wsman.CMD_RESOURCE.lower():
            raise FaultError(wsman.resource_unavailable(request.resource_uri))
        action = request.action
        if action == wsman.ACTION_CREATE:
            return self._create(request, user, client_ip, address)
        shell = self._shell(request)
        if action == wsman.ACTION_DELETE:
            return self._delete(request, shell)
        if action == wsman.ACTION_COMMAND:
            return self._command(request, shell)
        if action == wsman.ACTION_SEND:
            return self._send(request, shell)
        if action == wsman.ACTION_RECEIVE:
            return await self._receive(request, shell)
        if action == wsman.ACTION_SIGNAL:
            return self._signal(request, shell)
        raise FaultError(wsman.action_not_supported(action))

    def _shell(self, request: Request) -> Shell:
        shell_id = request.selectors.get("ShellId", "")
        shell = self.shells.get(shell_id.upper())
        if shell is None:
            raise FaultError(wsman.shell_not_found(shell_id))
        return shell

    def _create(self, request: Request, user: str, client_ip: str, address: str) -> bytes:
        max_shells, _ = self._limits
        in_use = len(self.shells) + (max_shells if self.host.spec.faults.shell_quota_full else 0)
        if in_use >= max_shells:
            raise FaultError(wsman.shell_quota(max_shells))
        code_page = _code_page(request.options.get("WINRS_CODEPAGE"))
        shell = Shell(
            id=str(uuid.uuid4()).upper(), owner=user, client_ip=client_ip, code_page=code_page
        )
        self.shells[shell.id] = shell
        self.host.count("shells_created")
        self.host.count("shells_open")
        return wsman.create_response(request, address, shell.id, user, client_ip, IDLE_TIMEOUT)

    def _delete(self, request: Request, shell: Shell) -> bytes:
        for command in shell.commands.values():
            command.wake.set()
        del self.shells[shell.id]
        self.host.count("shells_open", -1)
        if shell.broken:
            self.host.count("shells_deleted_after_break")
        return wsman.delete_response(request)

    def _command(self, request: Request, shell: Shell) -> bytes:
        _, max_operations = self._limits
        if shell.operations >= max_operations:
            raise FaultError(wsman.operations_quota(max_operations))
        body = request.body
        if body is None or body.tag != f"{{{wsman.NS_SHELL}}}CommandLine":
            raise FaultError(wsman.invalid_request("Command needs a CommandLine body."))
        program = (body.findtext(f"{{{wsman.NS_SHELL}}}Command") or "").strip()
        arguments: list[str] = []
        for element in body.findall(f"{{{wsman.NS_SHELL}}}Arguments"):
            arguments.extend(split_command_line(element.text or ""))
        if not program:
            raise FaultError(wsman.invalid_request("The Command element is empty."))
        parts = split_command_line(program)
        program, arguments = parts[0], parts[1:] + arguments
        shell.operations += 1
        command_id = str(uuid.uuid4()).upper()
        command = Command(
            id=command_id,
            program=program,
            arguments=arguments,
            reads_stdin=commands.needs_stdin(program, arguments),
            console_stdin=_true(request.options.get("WINRS_CONSOLEMODE_STDIN")),
        )
        shell.commands[command_id] = command
        if not command.reads_stdin:
            self._start(shell, command)
        return wsman.command_response(request, command_id)

    def _start(self, shell: Shell, command: Command) -> None:
        command.started = True
        result = self._run(
            self.host, command.program, command.arguments, bytes(command.stdin), "winrm"
        )
        command.result = self._as_windows_writes_it(shell, command, result)
        command.ready_at = time.monotonic() + command.result.delay_seconds
        command.wake.set()

    def _as_windows_writes_it(self, shell: Shell, command: Command, result: Execution) -> Execution:
        """The lab's answers are UTF-8 text; a shell gets them in its WINRS_CODEPAGE, with the
        UTF-8 preamble PowerShell 2.0 puts first at 65001, within the shell's memory quota."""
        stdout, stderr = result.stdout, result.stderr
        if shell.code_page != UTF8_CODE_PAGE:
            # A console program writes in the console's code page; characters it lacks become
            # "?", as WideCharToMultiByte's default character.
            codec = f"cp{shell.code_page}"
            stdout = stdout.decode("utf-8", "replace").encode(codec, "replace")
            stderr = stderr.decode("utf-8", "replace").encode(codec, "replace")
        elif _is_powershell(command.program) and _on_dotnet2(self.host.spec.os.powershell):
            # .NET 2.0's console writer emits the encoding's preamble before its first write
            # when the console code page is 65001 (dotnet/runtime#28929, ansible/ansible#15770);
            # PowerShell 1.0 and 2.0 run on .NET 2.0. Whether 3.0+ (.NET 4) does is unverified.
            stdout = UTF8_BOM + stdout if stdout else stdout
            stderr = UTF8_BOM + stderr if stderr else stderr
        quota = (self.host.spec.endpoints.max_memory_per_shell_mb or 0) * 1024 * 1024
        if quota and len(stdout) + len(stderr) > quota:
            # The lab counts the output a command holds as the memory of its shell: past the
            # quota the program fails as an allocation would, with nothing on stdout.
            self.host.count("faults_sent")
            return replace(result, stdout=b"", stderr=OUT_OF_MEMORY, exit_code=1)
        return replace(result, stdout=stdout, stderr=stderr)

    def _command_of(self, shell: Shell, command_id: str | None) -> Command:
        command = shell.commands.get((command_id or "").upper())
        if command is None:
            raise FaultError(wsman.command_not_found())
        return command

    def _send(self, request: Request, shell: Shell) -> bytes:
        body = request.body
        if body is None or body.tag != f"{{{wsman.NS_SHELL}}}Send":
            raise FaultError(wsman.invalid_request("Send needs a Send body."))
        for stream in body.findall(f"{{{wsman.NS_SHELL}}}Stream"):
            command = self._command_of(shell, stream.get("CommandId"))
            if command.started:
                continue  # the process no longer reads stdin; Windows discards it too
            try:
                command.stdin += base64.b64decode(stream.text or "", validate=True)
            except binascii.Error:
                raise FaultError(wsman.invalid_request("Stream is not base64.")) from None
            if stream.get("End", "").lower() in ("true", "1") and not command.console_stdin:
                # Only a pipe ends: a console-mode stdin (WINRS_CONSOLEMODE_STDIN=TRUE) "never
                # reaches EOF" for a program that reads it to the end (recorded by
                # MetricsHub/winrm-java for sort and findstr; Ansible's winrm plugin uses pipe
                # mode whenever it feeds stdin). The lab keeps such a program waiting, as it
                # would wait on Windows, until the client signals or deletes the shell.
                self._start(shell, command)
        return wsman.send_response(request)

    async def _receive(self, request: Request, shell: Shell) -> bytes:
        body = request.body
        desired = body.find(f"{{{wsman.NS_SHELL}}}DesiredStream") if body is not None else None
        if desired is None:
            raise FaultError(wsman.invalid_request("Receive needs a DesiredStream."))
        command = self._command_of(shell, desired.get("CommandId"))
        if self.host.spec.faults.drop_mid_command:
            # The host (or the network to it) goes away while the command runs: no answer,
            # the connection reset; the shell and its command stay, as they would on a host
            # whose network broke, until a Delete or the shell's idle timeout.
            shell.broken = True
            self.host.count("faults_sent")
            raise ConnectionDropped(f"dropped the connection in a Receive of shell {shell.id}")
        deadline = time.monotonic() + request.operation_timeout
        while True:
            if command.id not in shell.commands or shell.id not in self.shells:
                raise FaultError(wsman.shell_not_found(shell.id))
            now = time.monotonic()
            if command.started and now >= command.ready_at:
                break
            remaining = deadline - now
            if remaining <= 0:
                raise FaultError(wsman.timed_out())
            if command.started:
                await asyncio.sleep(min(remaining, command.ready_at - now))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(command.wake.wait(), timeout=remaining)
        assert command.result is not None
        names = (desired.text or "stdout stderr").split()
        budget = max(1024, (request.max_envelope_size - STREAM_OVERHEAD) * 3 // 4)
        chunks, complete = self._take(command, names, budget)
        exit_code: int | None = None
        if complete:
            exit_code = (
                command.exit_code_override
                if command.exit_code_override is not None
                else command.result.exit_code & 0xFFFFFFFF
            )
        return wsman.receive_response(request, command.id, chunks, exit_code)

    @staticmethod
    def _take(command: Command, names: list[str], budget: int) -> tuple[list[StreamChunk], bool]:
        assert command.result is not None
        streams = {"stdout": command.result.stdout, "stderr": command.result.stderr}
        chunks: list[StreamChunk] = []
        for name in names:
            data = streams.get(name, b"")
            start = command.sent.get(name, 0)
            piece = data[start : start + budget]
            budget -= len(piece)
            command.sent[name] = start + len(piece)
            if piece:
                chunks.append(StreamChunk(name, piece))
        complete = all(command.sent.get(n, 0) >= len(streams.get(n, b"")) for n in names)
        if complete:
            chunks.extend(StreamChunk(name, b"", end=True) for name in names)
        return chunks, complete

    def _signal(self, request: Request, shell: Shell) -> bytes:
        body = request.body
        if body is None or body.tag != f"{{{wsman.NS_SHELL}}}Signal":
            raise FaultError(wsman.invalid_request("Signal needs a Signal body."))
        command = self._command_of(shell, body.get("CommandId"))
        code = (body.findtext(f"{{{wsman.NS_SHELL}}}Code") or "").strip()
        lowered = code.lower()  # pywinrm writes signal/terminate, pypsrp signal/Terminate
        self.host.count("signals")
        if lowered == wsman.SIGNAL_TERMINATE.lower():
            command.wake.set()
            shell.commands.pop(command.id, None)
        elif lowered in (wsman.SIGNAL_CTRL_C.lower(), wsman.SIGNAL_CTRL_BREAK.lower()):
            command.exit_code_override = CTRL_C_EXIT
            if command.result is None or not command.started:
                command.started = True
                command.result = Execution(exit_code=CTRL_C_EXIT)
            command.ready_at = 0.0
            command.wake.set()
        else:
            raise FaultError(wsman.invalid_request(f"Unknown signal code {code!r}."))
        return wsman.signal_response(request)


def _true(value: str | None) -> bool:
    """A WinRS boolean option: TRUE or FALSE, any case; absent is False (pipe mode; pypsrp
    sends no WINRS_CONSOLEMODE_STDIN and feeds stdin)."""
    return (value or "").strip().lower() == "true"


def _code_page(value: str | None) -> int:
    """WINRS_CODEPAGE of a Create: the code page the shell's programs read and write."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_CODE_PAGE
    if not text.isdigit():
        raise FaultError(wsman.invalid_request(f"WINRS_CODEPAGE {text!r} is not a number."))
    code_page = int(text)
    if code_page != UTF8_CODE_PAGE:
        try:
            codecs.lookup(f"cp{code_page}")
        except LookupError:
            # Windows' answer to a code page it lacks is unverified; the lab refuses the shell.
            raise FaultError(
                wsman.invalid_request(f"The code page {code_page} is not supported.")
            ) from None
    return code_page


def _on_dotnet2(powershell: str | None) -> bool:
    """PowerShell 1.0 and 2.0 run on the .NET 2.0 runtime."""
    major = (powershell or "").split(".")[0]
    return major.isdigit() and int(major) < 3


def _is_powershell(program: str) -> bool:
    name = program.strip().strip('"').replace("/", "\\").split("\\")[-1].lower()
    return name in ("powershell", "powershell.exe")


class ConnectionDropped(Exception):
    """Raised inside the service: the host drops the connection without answering."""


class FaultError(Exception):
    """Raised inside the service to answer with a WS-Management fault."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.fault = fault
