"""Symptom events an article names: source, ID, the error codes and data bytes of each.

Articles copy events in many layouts: labelled blocks (`Event ID: 1234` / `Source: X`, in any
order, with `:`, `=`, `-` or nothing between label and value), Event Viewer rows and tables,
"NNNN - Source - text" and bare "SOURCE NNNN" lines, and prose ("may also log event IDs 4410,
4417, and 4420"). Sources are kept as written (spaces, typos); a source the article does not
state stays None. Events a fix introduces ("after you apply the fix, event 1234 is logged") and
titles of other articles are not symptoms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from remediate.kb.codes import codes_in
from remediate.kb.event_layouts import (
    BARE_ID,
    LONE_ID,
    TYPED_ID,
    bare_id_source,
    dashed_source,
    lone_source,
    looks_like_source,
    prose_source,
    source_before,
    source_in_intro,
    source_near,
    under_label,
)
from remediate.kb.facts import EventFact
from remediate.kb.read import Section
from remediate.kb.references import mask_references

_SYMPTOM_SECTIONS = {"SYMPTOM", "SYMPTOMS", "SUMMARY", "INTRODUCTION"}
_CONTEXT_SECTIONS = {"CAUSE", "MORE INFORMATION", "RESOLUTION", "WORKAROUND"}
_LABEL = re.compile(
    # A label and its separator (`:`, `=`, `Event ID - 2037`); `Event ID 200`, `Event 1026;` and
    # `Source MSExchangeMTA` (Event Viewer copied without colons) need what follows to be one.
    # `MSExchangeMTAEvent ID 1004`: a source run into the label.
    r"(?:(?<![\w-])|(?<=[a-z0-9])(?=Event\s*ID\b))"
    r"(?P<label>Event\s*Type|Event\s*Source|Event\s*Category|Event(?:\s*|-)ID'?s?|EventID"
    r"|Event|Source|Src|Category|Type|Description|Date|Time|User|Computer)"
    r"(?:\s*+(?:[:=]|-(?=[ \t]*+\d))[ \t]*+"
    # "Source - MSExchangeMTA" / "Description - text": a dash between blanks, before a word
    r"|(?:(?<=Source)|(?<=Description))[ \t]++-[ \t]++(?=[A-Za-z])"
    r"|(?<=ID)(?=\s++\d)|(?<=ID's)(?=\s++\d)"
    r"|(?<=Event)(?=\s++\d{1,5}(?:\s*+[;,:]|[ \t]{2,}+(?:Source|Type|Category)\b"
    r"|[ \t]++(?-i:Source)\b"
    r"|[ \t]++(?-i:[A-Z][a-z]*+[A-Z])))"  # "Event 2010   MSExchangeX": a source after it
    r"|(?-i:(?<=Source)[ \t]++(?=[A-Z]))"
    # a sentence: "the SOURCE will be the MSExchangeX, the EVENT ID will be 3089"
    # (a number must follow the ID's verb, a service name the source's)
    r"|(?<=ID)\s++(?:is|was|will\s++be)\s++(?=\d)"
    r"|(?<=Source)\s++(?:is|was|will\s++be)\s++(?:the\s++)?(?-i:(?=[A-Z][\w.]{0,40}?[A-Z])))",
    re.I,
)
_KINDS = {
    "eventtype": "type",
    "eventsource": "source",
    "eventcategory": "category",
    "src": "source",
}
_LABEL_WORD = r"(?:Event|Source|Category|Type|Description|Date|Time|User|Computer|Error)"
_VALUE_STOP = re.compile(  # a source ends at a label ("TypeError" run together too), a comma,
    # a semicolon or a gap of two blanks (Event Viewer columns: "MSExchangeMTA  Field Eng..."),
    # an HTML break ("X<BR/>"; "MSExchange <Protocol> Interface" keeps its placeholder), an
    # aside in parentheses ("MSExchangeIS (or DS)") and a dash between words, where the
    # category follows ("MSExchangeMTA - Interface")
    rf"(?<!\s)\s*(?::|=|[,;(]|<(?:/|(?:BR|P)\b)|-[ \t]|\n|$|(?<=\S)[ \t]{{2}}"
    rf"|(?<![\w-]){_LABEL_WORD}(?:\b|(?-i:(?=[A-Z]))))",
    re.I,
)
_VALUE_STOP_HERE = re.compile(_VALUE_STOP.pattern.removeprefix("(?<!\\s)"), re.I)
_DESCRIBED = re.compile(
    r"description for Event ID\s*\(\s*(\d{1,5})\s*\)\s*in Source\s*\(\s*([^)]{1,60}?)\s*\)", re.I
)
_NAMED = re.compile(r"\b(?:message|event)\s+[A-Z]{2,5}(\d{4})\s*:", re.I)
_LIST_SEP = r"\s*+(?:,\s*+(?:and\s++|or\s++)?|and\s++|or\s++|&\s*+)"
_PROSE = re.compile(  # `\s*[#:]?\s*\(?\s*` as possessive runs: it was cubic in a run of blanks
    # "event 9318", "Event ID=4003", "event IDs 9266, 2219, and 9321", "Event ID=4092 error, 4018",
    # "the event IDs are 1201 and 1202" (a verb only after ID or number)
    r"\bevents?(?:\s++log)?(?P<word>\s++(?:ID'?s?|IDs|numbers?|errors?|warnings?|messages?))?"
    r"\s*+(?:(?:[#:=]|of|-(?=\s)|(?P<verb>is|are|was|were|will\s++be)(?=\s))\s*+)?(?:\(\s*+)?"
    rf"(?P<ids>\d{{1,5}}(?:\s++errors?)?(?:{_LIST_SEP}\d{{1,5}}\b(?!\.\d)(?:\s++errors?)?){{0,20}})\b"
    r"(?![.-]\d)",
    re.I,
)
_ID_WORD = re.compile(r"\s*+(?:ID'?s?|IDs|numbers?)", re.I)
_COUNTED = re.compile(  # "the log contains 254, 142, and 290 information and warning events"
    rf"(?<![\d.])(?P<ids>\d{{2,5}}(?:{_LIST_SEP}\d{{2,5}}){{1,20}})\s++"
    r"(?:(?:information(?:al)?|warning|error|and|or)\s++){0,4}events?\b",
    re.I,
)
_NUMBERED = re.compile(  # "2380 - A memory access violation ..." or "1234 - Source - Error ...",
    # also after an ID label, with a source of a few words: "ID 7011 - Service Control Manager -"
    r"^[ \t]*+(?:(?i:Event[ \t]*+)?(?i:ID)[ \t]*+:?[ \t]*+)?(?P<id>\d{1,5})[ \t]++-[ \t]++"
    r"(?:(?P<source>[A-Za-z][\w.]{1,40}+(?:[ \t][A-Za-z][\w.]{1,20}+){0,3})[ \t]++-[ \t]++)?"
    r"(?=[A-Z\"'])",
    re.M,
)
_BARE = re.compile(  # a line of a source and an ID and nothing else: "MSExchangeIS 1025"; not
    # a register ("CX 0000", "BP 027": two letters, zero-padded)
    r"^[ \t]*+(?:[-*][ \t]++)?(?P<source>[A-Za-z][\w.]{2,40}+)[ \t]++(?P<id>[1-9]\d{1,4})[ \t]*+$",
    re.M,
)
_NUMBER = re.compile(r"\s*\(?\s*(\d{1,5})(?![\d.])")  # "Event ID 9215A sockets error": 9215
_ID_LINE = re.compile(  # "ID 11502" over a line naming the source alone: "MSExchangeNNTP"
    r"^[ \t]*+ID[ \t]++(?P<id>\d{1,5})[ \t]*+\n"
    r"[ \t]*+(?P<source>[A-Za-z][\w.]{1,40}+(?: [A-Za-z][\w.]{1,20}+)?)[ \t]*+$",
    re.M,
)
_ROW = re.compile(  # an Event Viewer row: [date time] source type [category] ID user [computer]
    r"^[ \t]*+(?:\d{1,2}/\d{1,2}/\d{2,4}[ \t]++\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]*+[AP]M)?[ \t]++)?"
    r"(?P<source>[A-Za-z][\w.]{1,40})[ \t]++(?:Error|Warning|Information|(?:Success|Failure) Audit)"
    r"[ \t]++(?:[^\n]{0,60}?[ \t]++)?(?P<id>\d{1,5})[ \t]++N/A\b",
    re.M,
)
_LOG_CONTEXT = re.compile(r"\bevent|\blog\b|\blogged\b|Event Viewer", re.I)
_GAP = r"[ \t]*+(?:\n[ \t]*+)?(?<=\s)"  # blanks with at most one line break
_FIX_INTRO = re.compile(  # words and gaps only: no '.' nor blank line, within one sentence
    rf"after{_GAP}(?:you{_GAP})?(?:apply|install)|(?:this|the){_GAP}(?:hot)?fix"
    rf"|this{_GAP}update|new{_GAP}event|is{_GAP}added",
    re.I,
)
_HEX_LINE = re.compile(
    r"^[ \t]*(?:[0-9a-f]{4,8}:[ \t]*)?((?:[0-9a-f]{2}[ \t]+){3,}[0-9a-f]{2})[ \t]*$", re.I | re.M
)


@dataclass
class _Mention:
    pos: int
    source: str | None
    event_id: int
    description: str
    # a source named loosely in a sentence ("events 1201 and 1202 from the X"): the event's
    # source only when no mention of that ID states one
    prose_source: str | None = None


MAX_DESCRIPTION = 2000
"""A description is read up to this many characters after its label, and its line's margin
looked for as far back: event descriptions are a few hundred characters, and scanning to the end
of the section for each of thousands of mentions was quadratic."""


def _description_end(text: str, start: int, limit: int) -> int:
    """Where a description starting at `start` ends: a paragraph break back at the margin."""
    limit = min(limit, start + MAX_DESCRIPTION)
    window = max(0, start - MAX_DESCRIPTION)
    newline = text.rfind("\n", window, start)
    # No line break in the window: the margin is looked for in the window only (slicing from
    # the text's start for each of thousands of mentions on one long line was quadratic).
    line_start = newline + 1 if newline >= 0 else window
    margin_text = text[line_start:start]
    indent = len(margin_text) - len(margin_text.lstrip(" "))
    pos = start
    while True:
        brk = text.find("\n\n", pos, limit)
        if brk < 0:
            return limit
        nxt = brk + 2
        while nxt < limit and text[nxt] == "\n":
            nxt += 1
        eol = text.find("\n", nxt, limit)
        line = text[nxt : eol if eol >= 0 else limit]
        margin = len(line) - len(line.lstrip(" ")) <= indent
        if line.strip() and margin and text[start:brk].strip():
            return brk
        pos = nxt
        if pos >= limit:
            return limit


def _source_value(text: str, start: int) -> str | None:
    # The first stop at `start`, else after a non-blank (from inside a run of blanks, the run's
    # start would have matched first): each run is read from its start only, not from each blank.
    stop = _VALUE_STOP_HERE.match(text, start) or _VALUE_STOP.search(text, start + 1)
    end = stop.start() if stop else len(text)
    value = " ".join(text[start:end].split())
    value = value.strip(" .,;()'\"")
    if not value or len(value.split()) > 4 or len(value) > 60:
        return None
    return value


def _key(label: re.Match[str]) -> str:
    """A label's kind: id, source, type, category, description, date, ..."""
    key = "".join(label.group("label").lower().split()).replace("'", "").replace("-", "")
    if key in ("eventid", "event", "eventids"):
        return "id"
    return _KINDS.get(key, key)


