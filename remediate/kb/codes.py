"""Error codes: the values a text PRESENTS as the error, not every hex-looking token.

A code follows a word that introduces it ("error 1067", "Error=11004", "error code: 0x8004...",
"status 0xC00402CE", "Exception e0020002", "Exception number: c0000005", "returned error 22",
"failed with error -2147467259", "failure 87", "HRESULT 0x...", "ID no: c1030ad1", "NT ID:
0xC0020035", "WIN32:1332", "NET HELPMSG 87", "The exception generated was c0000005", "Error
returned was [0x80004005]", "FAILED ERROR CODE <183>", a connector's "has returned the condition:
80070057"), or is an error's symbolic name wherever it stands (MAPI_E_NOT_FOUND, DS_E_...,
JET_errLogWriteFail, ecNotFound, COM's IMAIL_E_... and CdoE_..., with the value a table row gives
it or that its name follows in parentheses: "-1018 (JET_errReadVerifyFailure)"), or is the ESE form
"MSExchangeIS (466) -515" (an instance, its process ID, then the error; ESE97's "((466) )" and
"(())" too). Some positions present a code with no word before it: a bracketed value closing a
message ("... timely manner. - [800FF351]", "0 (000C05A6) Unknown Recipient", "--
[80000008:FFFFFC0D]"; a pair "(8007000E-F2000200)" after any word), a MAPI result "<<80004005>>",
the code a Dr. Watson line puts before "at address", one named before the word ("a -1022 error", 'a
"550" error', "a 1067 error"; not "the 40 errors" nor a number the text names as an event). A stop
code ("STOP 0x7F"), a log's "result=14", the reply a remote server reported ("reported: 550");
codes of the same form listed after an introduced one ("STOP 0x7F or 0x77", "error -1018, -1019 or
-1022"); a hex code's decimal restated in parentheses ("0000000bb8 (3000)"), or a decimal's hex
("-1062 (0xfffffbda)", or "-1206 0xFFFFFB4A" when the value is the same); one error result in
both bases ("3355443730 (decimal) or 0xc8000212"); a decimal in parentheses closing a sentence that
reports an error ("... bind the listener socket (10050)"), not a constant's value ("dbSeeChanges
(512)") nor a phone number. An NDR's X.400 reason and diagnostic ("reason code unable-to-transfer",
"Reason: 0"), an HTTP 4xx/5xx status and its IIS sub-status ("HTTP Error 403" / "403.1").
Addresses ("at Address 77f3cbcd"), stack frames, jump targets, offsets, process IDs, versions and
zero (success) are not taken, nor a character's "code 127", nor a title's code cut short. Codes are
kept as written (case, 0x, zero padding); a pair "c1041724-00000000" is one code. A failed result
(eight hex digits, severity bit set) closing the line after the sentence that reports the error
is that error's ("... API error. 0xC000000D", "The call failed.\n 80004005.").
"""

from __future__ import annotations

import itertools
import re

