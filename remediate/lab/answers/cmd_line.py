"""A cmd.exe line as the lab understands it: `&`-joined commands, `>` redirection, %VARS%.

Enough of cmd.exe for what clients send: `echo TEXT>FILE`, `cscript //nologo //E:JScript
FILE` (which runs the JScript the file names; the lab only knows the project's bootstrap that
reads the real script from stdin), `del /q FILE`, and the plain commands. Files written this
way live in the host's temporary-file table, so tests can see that nothing is left behind.

Other programs on the line are started through the `launch` the caller passes (the lab's
process starter, `commands.run`), so this interpreter does not import the one above it.
"""

from __future__ import annotations

import re
import shlex

from remediate.lab.answers import scripts
from remediate.lab.answers.execution import Execution, Launch
from remediate.lab.host import LabHost

CSCRIPT_NOT_FOUND = 'Input Error: Can not find script file "{path}".\r\n'


def split_command_line(command_line: str) -> list[str]:
    """Split a Windows command line as most programs' argv parsing does (quotes, no escapes)."""
    try:
        return shlex.split(command_line, posix=False)
    except ValueError:
        return command_line.split()


def temp_folder(host: LabHost) -> str:
    """%TEMP% of the logged-on administrator, as each OS generation lays it out."""
    user = host.spec.credentials.username
    if host.spec.os.family in ("nt4", "w2k", "w2k3"):
        return f"C:\\Documents and Settings\\{user}\\Local Settings\\Temp"
    return f"C:\\Users\\{user}\\AppData\\Local\\Temp"


def _expand(host: LabHost, text: str) -> str:
    variables = {
        "temp": temp_folder(host),
        "tmp": temp_folder(host),
        "systemroot": "C:\\WINNT" if host.spec.os.family in ("nt4", "w2k") else "C:\\WINDOWS",
        "computername": host.spec.hostname,
        "username": host.spec.credentials.username,
    }
    return re.sub(r"%([A-Za-z_]+)%", lambda m: variables.get(m.group(1).lower(), m.group(0)), text)


def _split_unquoted(text: str, separator: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def run(host: LabHost, line: str, stdin: bytes, transport: str, launch: Launch) -> Execution:
    """Run every `&`-separated command of the line; the exit code is the last one's."""
    stdout, stderr, exit_code = bytearray(), bytearray(), 0
    for part in _split_unquoted(line, "&"):
        part = part.strip()
        if not part:
            continue  # `&&` splits into an empty command; cmd would run the next one too
        result = _run_one(host, _expand(host, part), stdin, transport, launch)
        stdout += result.stdout
        stderr += result.stderr
        exit_code = result.exit_code
    return Execution(bytes(stdout), bytes(stderr), exit_code)


def _run_one(host: LabHost, part: str, stdin: bytes, transport: str, launch: Launch) -> Execution:
    pieces = _split_unquoted(part, ">")
    target = pieces[1].strip().strip('"') if len(pieces) > 1 else None
    command = pieces[0].strip()
    words = split_command_line(command)
    program = words[0].lower().removesuffix(".exe") if words else ""
    if program == "echo":
        text = command[len(words[0]) :].strip()
        output = f"{text}\r\n".encode()
        if target is None:
            return Execution(stdout=output)
        with host.lock:
            host.temp_files[target.lower()] = output
        return Execution()
    if program == "cscript":
        return _cscript(host, words[1:], stdin, transport)
    if program in ("del", "erase"):
        with host.lock:
            for word in words[1:]:
                if not word.startswith("/"):
                    host.temp_files.pop(word.strip('"').lower(), None)
        return Execution()
    return launch(host, words[0], words[1:], stdin, transport) if words else Execution()


def _cscript(host: LabHost, arguments: list[str], stdin: bytes, transport: str) -> Execution:
    files = [a.strip('"') for a in arguments if not a.startswith("//")]
    if not files:
        return Execution(stdout=b"Usage: CScript scriptname.extension [option...]\r\n", exit_code=1)
    with host.lock:
        content = host.temp_files.get(files[0].lower())
    if content is None:
        return Execution(stderr=CSCRIPT_NOT_FOUND.format(path=files[0]).encode(), exit_code=1)
    if b"wscript.stdin.readall()" not in content.lower():
        return Execution(
            stderr=b"remediate lab: cscript only runs the project's stdin bootstrap\r\n",
            exit_code=1,
        )
    return scripts.run_jscript(host, stdin.decode("utf-8", errors="replace"), transport)
