"""How one argument is written on a Windows command line, so the program reads it back intact.

A wire format shared by three sides: `step.ps1` (`ConvertTo-ArgumentText`) and `step.js`
(`quoteArgument`) build the command lines they run this way, the lab answers a step with the
command line the script would have run, and the tests compare them. Hence its own small module,
one the lab may import (it imports no script runner).

The rules are those of CommandLineToArgvW and the C runtime: backslashes are literal except
before a double quote, where 2n backslashes give n and 2n+1 give n and a literal quote.
https://learn.microsoft.com/en-us/windows/win32/api/shellapi/nf-shellapi-commandlinetoargvw
https://learn.microsoft.com/en-us/cpp/c-language/parsing-c-command-line-arguments
"""

from __future__ import annotations

import re

_NEEDS_QUOTES = re.compile(r'[ \t\r\n"]')


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