_INTRO = (
    r"(?:\b(?:error|error\s++code|code|status|exception|returned|returns|failure|hresult|hr"
    r"|win32|failed\s++with)(?!\w)"  # not "Error1:" (a numbered list), nor "errors : 0"
    # "ID no: c1030ad1", "ID: no. c1032bfc", "id # 8004..."
    r"|\bID\s*+(?::\s*+(?=no\b))?(?:no\b\.?|#|(?=(?:0x)?[0-9a-f]{3,8}-[0-9a-f]))"
    # an error dialog's "ID-Nr: 0x..." and component's "ID: c1010aae" (the component is looked
    # at after the match: a look-behind here slowed every position), before a value shaped like
    # an error result (8 hex digits, the first 8-f)
    r"|\bID-Nr\b\.?|\bID\s*+:(?=\s*+(?:0x)?[89a-f][0-9a-f]{7}\b(?!-))"
    r"|\bEc\w{2,40}\(\)\s*+[:;]"  # "EcDeliverGWMessage(): 0000000bb8"
    r"|\bnet\s++helpmsg(?=\s++\d)"  # the Windows error a "NET HELPMSG 2140" explains
    r"|\bresult=(?=-?\w)"  # a log's "Failed to find socket, result=14" (not code's "x = 5")
    r"|\bstop(?=\s*+:?\s*+0x[0-9a-f])"  # a stop (bug check) code: "STOP 0x7F", "STOP: 0x0000000A"
    r"|\b(?:server|host)\s++(?:reported|responded|replied)(?:\s++with)?(?=\s*+:?\s*+[45]\d\d\b)"
    r")"
)
_LINK = (  # at most six, possessively: "error code code ..." tried from each word was quadratic
    r"(?:\s*+(?:code|number|no\b\.?|value|was|is|of|occurred|generated\s++was|with|the\s++condition"
    r"|reported(?=\s++(?:was|is)\b)"  # "The error reported was: [633]"
    r"|access\s++violation|=|:|#|\(|\[|<|'|\")){0,6}+"  # "Exception: Access Violation (0xc0000005)"
)
_VALUE = (
    r"(?P<value>"
    r"(?:0x)?[0-9a-f]{3,8}(?:-[0-9a-f]{3,8}){1,2}(?![-\w])"  # 80040115-0514-000006bf, one code
    r"|0x[0-9a-f]{1,16}\b"
    r"|(?=[0-9a-f]{0,15}\d)(?=[0-9a-f]{0,15}[a-f])[0-9a-f]{3,16}\b"  # c0000005, 0000000bb8
    r"|-\s*+\d{1,10}\b(?![.,]\w)"  # -1811; "error -" wrapped before its digits
    # 1067, 0005, 80070057 (not 5.5.2653, 5.6.0, 00000001.PRI); "9301.The MTA": a sentence's
    # end with its space lost, the next one starting with a capitalised word
    r"|\d{1,10}\b(?![.,](?!(?-i:[A-Z][a-z]{2}))\w|\s*+%)"
    r"|(?-i:[A-Z][A-Z0-9_]{4,30})(?=\s++-\s)"  # "error ODXBMFUL - Bitmap full": name, meaning
    r"|(?-i:ASP)\s\d{4}\b"  # IIS: error 'ASP 0113'
    r")"
)
_SYMBOLIC = (
    r"(?P<symbol>\b(?-i:(?i:jet)_err[A-Za-z]\w*|MAPI_[EW]_\w+|(?i:ds)_[A-Za-z]\w*_\w+|ERROR_[A-Z_]{3,}"
    r"|E_[A-Z]{3,}\w*|E_[A-Z][a-z]{2,}(?=\s*+\((?:0x)?[0-9a-fA-F]{8}\))|RPC_[SX]_\w+|SEC_E_\w+|WSAE[A-Z]+|ec[A-Z][a-z]\w+"
    # the COM naming of an error or warning result, FACILITY_E_NAME or FacilityE_NAME:
    # IMAIL_E_..., DISP_E_..., STG_E_..., CdoE_NOT_FOUND, CdoW_... (never a _S_ success)
    r"|[A-Z][A-Z0-9]{1,11}_[EW]_[A-Z][A-Z0-9_]{2,}|[A-Z][a-z]{1,6}[EW]_[A-Z]{2,}[A-Z0-9_]*)\b)"
    r"(?:\s*+\((?P<symhex>(?:0x)?[0-9a-f]{8})\))?"  # MAPI_E_LOGON_FAILED(80040111): its value
)
# Positions that present a code with no word before it. Each is a full-width (8 digit) value in a
# place only an error code takes, or a form only codes have:
_POSITIONAL = (
    # closing an error message in brackets: "... timely manner. [800FF351]", "0 (000C05A6)
    # Unknown Recipient", "MAPI 1.0[000004c7]"; not a disassembly's "+0x1c4 (6cdef22f)", an
    # operand "[0041c2d8]" after a comma or colon, nor a stack argument "(0x05EFFDB8)".
    r"(?=[\[(])(?<![A-Za-z_+!$,:=*])(?<!0x[0-9a-f] )(?<!0x[0-9a-f]{2} )(?<!0x[0-9a-f]{3} )"
    r"(?<!0x[0-9a-f]{4} )(?:\[|\((?!\())(?P<bracketed>(?!0{8})[0-9a-f]{8}(?::[0-9a-f]{8})?)[\])]"
    # a pair in brackets, a form only codes have, after a word too: "available memory
    # (8007000E-F2000200).", "hop count(80040C02-8200008C)"; not a value's "=[...]"
    r"|(?<!=)[\[(](?P<pair>[0-9a-f]{8}-[0-9a-f]{8})[\])]"
    # a MAPI result or an insertion string: "call failed.<<80004005>>", "<<0xc0040000 - Network"
    r"|<<\s*+(?P<quoted>(?:0x)?(?!0{8})[0-9a-f]{8})(?=\s*+>>|\s++-\s)"
)
# Codes named just before a word, looked for back from each "error" or "at address" (bounded),
# not tried at every character: a Dr. Watson line's exception code, then the address it occurred
# at ("c0000005 at address 77f1aaaa"); the error named before the word ("a -1022 error", "-1018
# or -1022 error messages", "0x3b Error"); a mail or web server's reply code ('a "550" error').
_TRAILING_WORD = re.compile(r"\berrors?\b|\bat\s++address\b", re.I)
_AT_ADDRESS = re.compile(r"(?<![\w:=.])((?:0x)?[0-9a-f]{8})[ \t]*+_?[ \t]*+\Z", re.I)
_NAMED = r"-\d{1,10}|0x[0-9a-f]{1,8}"
_BEFORE_ERROR = re.compile(
    rf"(?<![\w.-])(?:\"?(?:{_NAMED})"
    rf"(?:(?:,\s*+(?:and\s++|or\s++)?|\s++(?:or|and)\s++)(?:{_NAMED})){{0,3}}+\"?"
    r"|\"?[45]\d\d\"?'?"
    # a decimal the sentence names as one error: "a 1067 error", "the 2140 error"
    r"|(?:(?<=\ba\s)|(?<=\ban\s)|(?<=\bthe\s))\"?\d{2,10}\"?)\s++\Z",
    re.I,
)
_NAMED_VALUE = re.compile(rf"{_NAMED}|\d{{2,10}}", re.I)
# The numbers a text names as events ("generates a 2171 event", "Event ID 1011"): "a 2171
# error" there is that event, not a code.
_EVENT_NUMBER = re.compile(
    r"\bevent(?:\s++id)?\s*+[:#]?\s*+(\d{1,5})\b|\b(\d{1,5})\s++event\b", re.I
)
_LOOK_BACK = 100
_HEX8 = re.compile(r"(?:0x)?[0-9a-f]{8}")
_CODE = re.compile(
    rf"{_INTRO}{_LINK}\s*+{_VALUE}"
    rf"|{_SYMBOLIC}"
    rf"|(?=[\[(<\"0-9a-f-])(?:{_POSITIONAL})"  # one test of the first character for all
    # MSExchangeIS (466) -515; ESE97 doubles the parentheses and may leave them empty:
    # "MSExchangeIS ((466) ) -515", "MSExchangeIS (()) -552"
    r"|(?<=\w[ \t])\((?:\d{1,6}|\([ \t]*+\d{0,6}[ \t]*+\)[ \t]*+)\)\s++(?P<ese>-\d{1,6})\b",
    re.I,
)


