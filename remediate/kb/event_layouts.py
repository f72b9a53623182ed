"""Event layouts without labels: where an article names an event's ID or source by position
alone (an ID on a line of its own over its description, a source beside the ID, after it on
its line, in the next column or on the line over or under it) or in a sentence ("from the
MSExchangeX", "with X as the source"). event_lines, event_blocks and event_prose use them
(lines opening with an ID, labelled blocks, sentences); events.py merges all mentions into
events.

Every pattern here is anchored where it is tried and bounded, with possessive blanks: each try
reads a few dozen characters, so a reader stays linear in its input.
"""

from __future__ import annotations

import re

_NOT_SOURCES = frozenset((
    "ID", "NT", "SP", "QFE", "KB", "NDR", "MTA", "IS", "DS", "IMS", "IMC",
    "EVENT", "EVENTID", "SOURCE", "ERROR", "WARNING", "INFORMATION", "TYPE", "CATEGORY",
))  # fmt: skip
_NOT_NAMES = re.compile(r"(?:SP|Q|KB)\d+", re.I)


def looks_like_source(word: str) -> bool:
    """A service or log name (MSExchangeMTA, ESE97, EDB, MacFile), not a prose word nor a
    service pack or an article (SP1, Q123456)."""
    if word.upper() in _NOT_SOURCES or _NOT_NAMES.fullmatch(word):
        return False
    capitals = sum(1 for c in word if c.isupper())
    return capitals >= 2 or (word[:1].isupper() and any(c.isdigit() for c in word))


_ARTICLES = frozenset(("a", "an", "the"))


def dashed_source(words: str) -> bool:
    """The part between the dashes of "1234 - MSExchangeX - text" or "ID 7011 - Service Control
    Manager - text" is the source when it is a service or log name, or a few plain words the
    first capitalised ("Service control manager"); not a category with a protocol's number
    ("X.400 Service") nor the start of a sentence ("A memory access violation")."""
    parts = words.split()
    if len(parts) == 1:
        return looks_like_source(words)
    return (
        parts[0][0].isupper()
        and parts[0].lower() not in _ARTICLES
        and all(part.isalpha() for part in parts)
    )


LONE_ID = re.compile(
    # An ID alone on its indented line, or with its source after it ("9315 MTA", "4007:
    # MSExchangeX", "13005 MSExchange Pop3 Authentication"), over the first line of its
    # description: "   2005\n   Calling ...". Only where the log is spoken of just before, or an
    # entry of the same series just ended (event_lines.py decides).
    # With a source on its line, a blank line may come before the description ("1084: X").
    r"^[ \t]++(?P<id>\d{2,5})"
    r"(?:(?P<rest>(?:[ \t]*+:[ \t]*+|[ \t]++)[A-Za-z][^\n]{0,80}+)\n(?:[ \t]*+\n)?|[ \t]*+\n)"
    r"[ \t]*+(?=[A-Z(])",
    re.M,
)

_SOURCE_AFTER = re.compile(
    # After an ID: the next column ("Event ID 9215     MSExchangeMTA     Operating System") or
    # the next line, alone or labelled ("   12802\n   MSExchange Pop3\n"); one word or two.
    r"(?:[ \t]{2,}+|[ \t]*+\n[ \t]*+(?:Source[ \t]*+:[ \t]*+)?)"
    r"(?P<source>[A-Za-z][\w.]{1,40}+(?: [A-Za-z][\w.]{1,20}+)?)(?=[ \t]*+\n|[ \t]{2}|[ \t]*+\Z)"
)


def source_after(text: str, pos: int) -> str | None:
    """The source written right after an ID ending at `pos`, without a label on its line: in
    the next column of that line, alone on the next line (or as `Source: X` there), or after
    the ID on its line ("Event ID 1212 MSExchangeX Content Engine": the category after it)."""
    match = _SOURCE_AFTER.match(text, pos, pos + 200)
    if match is not None:
        source = match.group("source")
        if "Source" in text[pos : match.start("source")] or looks_like_source(source.split()[0]):
            return source
    return source_on_line(text, pos)


_ON_LINE = re.compile(
    r"(?:[ \t]*+:[ \t]*+|[ \t]++)(?P<first>[A-Za-z][\w.]{1,40}+)"
    r"(?:[ \t](?P<second>[A-Za-z][\w.]{1,20}+))?"
)
_SECOND_WORDS = frozenset(("private", "public"))
# one blank then the sentence's next word, or a line break and a word in lower case
_PROSE_GOES_ON = re.compile(r"[ \t][A-Za-z]|[ \t]*+\n[ \t]*+[a-z]")


