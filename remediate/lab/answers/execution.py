"""What running something on a lab host produces, and who answers the declared scripts.

The bottom of the lab's answers, so that nothing here has to import upwards: the command
interpreters (`cmd_line`, `commands`) return an `Execution`; the answers to the declared
scripts (`collect`, `step`) are `Handler`s kept in `HANDLERS`, which `remediate.lab.answers`
fills once; the interpreters find them there by the script's declared name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from remediate.lab.host import LabHost
from remediate.probes.protocol import DeclaredScript


@dataclass(frozen=True)
class Execution:
    """The outcome of one command: streams, exit code, and how long it takes to produce."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    delay_seconds: float = 0.0


Handler = Callable[[LabHost, DeclaredScript], Execution]
"""Computes what a declared script prints on this host (and applies what it changes)."""

Launch = Callable[[LabHost, str, list[str], bytes, str], Execution]
"""Starts a program: (host, program, arguments, stdin, transport) -> its Execution."""

HANDLERS: dict[str, Handler] = {}


def register(name: str, handler: Handler) -> None:
    """Make `handler` the answer to the declared script `name`."""
    HANDLERS[name] = handler
