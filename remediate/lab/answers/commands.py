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
from dataclasses import replace

from remediate.lab.answers import cmd_line, scripts
from remediate.lab.answers.cmd_line import split_command_line
from remediate.lab.answers.execution import Execution
from remediate.lab.host import LabHost
from remediate.probes.protocol import DeclaredScript

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
        execution = scripts.run_declared(host, declared, transport)
        if _shows_progress(host, declared, script):
            execution = replace(execution, stderr=PROGRESS_CLIXML + execution.stderr)
        return execution
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


# What a PowerShell host without a console sends on stderr for Write-Progress records, as
# ServerManager's Add-WindowsFeature writes them on Windows 2008 R2 and later: the serialized
# progress record behind the "#< CLIXML" marker (the marker and the record's shape as seen in
# WinRM client issues, e.g. pywinrm's CLIXML stderr handling; the exact fields are unverified).
PROGRESS_CLIXML = (
    b"#< CLIXML\r\n"
    b'<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    b'<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject'
    b'</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record">'
    b"<AV>Add-WindowsFeature</AV><AI>0</AI><Nil /><PI>-1</PI><PC>10</PC><T>Processing</T>"
    b"<SR>-1</SR><SD>Installing</SD></PR></MS></Obj></Objs>"
)
_SILENT_PROGRESS = re.compile(r"(?mi)^\s*\$ProgressPreference\s*=\s*'SilentlyContinue'")


def _shows_progress(host: LabHost, declared: DeclaredScript | Exception, script: str) -> bool:
    """A ServerManager step on Windows 6.1+ from a script that left $ProgressPreference alone.

    The one place the lab reads a script's code: progress is a property of the script, not of
    its arguments, and a script that does not silence it must be seen doing so.
    """
    if not isinstance(declared, DeclaredScript) or declared.name != "step":
        return False
    request = declared.arguments if isinstance(declared.arguments, dict) else {}
    if request.get("action") != "component" or request.get("mechanism") != "servermanager":
        return False
    major, _, rest = host.spec.os.version.partition(".")
    minor = rest.split(".")[0]
    if not (major.isdigit() and minor.isdigit()) or (int(major), int(minor)) < (6, 1):
        return False
    return _SILENT_PROGRESS.search(script) is None


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
    if name == "shutdown" and spec.os.family not in ("nt4", "w2k"):
        # shutdown.exe ships with Windows XP and Server 2003 on; Windows 2000 and NT 4.0 have it
        # only from the Resource Kit, so there it is "not recognized" (9009) like any unknown
        # command ("The Windows 2000 Professional Resource Kit and Windows XP introduce a
        # shutdown.exe", retired.beyondlogic.org/solutions/shutdown/shutdown.htm; no Microsoft
        # page found that says it: unverified against Microsoft).
        if any(a.lower() in ("/r", "-r") for a in arguments):
            host.begin_reboot()
        return Execution()
    if shell == "powershell":
        line = " ".join([program, *arguments])
        return Execution(
            stderr=PS_NOT_FOUND.format(name=program, col=1, line=line).encode(), exit_code=1
        )
    return Execution(
        stderr=CMD_NOT_FOUND.format(name=program).encode(), exit_code=CMD_NOT_FOUND_EXIT
    )
