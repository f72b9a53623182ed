"""Labelled event blocks: `Event ID: 1234` / `Source: X` / `Description: ...`, in any order.

Why a module: the labels are the most varied layout articles copy (with `:`, `=`, `-` or
nothing between label and value, Event Viewer pasted without colons, a source run into the
label), and their one long pattern and the grouping of labels into blocks read best alone.
"""

from __future__ import annotations

import re

from remediate.kb.event_layouts import source_before, source_in_intro, source_near
from remediate.kb.event_mentions import Mention, description_end, source_value

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
_NUMBER = re.compile(r"\s*\(?\s*(\d{1,5})(?![\d.])")  # "Event ID 9215A sockets error": 9215


def _key(label: re.Match[str]) -> str:
    """A label's kind: id, source, type, category, description, date, ..."""
    key = "".join(label.group("label").lower().split()).replace("'", "").replace("-", "")
    if key in ("eventid", "event", "eventids"):
        return "id"
    return _KINDS.get(key, key)


def block_mentions(text: str, start: int, end: int) -> list[Mention]:
    """`Event ID:`/`Source:`/`Description:` blocks (any order) inside text[start:end]."""
    mentions: list[Mention] = []
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
                source = source_value(text, match.end()) or source
            elif key == "description":
                described_at = match.end()
        if event_id is None:
            continue
        stop = description_end(text, described_at, limit)
        mention = Mention(block[0].start(), source, event_id, text[described_at:stop])
        if source is None:
            line_start = text.rfind("\n", max(0, block[0].start() - 200), block[0].start()) + 1
            mention.prose_source = source_in_intro(text, line_start) or source_before(
                text, block[0].start()
            )
        mentions.append(mention)
    return mentions
