"""Event IDs named in sentences: "event IDs 9266, 2219, and 9321", "254 and 142 warning
events", "the event IDs are 1201 and 1202".

Why a module: prose names IDs without sources and names events a fix introduces ("after you
apply the fix, event 1234 is logged") in the same words as symptoms; telling them apart needs
the sentence around each match, read forward once with the matches.
"""

from __future__ import annotations

import re

from remediate.kb.event_layouts import prose_source, source_before
from remediate.kb.event_mentions import Mention

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
_GAP = r"[ \t]*+(?:\n[ \t]*+)?(?<=\s)"  # blanks with at most one line break
FIX_INTRO = re.compile(  # words and gaps only: no '.' nor blank line, within one sentence
    rf"after{_GAP}(?:you{_GAP})?(?:apply|install)|(?:this|the){_GAP}(?:hot)?fix"
    rf"|this{_GAP}update|new{_GAP}event|is{_GAP}added",
    re.I,
)


def prose_mentions(text: str, start: int, end: int) -> list[Mention]:
    """IDs named in sentences ("event IDs 9266, 2219, and 9321", "254 and 142 warning events"),
    except those a fix introduces ("after you apply the fix, event 1234 is logged")."""
    mentions: list[Mention] = []
    # The sentence start and the fix intros move forward with the matches, each part of the
    # text read once (searching back to the section start per match was quadratic). Intros
    # hold no '.' or newline, so none straddles a sentence start.
    intros = [(m.start(), m.end()) for m in FIX_INTRO.finditer(text, start, end)]
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
        mentions += [Mention(match.start(), None, event_id, "", named) for event_id in ids]
    for match in _COUNTED.finditer(text, start, end):
        ids = [int(n) for n in re.findall(r"\d+", match.group("ids"))]
        mentions += [Mention(match.start(), None, event_id, "") for event_id in ids]
    return mentions