_GROUPS = ("value", "symbol", "ese", "bracketed", "pair", "quoted")
# More codes of the same unmistakable form listed after the first: "STOP 0x7F or 0x77", "error
# -1018, -1019 or -1022" (a plain number after "or" could be anything: not taken).
_LISTED = re.compile(
    r"(?:[ \t]*+,[ \t]*+(?:or\s++|and\s++)?|\s++(?:or|and)\s++)"
    r"(0x[0-9a-f]{1,16}\b|-\d{1,10}\b)(?![.,]\w)",
    re.I,
)
# A hex code restated in decimal just after it: "error code 0000000bb8 (3000)".
_RESTATED = re.compile(r"[ \t]*+\((-?\d{1,10})\)")
# ... and a decimal code restated in hex: "error -1062 (0xfffffbda)", or with no parentheses
# when the value is the same ("Jet Error -1206 0xFFFFFB4A"; not "error code 2171 0x6").
_RESTATED_HEX = re.compile(r"[ \t]*+(?:\((0x[0-9a-f]{1,16})\)|(0x[0-9a-f]{1,16})\b(?![-:]))", re.I)
# A decimal in parentheses closing a line that reports an error: "The following error occurred
# while trying to bind the listener socket (10050)". Found from the parenthesis, then the line
# and the one before are looked at (bounded) for the error word.
_CLOSING_DECIMAL = re.compile(
    # not a phone number's "(407)\n555-0100"
    r"(?<=[A-Za-z] )\((\d{2,10})\)[ \t]*+\.?[ \t\r]*+(?:\n(?![ \t]*+\d)|\Z)"
)
_IDENTIFIER = re.compile(r"[a-z][A-Z]|_")  # "dbSeeChanges (512)": a constant's value
# An error result standing after the sentence that reports the error, closing its line: "...
# Unexpected Windows NT API error. 0xC000000D", "The call failed.\n   80004005.". Only values
# shaped like a failed result (eight hex digits, the severity bit set); the sentence before is
# looked at (bounded) for the error word.
_CLOSING_RESULT = re.compile(r"(?<![\w.:=-])(?:0x)?[89a-f][0-9a-f]{7}(?=\.?[ \t]*+(?:\n|\Z))", re.I)
_SENTENCE_BEFORE = re.compile(r"(?:\A|[.!?:])(?P<sentence>[^.!?:]{1,200}+)\.[ \t]*+\n?[ \t]*+\Z")
_ERROR_WORD = re.compile(r"\b(?:error|failed|failure)\b", re.I)
_EVENT_WORDS = re.compile(r"\bevent\b|\bpid\b|\bprocess\b|\bthread\b", re.I)
_ZERO = re.compile(r"-?(?:0x)?0+", re.I)
# "code" after a character set's words is a character, not an error: "ANSI character code 127",
# "characters above code 127", "country code 44". Looked for back from the word (bounded).
# The components whose error dialogs say "ID:" ("Directory ID: c1010aae", "NT ID: 0xC0020035");
# not a "Message ID: EDBA53BE" nor an "Object ID: 06000034".
_DIALOG_ID = re.compile(r"ID\s*+:(?!\s*+no\b)", re.I)  # "ID: no. c1032bfc" says it: a number
_DIALOG_COMPONENT = re.compile(r"\b(?:NT|Directory|Administrator|Store|Exchange)\s\Z", re.I)
_CHARACTER_CODE = re.compile(
    r"\b(?:charact\w*|ANSI|ASCII|Unicode|country|area)(?:[ \t\n]++\w+)?[ \t\n]*+\Z", re.I
)
_AFTER_CODE = re.compile(r"[ \t]*+[:(\]]")
_NUMBER_TOKEN = re.compile(r"[-']*\d+(?:\.\d+)?|0x[0-9a-f]{8}", re.I)
# An error's other forms on its symbolic name's line: a negative decimal, a 0x value, an unsigned
# decimal, or a full-width hex value, the first column of a table of codes ("8004010F  1271
# CdoE_NOT_FOUND"); not a registry dump's "660A0003=..." nor a pair's half.
# A value whose symbolic name follows it in parentheses, on its line or the next: "returns -1018
# (JET_errReadVerifyFailure)", "a 1022 (JET_errDiskIO) error". Looked for back from the name.
_BEFORE_NAME = re.compile(r"(?<![\w.-])(-\d{1,10}|\d{2,10}|0x[0-9a-f]{1,16})\s*+\(\s*+\Z", re.I)
_OTHER_FORMS = re.compile(
    r"(?<![\w.-])-\d{1,10}\b(?!\.\d)|\b0x[0-9a-f]{1,16}\b|\b\d{9,10}\b"
    r"|(?<![\w.:=-])(?=[0-9a-f]{0,7}\d)[0-9a-f]{8}\b(?![-:=])",
    re.I,
)


