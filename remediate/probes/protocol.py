"""How a shipped script declares itself and receives its arguments.

Every script the project sends to a host starts with a declaration line::

    # remediate-script: collect v1          (PowerShell)
    // remediate-script: collect v1         (JScript)

and receives its arguments as one base64-encoded UTF-8 JSON document assigned to a variable,
on a line of its own, appended by Python and never built from the data by string pasting::

    $RemediateArgs = '<base64>'             (PowerShell)
    var REMEDIATE_ARGS = "<base64>";        (JScript)

Base64 has no quote, dollar, backtick or newline, so whatever the data holds stays inert.
The lab reads the same two lines to know what it is asked, never the code around them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

DECLARATION = re.compile(
    r"\A\ufeff?\s*(?:#|//) remediate-script: ([a-z][a-z0-9_.-]*) v(\d+)[ \t]*\r?$", re.M
)
ARGUMENTS = re.compile(
    r"^(?:\$RemediateArgs = '|var REMEDIATE_ARGS = \")([A-Za-z0-9+/=]*)(?:'|\";)[ \t]*\r?$", re.M
)


class ScriptFormatError(ValueError):
    """A script that declares itself but whose arguments cannot be read."""


@dataclass(frozen=True)
class DeclaredScript:
    name: str
    version: int
    arguments: Any
    dialect: str = "powershell"  # or "jscript", from the declaration's comment style


def encode_arguments(arguments: Any) -> str:
    """The base64 text of the JSON document (ASCII only, safe inside any quotes)."""
    document = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(document.encode("utf-8")).decode("ascii")


def powershell_arguments_line(arguments: Any) -> str:
    return f"$RemediateArgs = '{encode_arguments(arguments)}'"


def jscript_arguments_line(arguments: Any) -> str:
    return f'var REMEDIATE_ARGS = "{encode_arguments(arguments)}";'


def parse_declaration(script: str) -> DeclaredScript | None:
    """Read a script's declaration and arguments; None when it is not a declared script."""
    header = DECLARATION.search(script)
    if header is None:
        return None
    found = ARGUMENTS.search(script)
    if found is None:
        raise ScriptFormatError(f"script {header.group(1)!r} carries no arguments line")
    try:
        arguments = json.loads(base64.b64decode(found.group(1), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScriptFormatError(
            f"script {header.group(1)!r}: arguments unreadable: {exc}"
        ) from None
    dialect = (
        "jscript" if header.group(0).lstrip("\ufeff \t\r\n").startswith("//") else "powershell"
    )
    return DeclaredScript(header.group(1), int(header.group(2)), arguments, dialect)