def _blocks(text: str, start: int, end: int) -> list[_Mention]:
    """`Event ID:`/`Source:`/`Description:` blocks (any order) inside text[start:end]."""
    mentions: list[_Mention] = []
    # "the log shows the following event:" ends a sentence: an `Event` label with no number
    # after it is no ID label; opening a block there cut the Event Viewer details that follow
    # in two (their Source in one block, their Event ID in the next, with no source)
    labels = [
        match
        for match in _LABEL.finditer(text, start, end)
        if match.group("label").lower() != "event"
        or _NUMBER.match(text[match.end() : match.end() + 20])
    ]
    blocks: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []
    kinds: set[str] = set()
    for match in labels:
        kind = _key(match)
        if kind in kinds or (current and match.start() - current[-1].end() > 1500):
            blocks.append(current)
            current, kinds = [], set()
        current.append(match)
        kinds.add(kind)
    if current:
        blocks.append(current)
    for index, block in enumerate(blocks):
        limit = blocks[index + 1][0].start() if index + 1 < len(blocks) else end
        event_id = None
        source = None
        described_at = block[-1].end()
        for match in block:
            key = _key(match)
            if key == "id":
                number = _NUMBER.match(text[match.end() : match.end() + 20])
                if number:
                    event_id = int(number.group(1))
                    described_at = max(described_at, match.end() + number.end())
                    source = source or source_near(text, match, match.end() + number.end())
            elif key == "source":
                source = _source_value(text, match.end()) or source
            elif key == "description":
                described_at = match.end()
        if event_id is None:
            continue
        stop = _description_end(text, described_at, limit)
        mention = _Mention(block[0].start(), source, event_id, text[described_at:stop])
        if source is None:
            line_start = text.rfind("\n", max(0, block[0].start() - 200), block[0].start()) + 1
            mention.prose_source = source_in_intro(text, line_start) or source_before(
                text, block[0].start()
            )
        mentions.append(mention)
    return mentions


