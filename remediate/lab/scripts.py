"""Declared scripts: the project's probes and steps, answered from the host model.

A shipped script declares itself on its first line (`# remediate-script: NAME vN`) and carries
its arguments as one base64 JSON document (see `remediate.probes.protocol`). The lab reads that
declaration and the arguments, never the code, and computes the answer the real script would
give on such a host. Handlers register themselves by script name.
"""

from __future__ import annotations

from collections.abc import Callable

from remediate.lab.commands import Execution
from remediate.lab.host import LabHost, ReceivedScript
from remediate.probes.protocol import DeclaredScript, ScriptFormatError, parse_declaration

Handler = Callable[[LabHost, DeclaredScript], Execution]

HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register the function that answers the declared script `name`."""

    def register(function: Handler) -> Handler:
        HANDLERS[name] = function
        return function

    return register


def declared_script(script: str) -> DeclaredScript | ScriptFormatError | None:
    """The declaration of a project script, an error if it is malformed, None if it is not one."""
    try:
        return parse_declaration(script)
    except ScriptFormatError as exc:
        return exc


def run_declared(
    host: LabHost, declared: DeclaredScript | ScriptFormatError, transport: str
) -> Execution:
    """Answer a declared script as the real one would, or fail as PowerShell would."""
    if isinstance(declared, ScriptFormatError):
        return Execution(stderr=f"{declared}\r\n".encode(), exit_code=1)
    with host.lock:
        host.received.append(ReceivedScript(declared.name, declared.arguments, transport))
    answer = HANDLERS.get(declared.name)
    if answer is None:
        return Execution(
            stderr=f"remediate lab: no model for script {declared.name!r}\r\n".encode(),
            exit_code=1,
        )
    return answer(host, declared)
