"""Error codes: the values a text presents as the error."""

from __future__ import annotations

import re

_CODE = re.compile(  # the linking words taken possessively: "error code code ..." was quadratic
    r"\b0x[0-9a-f]{1,8}\b|(?<![\w-])-\d{6,10}\b"
    r"|\b(?:error|code|status|returned|hr)\b(?:\s*+(?:code|number|value|was|is|of|=|:|#))*+\s*+"
    r"(-?\d{1,10}|[0-9a-f]{8})\b(?![.,]\d)",
    re.I,
)


def codes_in(description: str) -> list[str]:
    codes: dict[str, None] = {}  # ordered and unique; `not in list` was quadratic
    for match in _CODE.finditer(description):
        code = match.group(1) or match.group(0)
        if match.group(1) is not None and match.group(0).lower().startswith("0x"):
            code = match.group(0)
        bare = re.fullmatch(r"[0-9]{8}", code) is not None
        if bare and not code.startswith("8"):
            continue
        codes[code] = None
    return list(codes)
