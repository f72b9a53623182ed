"""Declared scripts: the project's probes and steps, answered from the host model.

A shipped script declares itself on its first line (`# remediate-script: NAME vN`) and carries
its arguments as one base64 JSON document (see `remediate.probes.protocol`). The lab reads that
declaration and the arguments, never the code, and computes the answer the real script would
give on such a host. The answers are found by script name in `execution.HANDLERS`.
"""

from __future__ import annotations

from dataclasses import replace

from remediate.lab.answers.execution import HANDLERS, Execution
from remediate.lab.host import LabHost, ReceivedScript
from remediate.probes.protocol import DeclaredScript, ScriptFormatError, parse_declaration


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
    return _with_faults(host, answer(host, declared))


def run_jscript(host: LabHost, script: str, transport: str) -> Execution:
    """Answer a JScript run by cscript: only the project's declared scripts are known."""
    declared = declared_script(script)
    if declared is None:
        return Execution(
            stderr=b"Microsoft JScript runtime error: the lab runs only declared scripts\r\n",
            exit_code=1,
        )
    return run_declared(host, declared, transport)


def _with_faults(host: LabHost, execution: Execution) -> Execution:
    """Apply the host's probe faults: slow answers, and output damaged on the way."""
    faults = host.spec.faults
    stdout = execution.stdout
    if faults.corrupt_output and stdout:
        # Lose the tail and flip bytes in the middle, as a broken pipe or a bad codepage would.
        kept = bytearray(stdout[: max(1, len(stdout) * 2 // 3)])
        for index in range(len(kept) // 3, len(kept), 97):
            kept[index] ^= 0x5A
        stdout = bytes(kept)
    return replace(
        execution,
        stdout=stdout,
        delay_seconds=execution.delay_seconds + faults.slow_probe_seconds,
    )