def _other_mentions(text: str, start: int, end: int) -> list[_Mention]:
    """Events named other ways than labelled blocks: "description for Event ID (n) in Source
    (x)", "message ABC1234:", prose, Event Viewer rows and tables, "NNNN - text" lines."""
    mentions: list[_Mention] = []
    described = list(_DESCRIBED.finditer(text, start, end))
    for index, match in enumerate(described):  # each description up to the next one
        limit = described[index + 1].start() if index + 1 < len(described) else end
        stop = _description_end(text, match.end(), limit)
        mentions.append(
            _Mention(
                match.start(), match.group(2).strip(), int(match.group(1)), text[match.end() : stop]
            )
        )
    named = list(_NAMED.finditer(text, start, end))
    for index, match in enumerate(named):
        limit = named[index + 1].start() if index + 1 < len(named) else end
        stop = _description_end(text, match.end(), limit)
        mentions.append(
            _Mention(match.start(), None, int(match.group(1)), text[match.end() : stop])
        )
    for match in BARE_ID.finditer(text, start, end):
        at = bare_id_source(text, match)
        if at is not None:
            line_end = text.find("\n", match.end(), end)
            line_end = end if line_end < 0 else line_end
            stop = _description_end(text, line_end, end)
            source = _source_value(text, at)
            mentions.append(_Mention(match.start(), source, int(match["id"]), text[line_end:stop]))
    for match in TYPED_ID.finditer(text, start, end):
        line_end = text.find("\n", match.end(), end)
        line_end = end if line_end < 0 else line_end
        stop = _description_end(text, line_end, end)
        source = _source_value(text, match.end())
        mentions.append(_Mention(match.start(), source, int(match["id"]), text[line_end:stop]))
    mentions += _prose(text, start, end)
    mentions += _rows(text, start, end)
    # "NNNN - text" is an event where the log is spoken of in the 400 characters before it;
    # the last such word is kept as the lines are read (searching back from each was slow).
    logs = [m.start() for m in _LOG_CONTEXT.finditer(text, start, end)]
    numbered = sorted(
        [m for m in _NUMBERED.finditer(text, start, end) if m.group("source") or len(m["id"]) > 2]
        + [
            m
            for m in _BARE.finditer(text, start, end)
            if looks_like_source(m.group("source")) and not under_label(text, m.start())
        ]
        + [m for m in _ID_LINE.finditer(text, start, end) if looks_like_source(m.group("source"))]
        + list(LONE_ID.finditer(text, start, end)),
        key=lambda m: m.start(),
    )
    last_log, seen = -1, 0
    for index, match in enumerate(numbered):
        while seen < len(logs) and logs[seen] < match.start():
            last_log, seen = max(last_log, logs[seen]), seen + 1
        near_log = last_log >= 0 and match.start() - last_log <= 400
        if match.re is LONE_ID:
            source = lone_source(match, text)
            if not near_log or (match.group("rest") and source is None):
                continue  # "   2048 bytes used" is no event
        else:
            source = match.group("source")
            named = dashed_source if match.re is _NUMBERED else looks_like_source
            if source and not named(source):
                source = None  # "1234 - X.400 Service - ...": a category, not a source
        if source or near_log:
            limit = numbered[index + 1].start() if index + 1 < len(numbered) else end
            stop = _description_end(text, match.end(), limit)
            mentions.append(
                _Mention(match.start(), source, int(match.group("id")), text[match.end() : stop])
            )
            last_log = max(last_log, stop)  # the next entry of a series is near this one's end
    return mentions