# An NDR's X.400 reason and diagnostic (the failure the report describes): by name after its
# words ("reason code unable-to-transfer and diagnostic code loop-detected", "Diagnostic
# content-too-long", the name wrapped at a hyphen) or before them ("the unable-to-transfer
# reason code"; looked for back from the words, bounded), or by number on the report's own
# lines ("Reason: 0 (transfer failed)", "Diagnostic: 12"). X.400 names are hyphenated ("Omit
# any diagnostic code" is none); its reason 0 is transfer-failure, a failure: a zero is kept,
# but a diagnostic of -1 says there is none (bench/kb_corpus/README.md, the guide).
_X400_NAME = r"[a-z]{2,}+(?:-(?:\n[ \t]*+)?[a-z]{2,}+)++"
_X400 = re.compile(
    rf"\b(?:reason\s++code|diagnostic(?:\s++code)?)\s++(?P<name>{_X400_NAME})\b(?!-)"
    r"|\b(?:reason|diagnostic)\s*+:[ \t]*+(?P<number>(?!-1\b)-?\d{1,3})\b(?![.,]\w)"
    r"|(?P<words>\b(?:reason|diagnostic)\s++code\b)",
    re.I,
)
_X400_BEFORE = re.compile(rf"(?<![-\w])({_X400_NAME})\s++(?:X\.400\s++)?\Z", re.I)