def source_on_line(text: str, pos: int) -> str | None:
    """A source a blank or a colon after the ID at `pos` ("1212: MSExchangeX"): one word, or
    two for the store's ("MSExchangeIS Private") and the protocols' ("MSExchange Pop3");
    what follows on the line is the category."""
    match = _ON_LINE.match(text, pos, pos + 120)
    if match is None:
        return None
    first, second = match.group("first").rstrip("."), match.group("second")
    if not looks_like_source(first) or not first.isalnum():
        return None  # "X.400" names a protocol
    if ":" in text[pos : match.start("first")] and (first.isupper() or first.islower()):
        return None  # "Event ID 1: NOTESAGENT Failed to start": a description after a colon
    if len(first) <= 5 and first.isupper() and _PROSE_GOES_ON.match(text, match.end("first")):
        return None  # "Event ID 9318 RPC communications error": an acronym opening a sentence
    if second and (second.lower() in _SECOND_WORDS or first.lower() == "msexchange"):
        return f"{first} {second.rstrip('.')}"
    return first


def lone_source(match: re.Match[str], text: str) -> str | None:
    """The source of a LONE_ID entry: the word after the ID ("9315 MTA": a short upper-case
    name is one there) or the source on the ID's line, else a source alone or labelled on the
    next line."""
    rest = match.group("rest")
    if rest:
        word = rest.strip(" \t:")
        if word.isalpha() and word.isupper() and len(word) <= 8:
            return word
        return source_on_line(text, match.start("rest"))
    return source_after(text, text.rfind("\n", 0, match.end()))


_TYPES = frozenset(("error", "warning", "information", "informational"))  # "(Warning)": a type
_PAREN_SOURCE = re.compile(r"[ \t]*+\([ \t]*+([A-Za-z][\w.]{1,30}(?: [\w.]{1,20}){0,2})[ \t]*+\)")
_LINE_SOURCE = re.compile(r"[ \t]*+(?:[-*][ \t]++)?([A-Za-z][\w.]{1,40}?)[ \t]*+")


def source_near(text: str, label: re.Match[str], after_id: int) -> str | None:
    """A source the article gives beside the ID, without a `Source:` label: in parentheses after
    it ("Event ID 1005 (MSExchangeSA)"), alone before it on its line ("MSExchangeMTA Event ID
    1008", run together as "MSExchangeMTAEvent ID 1004"), or after it in the next column or
    alone on the next line (Event Viewer's columns copied without their names)."""
    paren = _PAREN_SOURCE.match(text, after_id, after_id + 80)
    if paren and not paren.group(1).isdigit() and paren.group(1).lower() not in _TYPES:
        return paren.group(1)
    line_start = text.rfind("\n", max(0, label.start() - 80), label.start()) + 1
    before = _LINE_SOURCE.fullmatch(text, line_start, label.start())
    if before and line_start < label.start() and looks_like_source(before.group(1)):
        return before.group(1)
    if line_start > 0 and not text[line_start : label.start()].strip():
        # the label opens its line: a source alone on the line over it ("MSExchangeX" /
        # "Event ID: 2051")
        above = text.rfind("\n", max(0, line_start - 80), line_start - 1) + 1
        alone = _LINE_SOURCE.fullmatch(text, above, line_start - 1)
        if alone and above > 0 and looks_like_source(alone.group(1)):
            return alone.group(1)
    return source_after(text, after_id)


TYPED_ID = re.compile(
    # Event Viewer's type word, the ID and the Source label on one line, without an Event label:
    # "Warning 1026 Source MSExchangeX Private" (the source is read after the label).
    r"\b(?:Error|Warning|Information)[ \t]++(?P<id>\d{1,5})[ \t]++Source(?:[ \t]*+:)?[ \t]++"
    r"(?=[A-Za-z])"
)


BARE_ID = re.compile(r"^[ \t]*+ID[ \t]*+:[ \t]*+(?P<id>\d{1,5})\b", re.M)
_SOURCE_LABEL = re.compile(r"\bSource[ \t]*+:[ \t]*+")


def bare_id_source(text: str, match: re.Match[str]) -> int | None:
    """Where the source's value starts for an `ID: 4087` line (no Event word): a `Source:`
    label on its line or the line before or after it, as in an event's detail; None without
    one (an "Attribute\n ID: 11" inside a description is no event)."""
    line_start = text.rfind("\n", 0, match.start()) + 1
    before = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    after = text.find("\n", match.end())
    after = len(text) if after < 0 else text.find("\n", after + 1)
    after = len(text) if after < 0 else after
    if after - before > 600:
        return None  # lines too long for an event's detail
    label = _SOURCE_LABEL.search(text, before, after)
    return label.end() if label else None


