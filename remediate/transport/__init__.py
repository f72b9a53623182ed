"""Transports run a script on a host and return what it printed.

Only this package knows about pywinrm and paramiko. Every transport offers `run(script)`,
`run_command(program, arguments)` and `close()`, and raises `TransportError` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from remediate.errors import HostTimeoutError

# The languages a script may be written in: PowerShell, or JScript under Windows Script Host
# for hosts without PowerShell. Transports run either, probes are written in both, and
# `remediate_shell` in the inventory may fix the one a host gets.
Dialect = Literal["powershell", "wsh"]

POWERSHELL = "powershell.exe"
POWERSHELL_STDIN_ARGUMENTS = (
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-Command",
    "-",
)

# cscript cannot read a script from stdin, so a one-line bootstrap that does is written to a
# temporary file (named by us, no data in it), run, and deleted in the same command. The
# script itself travels on stdin: no command-line limit, and nothing of it touches the disk.
WSH_BOOTSTRAP = "eval(WScript.StdIn.ReadAll())"


def wsh_command_line(token: str) -> str:
    """The cmd.exe line that runs a JScript fed on stdin; `token` is our own hex id."""
    if not token.isalnum():
        raise ValueError("the temporary file token must be alphanumeric")
    path = f'"%TEMP%\\remediate-{token}.js"'
    return (
        f'cmd.exe /s /c "echo {WSH_BOOTSTRAP}>{path}'
        f"&cscript.exe //nologo //E:JScript {path}"
        f'&del /q {path}"'
    )


class CommandStillRunning(HostTimeoutError):
    """The controller stopped waiting for a step (its own timeout); the command was not stopped.

    WinRM: the shell is left open, neither signalled nor deleted, so the program goes on until
    the host's WinRS IdleTimeout reaps the shell ([MS-WSMV] 2.2.4.42 WinrsType: IdleTimeout,
    "the maximum duration the shell will stay open without any request"; whether reaping also
    ends the program is unverified). SSH: the channel is closed; Win32-OpenSSH ends the
    session's processes with it by design (PowerShell/Win32-OpenSSH#1195, #1642), though
    without a pty some survive (#1751). Either way the host's state must be checked again.
    """


@dataclass(frozen=True)
class Result:
    """What a command printed and how it ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    elapsed: float


class Transport(Protocol):
    """A connection to one host."""

    def run(self, script: str, dialect: str = "powershell", timeout: float | None = None) -> Result:
        """Run a script fed through standard input: PowerShell, or JScript under cscript.

        `timeout` (a remediation step's own) replaces the settings' command timeout; when it
        passes, CommandStillRunning is raised and the command is left running.
        """
        ...

    def run_command(self, program: str, arguments: tuple[str, ...] = ()) -> Result:
        """Run one program with arguments (no standard input)."""
        ...

    def close(self) -> None:
        """Release the remote shell and the connection; never raises."""
        ...

    def abort(self) -> None:
        """Like close, but safe from another thread while a command runs; never raises."""
        ...
