"""The `step` script: one remediation action sent to a host, and its one-record result.

`build_step_script` assembles `step.ps1` (PowerShell 2.0) or `step.js` (JScript under cscript)
with the action appended as one base64 JSON document, exactly as the collector is assembled;
`parse_step_result` validates the framed output and returns its `result` record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from remediate.probes.collect import _COMMENT_OR_BLANK, Dialect
from remediate.probes.framing import OutputFormatError, parse_output
from remediate.probes.protocol import jscript_arguments_line, powershell_arguments_line
from remediate.probes.shipped import shipped_script

SCRIPT_NAME = "step"
SCRIPT_VERSION = 1
STATUSES = ("ok", "failed")
_NEEDS_QUOTES = re.compile(r'[ \t\r\n"]')


@dataclass(frozen=True)
class StepOutcome:
    """What one step did on the host."""

    status: str  # ok | failed
    changed: bool
    exit_code: int | None
    command: str
    message: str


def step_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The JSON document the script receives: the action with the format version."""
    return {**arguments, "v": SCRIPT_VERSION}


def build_step_script(arguments: dict[str, Any], dialect: Dialect) -> str:
    """The script to send: declaration, the arguments line, then the shipped code.

    PowerShell code travels as one `& { ... }` block without blank or comment lines (see
    `remediate.probes.collect.build_script` for why).
    """
    document = step_arguments(arguments)
    if dialect == "powershell":
        source = shipped_script("step.ps1")
        lines = [ln for ln in source.splitlines() if not _COMMENT_OR_BLANK.match(ln)]
        header = f"# remediate-script: {SCRIPT_NAME} v{SCRIPT_VERSION}"
        body = [header, powershell_arguments_line(document), "& {", *lines, "}"]
        return "\r\n".join(body) + "\r\n\r\n"
    header = f"// remediate-script: {SCRIPT_NAME} v{SCRIPT_VERSION}"
    lines = [header, jscript_arguments_line(document), shipped_script("step.js")]
    return "\r\n".join(lines) + "\r\n"


def parse_step_result(stdout: bytes) -> StepOutcome:
    """The step's outcome; OutputFormatError unless the output is exactly one result record."""
    records = parse_output(stdout, SCRIPT_NAME)
    if len(records) != 1 or records[0].kind != "result":
        kinds = ", ".join(r.kind for r in records) or "none"
        raise OutputFormatError(f"a step prints one result record, got: {kinds}")
    record = records[0]
    status = record.get("status")
    if status not in STATUSES:
        raise OutputFormatError(f"step result: unknown status {status[:40]!r}")
    code = record.get("exit_code")
    if code and not re.fullmatch(r"-?\d+", code):
        raise OutputFormatError(f"step result: exit_code is not a number: {code[:40]!r}")
    return StepOutcome(
        status=status,
        changed=record.get("changed") == "1",
        exit_code=int(code) if code else None,
        command=record.get("command"),
        message=record.get("message"),
    )


def quote_argument(value: str) -> str:
    """One argument as CommandLineToArgvW reads it back (the scripts quote the same way)."""
    if value and not _NEEDS_QUOTES.search(value):
        return value
    out = ['"']
    slashes = 0
    for char in value:
        if char == "\\":
            slashes += 1
            continue
        out.append("\\" * (2 * slashes + 1 if char == '"' else slashes) + char)
        slashes = 0
    out.append("\\" * (2 * slashes) + '"')
    return "".join(out)
