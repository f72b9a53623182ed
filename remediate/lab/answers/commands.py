"""What a simulated host answers when asked to run a command.

The lab is not a PowerShell interpreter and does not pretend to be one. It answers:
- the few plain commands clients use to test a connection (hostname, echo, ver, whoami, exit N),
  as cmd.exe or PowerShell print them;
- the project's declared scripts (probes and remediation steps), recognised by their declared
  name and encoded arguments (see `remediate.lab.answers.scripts`);
and anything else gets the error Windows prints and a non-zero exit code. `run` is the lab's
process starter: the protocols call it, and it hands itself to the cmd.exe interpreter for the
programs a cmd line starts.
"""

from __future__ import annotations

import base64
import binascii
import re

from remediate.lab.answers import cmd_line, scripts
from remediate.lab.answers.cmd_line import split_command_line
from remediate.lab.answers.execution import Execution
from remediate.lab.host import LabHost

CMD_NOT_FOUND = (
    "'{name}' is not recognized as an internal or external command,\r\n"
    "operable program or batch file.\r\n"
)
CMD_NOT_FOUND_EXIT = 9009

PS_NOT_FOUND = (
    "The term '{name}' is not recognized as the name of a cmdlet, function, script file, or "
    "operable program. Check the spelling of the name, or if a path was included, verify that "
    "the path is correct and try again.\r\n"
    "At line:1 char:{col}\r\n"
    "+ {line} <<<< \r\n"
    "    + CategoryInfo          : ObjectNotFound: ({name}:String) [], CommandNotFoundException\r\n"
    "    + FullyQualifiedErrorId : CommandNotFoundException\r\n"
    "\r\n"
)

_POWERSHELL = {"powershell", "powershell.exe"}


def needs_stdin(command: str, arguments: list[str]) -> bool:
    """True when the program reads its script from standard input.

    That is `powershell -Command -` (or powershell with no command at all), and a cmd line
    whose cscript bootstrap reads `WScript.StdIn`.
    """
    program = _program(command)
    if program in ("cmd", "cmd.exe"):
        return "wscript.stdin" in " ".join(arguments).lower()
    if program not in _POWERSHELL:
        return False
    lowered = [a.lower() for a in arguments]
    for flag in ("-command", "-c"):
        if flag in lowered:
            index = lowered.index(flag)
            return index + 1 < len(arguments) and arguments[index + 1] == "-"
    return not any(a.startswith(("-encodedcommand", "-enc", "-e")) for a in lowered)


def _program(command: str) -> str:
    return command.strip().strip('"').replace("/", "\\").split("\\")[-1].lower()


def run(
    host: LabHost, command: str, arguments: list[str], stdin: bytes, transport: str
) -> Execution:
    """Run `command arguments` on the host, as a cmd.exe-launched process would."""
    host.count("commands")
    program = _program(command)
    if program in _POWERSHELL:
        if host.spec.os.powershell is None:
            return Execution(
                stderr=CMD_NOT_FOUND.format(name=command).encode(), exit_code=CMD_NOT_FOUND_EXIT
            )
        script = _powershell_script(arguments, stdin)
        if script is None:
            return Execution(
                stderr=b"Cannot process the command because of a missing parameter.\r\n",
                exit_code=1,
            )
        return run_powershell(host, script, transport)
    if program in ("cmd", "cmd.exe"):
        inner = _cmd_payload(arguments)
        if inner is not None:
            return cmd_line.run(host, inner, stdin, transport, launch=run)
    return run_plain(host, command, arguments, shell="cmd")


def _cmd_payload(arguments: list[str]) -> str | None:
    """The text after `/c` (or `/k`), outer quotes removed as cmd.exe does."""
    lowered = [a.lower() for a in arguments]
    for flag in ("/c", "/k"):
        if flag in lowered:
            rest = " ".join(arguments[lowered.index(flag) + 1 :]).strip()
            if len(rest) >= 2 and rest[0] == '"' and rest[-1] == '"':
                rest = rest[1:-1]
            return rest
    return None


def _powershell_script(arguments: list[str], stdin: bytes) -> str | None:
    lowered = [a.lower() for a in arguments]
    for index, flag in enumerate(lowered):
        if flag in ("-encodedcommand", "-enc", "-e", "-ec") and index + 1 < len(arguments):
            try:
                return base64.b64decode(arguments[index + 1]).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError):
                return None
        if flag in ("-command", "-c") and index + 1 < len(arguments):
            rest = arguments[index + 1 :]
            if rest == ["-"]:
                return _decode_stdin(stdin)
            return " ".join(rest)
    return _decode_stdin(stdin)


def _decode_stdin(stdin: bytes) -> str:
    if stdin.startswith(b"\xef\xbb\xbf"):
        stdin = stdin[3:]
    return stdin.decode("utf-8", errors="replace")


def run_powershell(host: LabHost, script: str, transport: str) -> Execution:
    """Answer a PowerShell script: a declared project script or a plain connection test."""
    declared = scripts.declared_script(script)
    if declared is not None:
        return scripts.run_declared(host, declared, transport)
    lines = [ln.strip() for ln in script.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not lines:
        return Execution()
    out = bytearray()
    for line in lines:
        result = run_plain(host, *_split_first(line), shell="powershell")
        out += result.stdout
        if result.stderr or result.exit_code:
            return Execution(stdout=bytes(out), stderr=result.stderr, exit_code=result.exit_code)
    return Execution(stdout=bytes(out))


def _split_first(line: str) -> tuple[str, list[str]]:
    parts = split_command_line(line)
    return parts[0], parts[1:]


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def run_plain(host: LabHost, program: str, arguments: list[str], shell: str) -> Execution:
    """Answer one of the plain commands, or fail as cmd.exe or PowerShell would."""
    spec = host.spec
    name = program.lower().removesuffix(".exe")
    if name == "hostname":
        return Execution(stdout=f"{spec.hostname}\r\n".encode())
    if name == "whoami":
        who = f"{spec.credentials.domain}\\{spec.credentials.username}".lower()
        return Execution(stdout=f"{who}\r\n".encode())
    if name in ("echo", "write-output", "write-host"):
        if shell == "powershell":
            text = "\r\n".join(_unquote(a) for a in arguments)
        else:
            text = " ".join(arguments) if arguments else "ECHO is on."
        return Execution(stdout=f"{text}\r\n".encode())
    if name == "ver" and shell == "cmd":
        return Execution(stdout=f"\r\nMicrosoft Windows [Version {spec.os.version}]\r\n".encode())
    if name == "exit":
        code = arguments[0] if arguments else "0"
        if re.fullmatch(r"-?\d+", code):
            return Execution(exit_code=int(code) & 0xFFFFFFFF)
        return Execution(exit_code=0)
    if shell == "powershell":
        line = " ".join([program, *arguments])
        return Execution(
            stderr=PS_NOT_FOUND.format(name=program, col=1, line=line).encode(), exit_code=1
        )
    return Execution(
        stderr=CMD_NOT_FOUND.format(name=program).encode(), exit_code=CMD_NOT_FOUND_EXIT
    )