_PROSE_SOURCE = re.compile(  # "... event IDs are 1201 and 1202 from the MSExchangeX."
    r"[ \t]*+\n?[ \t]*+from[ \t]*+\n?[ \t]*+(?:the[ \t]*+\n?[ \t]*+)?"
    r"(?P<source>[A-Za-z][\w.]{1,40}+)(?-i:(?![ \t]++[A-Z]))",  # not "from the GroupWise Connector"
    re.I,
)
_SOURCE_NAMED = re.compile(  # "event 1000 from source Userenv", "... with a source of MSExchangeX"
    r"[ \t]*+\n?[ \t]*+(?:from|with[ \t]*+\n?[ \t]*+(?:a|the))[ \t]*+\n?[ \t]*+source"
    r"(?:[ \t]*+\n?[ \t]*+of)?[ \t]*+\n?[ \t]*+"
    r"(?P<source>[A-Za-z][\w.]{1,40}+(?:[ \t]++(?-i:[A-Z])[\w.]{1,20}+){0,2})",
    re.I,
)


_AS_SOURCE = re.compile(  # "... event 7000 with Service Control Manager as the source"
    r"[ \t]*+\n?[ \t]*+with[ \t]*+\n?[ \t]*+(?:the[ \t]++)?"
    r"(?P<source>[A-Za-z][\w.]{1,40}+(?:[ \t]++[A-Z][\w.]{1,20}+){0,2})"
    r"[ \t]*+\n?[ \t]*+as[ \t]*+\n?[ \t]*+(?:the|its)[ \t]*+\n?[ \t]*+source\b",
    re.I,
)


def prose_source(text: str, pos: int) -> str | None:
    """The source a sentence names right after its list of IDs ending at `pos` ("from the
    MSExchangeX", when the word is a service or log name; "with Service Control Manager as
    the source", "from source Userenv", "with a source of X": any name, the word source says
    what it is)."""
    named = _AS_SOURCE.match(text, pos, pos + 160) or _SOURCE_NAMED.match(text, pos, pos + 160)
    if named is not None:
        return " ".join(named.group("source").split()).rstrip(".")
    match = _PROSE_SOURCE.match(text, pos, pos + 120)
    if match is None:
        return None
    source = match.group("source").rstrip(".")
    return source if looks_like_source(source) else None


_ENGINES = frozenset(("ESE97", "ESE98", "ESE", "EDB"))  # the database engine's log sources


def source_before(text: str, pos: int) -> str | None:
    """An Exchange service a few words before a sentence's "event(s)" at `pos`, on its line
    ("XFOR: MSExchangeX Reports Event IDs 2380 and 2446", "MSExchangeMTA X.400 Service events
    9298"), no punctuation between. Only MSExchange names and the database engine's ("ESE97
    event 104"): other capitalised words there are products, APIs or platforms ("WinNT event
    137", "GroupWise event 6067")."""
    line_start = text.rfind("\n", max(0, pos - 80), pos) + 1
    words = text[max(line_start, pos - 80) : pos].split()[-5:]
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if word[-1] in ",;:.()\"'":
            return None
        if (word.lower().startswith("msexch") or word.upper() in _ENGINES) and word.isalnum():
            after = words[index + 1] if index + 1 < len(words) else ""
            # the store's two logs keep their second word: "MSExchangeIS Private event 1025"
            return f"{word} {after}" if after.lower() in _SECOND_WORDS else word
    return None


# "... the following event may be logged for the MSExchangeMTA service:" over the event.
_INTRO_SERVICE = re.compile(
    r"\b(?P<source>MSExchange\w{1,30}+)[ \t]*+\n?[ \t]*+service[ \t]*+:[ \t]*+\n\s*+\Z", re.I
)


def source_in_intro(text: str, pos: int) -> str | None:
    """The Exchange service the sentence introducing an event block at `pos` names, when it ends
    with that service and a colon ("... may be generated for the MSExchangeMTA service:"); the
    block's own Source label, when it has one, wins. Read back 200 characters at most."""
    named = _INTRO_SERVICE.search(text, max(0, pos - 200), pos)
    return named.group("source") if named else None


_LABEL_LINE = re.compile(
    r"[ \t]*+(?:Event[ \t]*+)?(?:ID|Source|Description|Category|Type)[ \t]*+[:=-][^\n]{0,80}+\n",
    re.I,
)


def under_label(text: str, pos: int) -> bool:
    """Whether the line starting at `pos` comes right under an event's label line ("Source:
    EDB"): there a "MSExchangeDS 145" line is the description's first words (the process and
    its ID, as the database engine writes them), not an event of its own."""
    if pos < 2 or text[pos - 1] != "\n":
        return False
    above = text.rfind("\n", max(0, pos - 120), pos - 1) + 1
    return _LABEL_LINE.fullmatch(text, above, pos) is not None