# An HTTP status a web server returned as the error ("HTTP 500.100 - Internal Server Error",
# "HTTP/1.0 404 Object Not Found", as written), and the IIS sub-status its error page gives
# after it, on its line or at the next line's start ("HTTP Error 403" / "403.1 Forbidden:
# ..."). Only 4xx and 5xx (the others are no errors); not "HTTP 401.x", a family of them.
_HTTP = re.compile(
    r"\bHTTP(?:/\d\.\d)?[ \t]++(?:error[ \t]++)?(?P<status>[45]\d\d(?:\.\d{1,3})?)\b(?!\.\w)"
    r"(?:[^\n]{0,60}?\n?[ \t]{0,20}+(?P<sub>(?P=status)\.\d{1,3})\b)?",
    re.I,
)


def _http(text: str) -> list[tuple[int, str]]:
    """HTTP statuses returned as the error, with where each stands (see `_HTTP`)."""
    found = []
    for match in _HTTP.finditer(text):
        found.append((match.start("status"), match.group("status")))
        if match.group("sub"):
            found.append((match.start("sub"), match.group("sub")))
    return found


# One error result in both bases, joined: "3355443730 (decimal) or 0xc8000212 (hexadecimal)",
# "0xfffffdee = 4294966766". Taken when the values are the same, the high (severity) bit is
# set and the sentence speaks of an error: a count's "4294967294 (0xFFFFFFFE) messages" is none.
_BOTH_BASES = re.compile(
    r"\b(?:(?P<dec>\d{10})(?:[ \t]*+\(decimal\))?\s++(?:or|=)\s++(?P<hex>0x[0-9a-f]{8})"
    r"|(?P<hex2>0x[0-9a-f]{8})(?:[ \t]*+\(hex(?:adecimal)?\))?\s++(?:or|=)\s++(?P<dec2>\d{10}))\b",
    re.I,
)


def _both_bases(text: str) -> list[tuple[int, str]]:
    """An error result written in decimal and in hex side by side (see `_BOTH_BASES`)."""
    found = []
    for match in _BOTH_BASES.finditer(text):
        decimal = match.group("dec") or match.group("dec2")
        hexadecimal = match.group("hex") or match.group("hex2")
        sentence = text[max(0, match.start() - 200) : match.start()].rsplit(". ", 1)[-1]
        if (
            int(decimal) == int(hexadecimal, 16) >= 0x80000000
            and _ERROR_WORD.search(sentence + match.group(0)) is not None
        ):
            found.append((match.start(), match.group(0)))
    return [
        (where + offset, value)
        for where, both in found
        for offset, value in (
            (m.start(), m.group(0)) for m in re.finditer(r"0x[0-9a-f]{8}|\d{10}", both, re.I)
        )
    ]


def _x400(text: str) -> list[tuple[int, str]]:
    """An NDR's reason and diagnostic codes, with where each stands (see `_X400`)."""
    found = []
    for match in _X400.finditer(text):
        if match.group("words"):
            before = _X400_BEFORE.search(text, max(0, match.start() - 60), match.start())
            if before:
                found.append((before.start(1), before.group(1)))
        else:
            group = "name" if match.group("name") else "number"
            found.append((match.start(group), match.group(group)))
    return [(where, re.sub(r"-\s++", "-", code)) for where, code in found]


def _same_value(decimal: str, hexadecimal: str) -> bool:
    """A decimal and a hex value are one number (a negative one as 32 bits: -1206 0xFFFFFB4A)."""
    return int(decimal) & 0xFFFFFFFF == int(hexadecimal, 16) & 0xFFFFFFFF


def _closes_message(text: str, match: re.Match[str]) -> bool:
    """A bracketed value is a code where it closes a message: after "-", ".", "," or a number
    ("manner. - [800FF351]", "1.0[000004c7]", "0 (000C05A6)", "0x80004005 (000502CC)"), and not
    followed by ":", "(" or "]" (a log line's "[00000034]:", an operand "[sym (6fb4bf1c)]").
    After a word or an offset it is an object, a queue or a jump target: "queue (0100002B)",
    "call memset (0044dae0)", "+0x18 (77fb4094)". The look is bounded: 40 characters each way.
    """
    if _AFTER_CODE.match(text, match.end(), match.end() + 40):
        return False
    before = text[max(0, match.start() - 40) : match.start()].rstrip()
    token = before[before.rfind(" ") + 1 :].rsplit("\n", 1)[-1]
    return bool(token) and (token[-1] in "-.,'" or bool(_NUMBER_TOKEN.fullmatch(token)))