def _prose(text: str, start: int, end: int) -> list[_Mention]:
    """IDs named in sentences ("event IDs 9266, 2219, and 9321", "254 and 142 warning events"),
    except those a fix introduces ("after you apply the fix, event 1234 is logged")."""
    mentions: list[_Mention] = []
    # The sentence start and the fix intros move forward with the matches, each part of the
    # text read once (searching back to the section start per match was quadratic). Intros
    # hold no '.' or newline, so none straddles a sentence start.
    intros = [(m.start(), m.end()) for m in _FIX_INTRO.finditer(text, start, end)]
    sentence_start, read_to, first = start - 1, start, 0
    for match in _PROSE.finditer(text, start, end):
        here = match.start()
        sentence_start = max(
            sentence_start,
            text.rfind(".", read_to, here),
            text.rfind("\n\n", max(start, read_to - 1), here),
        )
        read_to = here
        while first < len(intros) and intros[first][0] <= sentence_start:
            first += 1
        if first < len(intros) and intros[first][1] <= here:
            continue
        ids = [int(n) for n in re.findall(r"\d+", match.group("ids"))]
        if not match.group("word") and ids[0] < 10:
            continue  # "event 5" is a count or a step; "Event ID 7" is an event
        if match.group("verb") and not _ID_WORD.fullmatch(match.group("word") or ""):
            continue  # "the event IDs are 1201 and 1202", not "the events are 12 a day"
        named = prose_source(text, match.end()) or source_before(text, match.start())
        mentions += [_Mention(match.start(), None, event_id, "", named) for event_id in ids]
    for match in _COUNTED.finditer(text, start, end):
        ids = [int(n) for n in re.findall(r"\d+", match.group("ids"))]
        mentions += [_Mention(match.start(), None, event_id, "") for event_id in ids]
    return mentions


