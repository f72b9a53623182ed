"""Symptom events an article names: source, ID, the error codes and data bytes of each.

Articles copy events in many layouts: labelled blocks (`Event ID: 1234` / `Source: X`, in any
order, with `:`, `=`, `-` or nothing between label and value), Event Viewer rows and tables,
"NNNN - Source - text" and bare "SOURCE NNNN" lines, and prose ("may also log event IDs 4410,
4417, and 4420"). Sources are kept as written (spaces, typos); a source the article does not
state stays None. Events a fix introduces ("after you apply the fix, event 1234 is logged") and
titles of other articles are not symptoms.

Each layout has its reader module (event_blocks, event_lines, event_prose, event_rows, with
event_layouts for sources found by position); this one runs them over the symptom and context
sections and merges their mentions into one event per source and ID.
"""

from __future__ import annotations

import re
from typing import Any

from remediate.kb.codes import codes_in
from remediate.kb.event_blocks import block_mentions
from remediate.kb.event_lines import one_line_mentions, series_mentions
from remediate.kb.event_mentions import Mention
from remediate.kb.event_prose import FIX_INTRO, prose_mentions
from remediate.kb.event_rows import row_mentions
from remediate.kb.facts import EventFact
from remediate.kb.read import Section
from remediate.kb.references import mask_references

_SYMPTOM_SECTIONS = {"SYMPTOM", "SYMPTOMS", "SUMMARY", "INTRODUCTION"}
_CONTEXT_SECTIONS = {"CAUSE", "MORE INFORMATION", "RESOLUTION", "WORKAROUND"}
_HEX_LINE = re.compile(
    r"^[ \t]*(?:[0-9a-f]{4,8}:[ \t]*)?((?:[0-9a-f]{2}[ \t]+){3,}[0-9a-f]{2})[ \t]*$", re.I | re.M
)


def _other_mentions(text: str, start: int, end: int) -> list[Mention]:
    """Events named other ways than labelled blocks, in this order (mentions at one position
    keep it): one-line messages, prose, Event Viewer rows and tables, series of lines."""
    return (
        one_line_mentions(text, start, end)
        + prose_mentions(text, start, end)
        + row_mentions(text, start, end)
        + series_mentions(text, start, end)
    )


def events(text: str, sections: list[Section], warnings: list[str]) -> list[EventFact]:
    masked = mask_references(text)
    mentions: list[Mention] = []
    has_symptoms = any(s.name in _SYMPTOM_SECTIONS for s in sections)
    for section in sections:
        name, end = section.name, section.end
        if section.start >= end:
            continue
        in_symptoms = name in _SYMPTOM_SECTIONS or (name == "" and not has_symptoms)
        title_part = name == ""
        if in_symptoms or title_part:
            mentions += block_mentions(masked, section.start, end)
            mentions += _other_mentions(masked, section.start, end)
        elif name in _CONTEXT_SECTIONS:
            for mention in block_mentions(masked, section.start, end) + _other_mentions(
                masked, section.start, end
            ):
                before = masked[max(section.start, mention.pos - 300) : mention.pos]
                if not FIX_INTRO.search(before):
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