def _named_before(text: str) -> list[tuple[int, str]]:
    """The codes named just before "error" or "at address", with where each stands."""
    found = []
    events: set[int] | None = None  # read once, when a plain decimal is named
    for word in _TRAILING_WORD.finditer(text):
        # only after a number, a quote or a hex value is there anything to look back for
        tail = text[max(0, word.start() - 24) : word.start()].rstrip(" \t\n_")
        last = tail[max(tail.rfind(" "), tail.rfind("\n")) + 1 :].lower()
        if word.group(0)[0] in "aA":
            if _HEX8.fullmatch(last) and (
                match := _AT_ADDRESS.search(text, max(0, word.start() - 24), word.start())
            ):
                found.append((match.start(), match.group(1)))
        elif (last[-1:].isdigit() or last[-1:] in ("'", '"') or last.startswith("0x")) and (
            match := _BEFORE_ERROR.search(text, max(0, word.start() - _LOOK_BACK), word.start())
        ):
            for value in _NAMED_VALUE.finditer(text, match.start(), match.end()):
                if value.group(0).isdigit():
                    if word.group(0)[-1] in "sS" and text[value.start() - 1] != '"':
                        continue  # "the 40 errors": a count
                    if events is None:
                        events = {int(a or b) for a, b in _EVENT_NUMBER.findall(text)}
                    if int(value.group(0)) in events:
                        continue
                found.append((value.start(), value.group(0)))
    return found


def _closing_decimals(text: str) -> list[tuple[int, str]]:
    """Decimals in parentheses that close a sentence reporting an error: its line, and the line
    before when this one goes on from it (starts lower-case). At most 200 characters are read
    back from each, so the pass stays linear."""
    found = []
    for match in _CLOSING_DECIMAL.finditer(text):
        window = max(0, match.start() - 200)
        line = text[max(window, text.rfind("\n", window, match.start()) + 1) : match.start()]
        context = line
        if line.lstrip()[:1].islower():
            previous_end = max(window, match.start() - len(line) - 1)
            context = text[max(window, text.rfind("\n", window, previous_end) + 1) : match.start()]
        word = line.rstrip().rsplit(None, 1)[-1] if line.strip() else ""
        if (
            _ERROR_WORD.search(context)
            and not _EVENT_WORDS.search(context)
            and not _IDENTIFIER.search(word)
        ):
            found.append((match.start(1), match.group(1)))
    return found


def _closing_results(text: str) -> list[tuple[int, str]]:
    """Error results closing the line after the sentence that reports the error (see
    `_CLOSING_RESULT`); 200 characters at most are read back from each."""
    found = []
    for match in _CLOSING_RESULT.finditer(text):
        before = _SENTENCE_BEFORE.search(text, max(0, match.start() - 200), match.start())
        if before and _ERROR_WORD.search(before.group("sentence")):
            found.append((match.start(), match.group(0)))
    return found


