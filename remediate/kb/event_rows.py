"""Events copied from Event Viewer's list: `[date time] Source Type [Category] ID N/A ...`
rows, and tables under a header naming Source and Event ID columns.

Why a module: rows and tables give source and ID by column, not by label or sentence; a table
is found from its header line and read row by row until a line is no row.
"""

from __future__ import annotations

import re

from remediate.kb.event_mentions import Mention

_ROW = re.compile(  # an Event Viewer row: [date time] source type [category] ID user [computer]
    r"^[ \t]*+(?:\d{1,2}/\d{1,2}/\d{2,4}[ \t]++\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]*+[AP]M)?[ \t]++)?"
    r"(?P<source>[A-Za-z][\w.]{1,40})[ \t]++(?:Error|Warning|Information|(?:Success|Failure) Audit)"
    r"[ \t]++(?:[^\n]{0,60}?[ \t]++)?(?P<id>\d{1,5})[ \t]++N/A\b",
    re.M,
)

_COLUMNS = re.compile(r"[ \t]{2,}")
_SOURCE_WORD = re.compile(r"\bsource\b", re.I)
MAX_HEADER = 300
"""A table's header line is at most this long (a few column names)."""


def row_mentions(text: str, start: int, end: int) -> list[Mention]:
    """Event Viewer rows: `[date time] Source Type [Category] ID N/A ...` lines, and the rows of a
    table under a header naming Source and Event ID columns (cells apart by two blanks)."""
    mentions = []
    for row in _ROW.finditer(text, start, end):
        line_end = text.find("\n", row.end(), end)
        description = text[row.end() : end if line_end < 0 else line_end]
        mentions.append(Mention(row.start(), row["source"], int(row["id"]), description))
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
    text: str, pos: int, end: int, columns: tuple[int, int], mentions: list[Mention]
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
            mentions.append(Mention(pos, cells[columns[0]], int(cells[columns[1]]), description))
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
