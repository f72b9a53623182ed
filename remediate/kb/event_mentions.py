"""One place an article names an event, and what every layout's reader takes after it.

Why a module: the readers of each layout (labelled blocks, prose, Event Viewer rows and tables,
lines) all yield mentions and all cut a description and a source value the same way; events.py
merges their mentions into events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Mention:
    pos: int
    source: str | None
    event_id: int
    description: str
    # a source named loosely in a sentence ("events 1201 and 1202 from the X"): the event's
    # source only when no mention of that ID states one
    prose_source: str | None = None


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

MAX_DESCRIPTION = 2000
"""A description is read up to this many characters after its label, and its line's margin
looked for as far back: event descriptions are a few hundred characters, and scanning to the end
of the section for each of thousands of mentions was quadratic."""


def description_end(text: str, start: int, limit: int) -> int:
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


def source_value(text: str, start: int) -> str | None:
    """The source written at `start`, up to the next label, column gap or punctuation."""
    # The first stop at `start`, else after a non-blank (from inside a run of blanks, the run's
    # start would have matched first): each run is read from its start only, not from each blank.
    stop = _VALUE_STOP_HERE.match(text, start) or _VALUE_STOP.search(text, start + 1)
    end = stop.start() if stop else len(text)
    value = " ".join(text[start:end].split())
    value = value.strip(" .,;()'\"")
    if not value or len(value.split()) > 4 or len(value) > 60:
        return None
    return value