def codes_in(text: str) -> list[str]:
    """The error codes `text` presents, in order, each once, as written.

    A line naming an error symbolically gives that error's other forms too: "-509 0xFFFFFE03
    JET_errMissingPreviousLogFile 4294966787" (decimal, hex, name, unsigned) is one error.
    """
    found: list[tuple[int, str]] = []  # (where, code): two readings merged in text order
    read_line = -1  # the last line read for other forms (each line once)
    for match in _CODE.finditer(text):
        code = next(group for group in _GROUPS if match.group(group))
        code = re.sub(r"(?<=-)\s++", "", match.group(code))  # "error -\n 2147467259": one number
        if match.group("bracketed") and not _closes_message(text, match):
            continue
        if _DIALOG_ID.match(match.group(0)) and not _DIALOG_COMPONENT.search(
            text, max(0, match.start() - 16), match.start()
        ):
            continue
        if match.group(0)[:4].lower() == "code" and _CHARACTER_CODE.search(
            text, max(0, match.start() - 30), match.start()
        ):
            continue
        if match.group("symhex"):
            found.append((match.start("symhex"), match.group("symhex")))
        if match.group("symbol") and match.start() > read_line:
            line_start = text.rfind("\n", 0, match.start()) + 1
            line_end = text.find("\n", match.end())
            read_line = line_end = len(text) if line_end < 0 else line_end
            if line_end - line_start <= 300:
                for other in _OTHER_FORMS.finditer(text, line_start, match.start()):
                    found.append((other.start(), other.group(0)))
                for other in _OTHER_FORMS.finditer(text, match.end(), line_end):
                    found.append((other.start(), other.group(0)))
        if match.group("symbol") and (
            named := _BEFORE_NAME.search(text, max(0, match.start() - 40), match.start())
        ):
            found.append((named.start(1), named.group(1)))
        found.append((match.start(), code))
        if match.group("value"):
            end = match.end()
            # a hex code's decimal, or a decimal code's hex, restated in parentheses after it
            restate = _RESTATED_HEX if code.lstrip("-").isdigit() else _RESTATED
            if (restated := restate.match(text, end)) and (
                restated.group(1) or _same_value(code, restated.group(2))
            ):
                group = 1 if restated.group(1) else 2
                found.append((restated.start(group), restated.group(group)))
            for _ in range(3 if not _ZERO.fullmatch(code) else 0):  # "returns 0, -1": values
                if not (listed := _LISTED.match(text, end)):
                    break
                found.append((listed.start(1), listed.group(1)))
                end = listed.end()
    found.extend(_named_before(text))
    found.extend(_closing_decimals(text))
    found.extend(_closing_results(text))
    # a zero is success, not an error: dropped before the X.400 codes (whose 0 is a failure)
    found = [(where, code) for where, code in found if not _ZERO.fullmatch(code)]
    found.extend(_x400(text))
    found.extend(_http(text))
    found.extend(_both_bases(text))
    found.sort(key=lambda pair: pair[0])  # stable: a symbol before the values on its line
    return list(dict.fromkeys(code for _, code in found))  # ordered and unique (linear)


def article_codes(text: str, event_codes: list[str], event_ids: set[int]) -> list[str]:
    """Every code the article presents: its events' first, then the rest of its text.

    A decimal equal to one of the article's event IDs is that event, not a code ("Session
    Error 2375" in an Event Viewer row). `text` is the article's body without its footer (its
    "Additional query words" are search terms): read.split_sections cuts it off.
    """
    codes = dict.fromkeys(event_codes)
    for code in codes_in(text):
        codes.setdefault(code, None)
    cut = _cut_by_the_title(text, list(codes))
    return [c for c in codes if c != cut and not (c.lstrip("-").isdigit() and int(c) in event_ids)]


# The archive's TITLE field holds 64 characters: a title that fills it was cut there.
_FULL_TITLE = re.compile(r"^TITLE[ \t]*+:(?P<title>[^\n]{64})\r?$", re.M)


def _cut_by_the_title(text: str, codes: list[str]) -> str | None:
    """The code closing a title cut at the field's width, when a longer code of the article
    starts with it and the text never writes it alone elsewhere: "... with Error 429" for the
    body's "error 4294966090" (`cut_short` leaves codes under six characters alone, since
    "1067" beside "10670" is two codes; at the title's cut the short one is the long one's
    start)."""
    title = _FULL_TITLE.search(text, 0, 2000)
    if not title or not title.group("title").split():
        return None
    last = title.group("title").split()[-1]
    if last not in codes or not any(c != last and c.startswith(last) for c in codes):
        return None
    alone = re.compile(rf"(?<![\w-]){re.escape(last)}(?![\w])")
    return last if len(alone.findall(text)) == 1 else None


def cut_short(codes: list[str]) -> set[str]:
    """The codes that are another code of the same article cut short: an archive title is cut
    at a fixed width, so "Error 0x8004030" in a title stands for the body's "0x80040301".
    Only codes of six characters or more (after any "0x"), so that "1067" never hides
    behind "10670", and never the first half of a pair ("80040c06" is its own code beside
    "80040c06-f2000312"); one pass over the codes sorted, so linear after the sort."""

    def plain(code: str) -> str:
        return code.lower().removeprefix("0x")

    ordered = sorted({plain(code) for code in codes})
    cut = {
        shorter
        for shorter, longer in itertools.pairwise(ordered)
        if len(shorter) >= 6 and longer.startswith(shorter) and longer[len(shorter)].isalnum()
    }
    return {code for code in codes if plain(code) in cut}
