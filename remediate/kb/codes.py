"""Error codes: the values a text PRESENTS as the error, not every hex-looking token.

A code follows a word that introduces it ("error 1067", "Error=11004", "error code: 0x8004...",
"status 0xC00402CE", "Exception e0020002", "Exception number: c0000005", "returned error 22",
"failed with error -2147467259", "failure 87", "HRESULT 0x...", "ID no: c1030ad1", "WIN32:1332",
"The exception generated was c0000005"), or is an error's symbolic name wherever it stands
(MAPI_E_NOT_FOUND, DS_E_..., JET_errLogWriteFail, ecNotFound), or is the ESE form
"MSExchangeIS (466) -515" (an instance, its process ID, then the error). Addresses ("at Address
77f3cbcd"), stack frames, offsets, process IDs and versions are introduced by no such word, so
they are not taken. Codes are kept as written (case, 0x, zero padding); a pair
"c1041724-00000000" is one code.
"""

from __future__ import annotations

import re

_INTRO = (
    r"(?:\b(?:error|error\s++code|code|status|exception|returned|returns|failure|hresult|hr"
    r"|win32|failed\s++with)(?!\w)"  # not "Error1:" (a numbered list), nor "errors : 0"
    r"|\bID\s*+(?:no\b\.?|#|(?=(?:0x)?[0-9a-f]{3,8}-[0-9a-f]))"  # "ID no: c1030ad1", "id # 8004..."
    r"|\bEc\w{2,40}\(\)\s*+[:;]"  # "EcDeliverGWMessage(): 0000000bb8"
    r")"
)
_LINK = (  # at most six, possessively: "error code code ..." tried from each word was quadratic
    r"(?:\s*+(?:code|number|no\b\.?|value|was|is|of|occurred|generated\s++was|with|=|:|#|\(|'|\")){0,6}+"
)
_VALUE = (
    r"(?P<value>"
    r"(?:0x)?[0-9a-f]{3,8}(?:-[0-9a-f]{3,8}){1,2}(?![-\w])"  # 80040115-0514-000006bf, one code
    r"|0x[0-9a-f]{1,16}\b"
    r"|(?=[0-9a-f]{0,15}\d)(?=[0-9a-f]{0,15}[a-f])[0-9a-f]{3,16}\b"  # c0000005, 0000000bb8
    r"|-\s*+\d{1,10}\b(?![.,]\w)"  # -1811; "error -" wrapped before its digits
    r"|\d{1,10}\b(?![.,]\w|\s*+%)"  # 1067, 0005, 80070057 (not 5.5.2653, 5.6.0, 00000001.PRI)
    r"|(?-i:[A-Z][A-Z0-9_]{4,30})(?=\s++-\s)"  # "error ODXBMFUL - Bitmap full": name, meaning
    r")"
)
_SYMBOLIC = (
    r"(?P<symbol>\b(?-i:(?i:jet)_err[A-Za-z]\w*|MAPI_[EW]_\w+|(?i:ds)_[A-Za-z]\w*_\w+|ERROR_[A-Z_]{3,}"
    r"|E_[A-Z]{3,}\w*|RPC_[SX]_\w+|SEC_E_\w+|WSAE[A-Z]+|ec[A-Z][a-z]\w+)\b)"
)
_CODE = re.compile(
    rf"{_INTRO}{_LINK}\s*+{_VALUE}"
    rf"|{_SYMBOLIC}"
    r"|(?<=\w[ \t])\(\d{1,6}\)\s++(?P<ese>-\d{1,6})\b",  # MSExchangeIS (466) -515
    re.I,
)


_OTHER_FORMS = re.compile(r"(?<![\w.-])-\d{1,10}\b(?!\.\d)|\b0x[0-9a-f]{1,16}\b|\b\d{9,10}\b", re.I)


def codes_in(text: str) -> list[str]:
    """The error codes `text` presents, in order, each once, as written.

    A line naming an error symbolically gives that error's other forms too: "-509 0xFFFFFE03
    JET_errMissingPreviousLogFile 4294966787" (decimal, hex, name, unsigned) is one error.
    """
    codes: dict[str, None] = {}  # ordered and unique; `not in list` was quadratic
    read_line = -1  # the last line read for other forms (each line once)
    for match in _CODE.finditer(text):
        code = match.group("value") or match.group("symbol") or match.group("ese")
        code = "".join(code.split())  # "error -\n 2147467259" as one number
        if match.group("symbol") and match.start() > read_line:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            read_line = line_end = len(text) if line_end < 0 else line_end
            if line_end - line_start <= 300:
                for other in _OTHER_FORMS.finditer(text, line_start, match.start()):
                    codes.setdefault(other.group(0), None)
                codes.setdefault(code, None)
                for other in _OTHER_FORMS.finditer(text, match.end(), line_end):
                    codes.setdefault(other.group(0), None)
                continue
        codes.setdefault(code, None)
    return list(codes)


def article_codes(text: str, event_codes: list[str], event_ids: set[int]) -> list[str]:
    """Every code the article presents: its events' first, then the rest of its text.

    A decimal equal to one of the article's event IDs is that event, not a code ("Session
    Error 2375" in an Event Viewer row).
    """
    codes = dict.fromkeys(event_codes)
    for code in codes_in(text):
        codes.setdefault(code, None)
    return [c for c in codes if not (c.lstrip("-").isdigit() and int(c) in event_ids)]
