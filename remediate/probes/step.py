"""The `step` script: one remediation action sent to a host, and its one-record result.

`build_step_script` assembles `step.ps1` (PowerShell 2.0) or `step.js` (JScript under cscript)
with the action appended as one base64 JSON document, through the same assembler as the
collector (`remediate.probes.assemble`); `parse_step_result` validates the framed output and
returns its `result` record. The command lines a step runs are quoted as in
`remediate.probes.quoting`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from remediate.probes.assemble import build_script
from remediate.probes.framing import OutputFormatError, parse_output
from remediate.transport import Dialect

SCRIPT_NAME = "step"
SCRIPT_VERSION = 1
STATUSES = ("ok", "failed")


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


# Raw bytes of a file per `put_file` request. The script travels on stdin, which the WinRM
# transport cuts into Send messages of STDIN_CHUNK (64 KiB) so that each envelope stays under
# MaxEnvelopeSizekb ([MS-WSMV] 2.2.4.10 ConfigType: "The default value SHOULD be 500 but MAY
# be 150"; 150 KB on WinRM 2.0). 48 KiB base64-encoded twice (the chunk in the JSON document,
# the document on the arguments line) is about 87 KiB: two Sends per request, and a chunk small
# enough for the character-by-character argument readers of PowerShell 2.0 and JScript 5.
PUT_CHUNK = 48 * 1024


def put_file_requests(path: str, content: bytes, chunk: int = PUT_CHUNK) -> list[dict[str, Any]]:
    """The `put_file` requests that write `content` to `path` on the host, in order: the first
    (offset 0) creates or empties the file, each next one appends at its offset."""
    pieces = [content[i : i + chunk] for i in range(0, len(content), chunk)] or [b""]
    return [
        {
            "action": "put_file",
            "path": path,
            "offset": index * chunk,
            "data": base64.b64encode(piece).decode("ascii"),
        }
        for index, piece in enumerate(pieces)
    ]


def build_step_script(arguments: dict[str, Any], dialect: Dialect) -> str:
    """The step as sent: `step.ps1` or `step.js` with the action's document."""
    return build_script(SCRIPT_NAME, SCRIPT_VERSION, dialect, step_arguments(arguments))


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
