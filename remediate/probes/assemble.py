"""The one way a shipped script becomes the text sent to a host.

Every script (`collect`, `step`) is sent the same way: its declaration line, its arguments
line (one encoded document, `remediate.probes.protocol`), then the shipped code of its dialect
(`NAME.ps1` or `NAME.js`, with the shared part spliced in by `remediate.probes.shipped`).
The script modules say only which name, version and document; the assembly lives here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from remediate.probes.protocol import jscript_arguments_line, powershell_arguments_line
from remediate.probes.shipped import shipped_script
from remediate.transport import Dialect

# A blank line, or a comment that is not the declaration: neither may reach PowerShell.
_COMMENT_OR_BLANK = re.compile(r"^\s*(#(?!\s*remediate-script:).*)?$")


def script_source(name: str, dialect: Dialect) -> str:
    """The shipped code of script `name` for a dialect (package data, includes spliced in)."""
    return shipped_script(f"{name}.ps1" if dialect == "powershell" else f"{name}.js")


def build_script(name: str, version: int, dialect: Dialect, arguments: Any) -> str:
    """The script to send: declaration, the arguments line, then the shipped code.

    PowerShell reading `-Command -` takes its input line by line, like a prompt: a statement
    runs as soon as it is complete, so `else` on its own line or a blank line inside a block
    would break the script. The code therefore travels as one script block, `& { ... }`,
    parsed whole once its closing brace arrives, with blank and comment lines dropped and a
    blank line after it to make PowerShell run it.
    """
    if dialect == "powershell":
        header = f"# remediate-script: {name} v{version}"
        return f"{header}\r\n{powershell_arguments_line(arguments)}\r\n{_powershell_block(name)}"
    header = f"// remediate-script: {name} v{version}"
    source = script_source(name, dialect)
    return "\r\n".join([header, jscript_arguments_line(arguments), source]) + "\r\n"


@cache
def _powershell_block(name: str) -> str:
    """`& { ... }` of the shipped code, blank and comment lines dropped, and the blank line
    that runs it: the same for every host, so made once (it was a tenth of a host's CPU)."""
    source = script_source(name, "powershell")
    lines = [ln for ln in source.splitlines() if not _COMMENT_OR_BLANK.match(ln)]
    return "\r\n".join(["& {", *lines, "}"]) + "\r\n\r\n"
