"""The list items of an article's RESOLUTION: wrapped lines joined, notes kept with their
item, and each item's scope, the Exchange version a sub-section heading names.

Why a module: turning lines into items is layout (markers, indents, blank lines, headings),
one pass over the lines; what an item asks for is read from the joined text elsewhere
(procedure_clauses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from remediate.kb.facts import VERSION_OF
from remediate.kb.procedure_names import WHEN_VERSIONS

_MARKER = re.compile(r"[ \t]*+(?:[-*]|o(?=[ \t])|\(?\d{1,2}[.)]|\(?[a-z][.)])[ \t]++(?=\S)")
_RUN_TOGETHER = re.compile(r"(?<=[.!?:])[ \t]++-[ \t]++(?=[A-Z])")  # "... CD. - In the wizard"
_NOTE = re.compile(r"(?:Note|NOTE|Notes)\b")
_DECORATION = re.compile(r"^#{1,6}[ \t]*|\*\*|__")
_EXCHANGE_VERSION = re.compile(
    r"\bExchange(?:[ \t]+Server)?(?:[ \t]+version)?[ \t]+(4\.0|5\.0|5\.5|2000|2003|2007|2010|"
    r"2013|2016|2019)\b",
    re.I,
)
NO_SCOPE = "*"  # a section for an Exchange version no `when` can name


@dataclass
class Item:
    text: str  # the item's lines, joined once read (a list while reading: appends stay linear)
    indent: int
    scope: str | None
    segment: int
    lines: list[str] = field(default_factory=list)


def _scope(line: str) -> str | None:
    """The one Exchange version a sub-section heading names (None: all, or several)."""
    named = {VERSION_OF.get(v, v) for v in _EXCHANGE_VERSION.findall(line)}
    if len(named) != 1:
        return None
    version = named.pop()
    return version if version in WHEN_VERSIONS else NO_SCOPE


_HEADING = re.compile(
    r"(?:(?:For|On|In)[ \t]+)?(?:Microsoft[ \t]+)?Exchange\b[^.,;]{0,70}|"
    r"((?:Step|Method|Part|Procedure)[ \t]+\d{1,2}\b)[^.,;]{0,70}"
)


def _is_heading(line: str) -> bool:
    """A sub-section's name ("Exchange 2000 Server", "Step 2: Put it back"): it sets the
    Exchange version the items below are for. Other short lines set nothing (a registry key,
    a command, a title in a version's section must not widen that section to all versions)."""
    match = _HEADING.fullmatch(line.rstrip(":").rstrip()) if len(line) <= 80 else None
    return match is not None and (
        match.group(1) is not None or bool(_EXCHANGE_VERSION.search(line))
    )


def list_items(resolution: str) -> list[Item]:
    """The list items of the RESOLUTION, their wrapped lines joined, each with its scope."""
    items: list[Item] = []
    current: Item | None = None
    scope: str | None = None
    segment = 0
    blank = False
    for raw in _RUN_TOGETHER.sub("\n- ", resolution).split("\n"):
        line = _DECORATION.sub("", raw.rstrip())
        stripped = line.strip()
        if not stripped:
            blank = current is not None or blank
            continue
        marker = _MARKER.match(line)
        if marker:
            first = line[marker.end() :].strip()
            current = Item(first, marker.end(), scope, segment, [first])
            items.append(current)
            blank = False
            continue
        indent = len(line) - len(line.lstrip())
        ended = current is None or current.lines[-1][-1] in ".!?:"
        if indent == 0 and (blank or ended) and _is_heading(stripped):
            current, blank = None, False
            scope, segment = _scope(stripped), segment + 1
            continue
        announced = current is not None and current.lines[-1].endswith(":")
        if current is not None and (
            (blank and (indent >= max(current.indent, 2) or announced))
            or (not blank and (indent > 0 or not ended or announced or _NOTE.match(stripped)))
        ):
            current.lines.append(stripped)  # a wrapped line, a note, or what ":" announced
            blank = False
            continue
        current, blank = None, False  # prose between lists: context, not a step
    for item in items:  # one blank between words: the patterns below never retry a blank run
        item.text = " ".join(" ".join(item.lines).split())
    return items
