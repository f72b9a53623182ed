"""Events an article gives line by line without a block of labels: Event Viewer's message
lines ("description for Event ID (n) in Source (x)", "Warning 1026 Source X") and series of
lines an ID starts ("2380 - A memory access violation", "MSExchangeIS 1025").

Why a module: these layouts are told from a number at a line's start only by what is around
them (a Source label on a nearby line, the log spoken of just before), and a series is read in
one pass in text order, keeping the last mention of the log as it goes.
"""

from __future__ import annotations

import re

from remediate.kb.event_layouts import (
    BARE_ID,
    LONE_ID,
    TYPED_ID,
    bare_id_source,
    dashed_source,
    lone_source,
    looks_like_source,
    under_label,
)
from remediate.kb.event_mentions import Mention, description_end, source_value

_DESCRIBED = re.compile(
    r"description for Event ID\s*\(\s*(\d{1,5})\s*\)\s*in Source\s*\(\s*([^)]{1,60}?)\s*\)", re.I
)
_NAMED = re.compile(r"\b(?:message|event)\s+[A-Z]{2,5}(\d{4})\s*:", re.I)
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
_ID_LINE = re.compile(  # "ID 11502" over a line naming the source alone: "MSExchangeNNTP"
    r"^[ \t]*+ID[ \t]++(?P<id>\d{1,5})[ \t]*+\n"
    r"[ \t]*+(?P<source>[A-Za-z][\w.]{1,40}+(?: [A-Za-z][\w.]{1,20}+)?)[ \t]*+$",
    re.M,
)
_LOG_CONTEXT = re.compile(r"\bevent|\blog\b|\blogged\b|Event Viewer", re.I)


def one_line_mentions(text: str, start: int, end: int) -> list[Mention]:
    """Events given on one line with their ID: "description for Event ID (n) in Source (x)",
    "message ABC1234:", `ID: 4087` beside a `Source:` label, "Warning 1026 Source X"."""
    mentions: list[Mention] = []
    described = list(_DESCRIBED.finditer(text, start, end))
    for index, match in enumerate(described):  # each description up to the next one
        limit = described[index + 1].start() if index + 1 < len(described) else end
        stop = description_end(text, match.end(), limit)
        mentions.append(
            Mention(
                match.start(), match.group(2).strip(), int(match.group(1)), text[match.end() : stop]
            )
        )
    named = list(_NAMED.finditer(text, start, end))
    for index, match in enumerate(named):
        limit = named[index + 1].start() if index + 1 < len(named) else end
        stop = description_end(text, match.end(), limit)
        mentions.append(Mention(match.start(), None, int(match.group(1)), text[match.end() : stop]))
    for match in BARE_ID.finditer(text, start, end):
        at = bare_id_source(text, match)
        if at is not None:
            line_end = text.find("\n", match.end(), end)
            line_end = end if line_end < 0 else line_end
            stop = description_end(text, line_end, end)
            source = source_value(text, at)
            mentions.append(Mention(match.start(), source, int(match["id"]), text[line_end:stop]))
    for match in TYPED_ID.finditer(text, start, end):
        line_end = text.find("\n", match.end(), end)
        line_end = end if line_end < 0 else line_end
        stop = description_end(text, line_end, end)
        source = source_value(text, match.end())
        mentions.append(Mention(match.start(), source, int(match["id"]), text[line_end:stop]))
    return mentions


def series_mentions(text: str, start: int, end: int) -> list[Mention]:
    """IDs that start a line: "NNNN - text", "SOURCE NNNN", "ID 11502" over its source, an ID
    alone over its description; without a source, only where the log is spoken of."""
    mentions: list[Mention] = []
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
            stop = description_end(text, match.end(), limit)
            mentions.append(
                Mention(match.start(), source, int(match.group("id")), text[match.end() : stop])
            )
            last_log = max(last_log, stop)  # the next entry of a series is near this one's end
    return mentions
