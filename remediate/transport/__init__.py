"""Transports run a script on a host and return what it printed.

Only this package knows about pywinrm and paramiko. Every transport offers `run(script)`,
`run_command(program, arguments)` and `close()`, and raises `TransportError` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

POWERSHELL = "powershell.exe"
POWERSHELL_STDIN_ARGUMENTS = (
    "-NoProfile",
    "-NonInteractive",
    "-ExecutionPolicy",
    "Bypass",
    "-Command",
    "-",
)


@dataclass(frozen=True)
class Result:
    """What a command printed and how it ended."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    elapsed: float


class Transport(Protocol):
    """A connection to one host."""

    def run(self, script: str) -> Result:
        """Run a PowerShell script fed through standard input."""
        ...

    def run_command(self, program: str, arguments: tuple[str, ...] = ()) -> Result:
        """Run one program with arguments (no standard input)."""
        ...

    def close(self) -> None:
        """Release the remote shell and the connection; never raises."""
        ...