_COLUMNS = re.compile(r"[ \t]{2,}")


_SOURCE_WORD = re.compile(r"\bsource\b", re.I)
MAX_HEADER = 300
"""A table's header line is at most this long (a few column names)."""


def _rows(text: str, start: int, end: int) -> list[_Mention]:
    """Event Viewer rows: `[date time] Source Type [Category] ID N/A ...` lines, and the rows of a
    table under a header naming Source and Event ID columns (cells apart by two blanks)."""
    mentions = []
    for row in _ROW.finditer(text, start, end):
        line_end = text.find("\n", row.end(), end)
        description = text[row.end() : end if line_end < 0 else line_end]
        mentions.append(_Mention(row.start(), row["source"], int(row["id"]), description))
    read_to = start  # headers are looked for where the word Source is, each table read once
    for word in _SOURCE_WORD.finditer(text, start, end):
        if word.start() < read_to:
            continue
        before = text.rfind("\n", max(start, word.start() - MAX_HEADER), word.start())
        after = text.find("\n", word.end(), min(end, word.end() + MAX_HEADER))
        if (before < 0 and word.start() - MAX_HEADER > start) or after < 0:
            continue  # a line too long to be a header
        line = text[max(start, before + 1) : after]
        columns = _table_columns(_COLUMNS.split(line.strip()))
        if columns is not None:
            read_to = _table_rows(text, after + 1, end, columns, mentions)
    return mentions


def _table_rows(
    text: str, pos: int, end: int, columns: tuple[int, int], mentions: list[_Mention]
) -> int:
    """Read the rows under a header into `mentions`; where the table ends."""
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end < 0 else line_end
        cells = _COLUMNS.split(text[pos:line_end].strip())
        if set("".join(cells)) <= set("-=_"):
            pass  # a rule under the header, or an empty line
        elif len(cells) > max(columns) and cells[columns[1]].isdigit():
            description = cells[-1] if len(cells) > max(columns) + 1 else ""
            mentions.append(_Mention(pos, cells[columns[0]], int(cells[columns[1]]), description))
        else:
            return pos
        pos = line_end + 1
    return end


def _table_columns(cells: list[str]) -> tuple[int, int] | None:
    """(source, ID) column numbers when `cells` are a header naming both, else None."""
    if len(cells) > 12:
        return None
    names = [c.lower() for c in cells]
    source_at = next((i for i, n in enumerate(names) if n == "source"), None)
    id_at = next((i for i, n in enumerate(names) if n in ("event", "event id", "id")), None)
    return None if source_at is None or id_at is None else (source_at, id_at)


def events(text: str, sections: list[Section], warnings: list[str]) -> list[EventFact]:
    masked = mask_references(text)
    mentions: list[_Mention] = []
    has_symptoms = any(s.name in _SYMPTOM_SECTIONS for s in sections)
    for section in sections:
        name, end = section.name, section.end
        if section.start >= end:
            continue
        in_symptoms = name in _SYMPTOM_SECTIONS or (name == "" and not has_symptoms)
        title_part = name == ""
        if in_symptoms or title_part:
            mentions += _blocks(masked, section.start, end)
            mentions += _other_mentions(masked, section.start, end)
        elif name in _CONTEXT_SECTIONS:
            for mention in _blocks(masked, section.start, end) + _other_mentions(
                masked, section.start, end
            ):
                before = masked[max(section.start, mention.pos - 300) : mention.pos]
                if not _FIX_INTRO.search(before):
                    mentions.append(mention)
    mentions.sort(key=lambda m: m.pos)
    facts: list[dict[str, Any]] = []
    by_id: dict[int, list[dict[str, Any]]] = {}  # filtering all facts per mention was quadratic
    named: dict[int, str] = {}
    for mention in mentions:
        if not 0 <= mention.event_id <= 65535:  # 0 is valid (ESE logs it)
            continue
        if mention.prose_source:
            named.setdefault(mention.event_id, mention.prose_source)
        same = by_id.get(mention.event_id, [])
        match = next((f for f in same if f["source"] == mention.source), None)
        if match is None and mention.source is None and same:
            match = same[0]
        if match is None and mention.source is not None:
            match = next((f for f in same if f["source"] is None), None)
            if match is not None:
                match["source"] = mention.source
        if match is None:
            match = {
                "source": mention.source,
                "event_id": mention.event_id,
                "codes": [],
                "data": None,
            }
            facts.append(match)
            by_id.setdefault(mention.event_id, []).append(match)
        for code in codes_in(mention.description):
            if code not in match["codes"]:
                match["codes"].append(code)
        hexes = _HEX_LINE.search(mention.description)
        if hexes and match["data"] is None:
            match["data"] = " ".join(hexes.group(1).lower().split())
    for fact in facts:
        if fact["source"] is None and len(by_id[fact["event_id"]]) == 1:
            fact["source"] = named.get(fact["event_id"])
    _data_from_context(text, sections, facts)
    for fact in facts:
        if fact["source"] is None:
            warnings.append(f"event {fact['event_id']}: the article names no source")
    return [EventFact(f["source"], f["event_id"], tuple(f["codes"]), f["data"]) for f in facts]


def _data_from_context(text: str, sections: list[Section], facts: list[dict[str, Any]]) -> None:
    """Event data bytes given in the cause, and the error codes those bytes spell."""
    for section in sections:
        if section.name not in _CONTEXT_SECTIONS and section.name not in _SYMPTOM_SECTIONS:
            continue
        body = text[section.start : section.end]
        hexes = _HEX_LINE.search(body)
        if not hexes:
            continue
        named = {int(n) for n in re.findall(r"\bevent(?:\s+ID)?\s+(\d{3,5})\b", body, re.I)}
        targets = [f for f in facts if f["event_id"] in named] or (facts if len(facts) == 1 else [])
        if len(targets) == 1 and targets[0]["data"] is None:
            targets[0]["data"] = " ".join(hexes.group(1).lower().split())
    spelled: list[str] | None = None  # found once for all facts, not once per fact
    for fact in facts:
        if not fact["data"]:
            continue
        data = fact["data"].replace(" ", "")
        if spelled is None:
            spelled = re.findall(r"\b(?:0x)?([0-9a-fA-F]{8})\b", text)
        for code in spelled:
            little = "".join(reversed([code[i : i + 2] for i in range(0, 8, 2)])).lower()
            if little in data and code not in fact["codes"] and f"0x{code}" not in fact["codes"]:
                fact["codes"].append(code)
