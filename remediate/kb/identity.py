"""Who an article is: its Q/KB number and its title, from the header or the first lines."""

from __future__ import annotations

import re
from pathlib import Path

_ID_PATTERNS = (
    re.compile(r"^[ \t]*Article(?:\s*ID)?\s*:[ \t]*(Q|KB)?(\d{5,7})\b", re.I | re.M),
    re.compile(r"\bDOCUMENT\s*:\s*(Q|KB)(\d{5,7})\b", re.I),
    # `^[ \t]*+`, not `^\s*`: under re.M a blank run after each line start was scanned again
    # from every line start in it, quadratic in the head (6,000 blank lines: a second).
    re.compile(r"^[ \t]*+(?:title\s*:\s*[\"']?|#{1,3}\s*)(Q|KB)(\d{5,7})\s*:", re.I | re.M),
    re.compile(r"previously published under\s+(Q|KB)(\d{5,7})\b", re.I),
    re.compile(r"\A\s*[^\n]{10,250}?\((KB|Q)?(\d{6})\)"),
    re.compile(r"\b(KB|Q)(\d{6})\s*$", re.I),
)


def article_id(text: str, source: str) -> tuple[str | None, bool]:
    head = text[:6000]
    for pattern in _ID_PATTERNS:
        match = pattern.search(text[-3000:] if pattern is _ID_PATTERNS[-1] else head)
        if match:
            prefix = (match.group(1) or "KB").upper()
            return f"{prefix}{match.group(2)}", True
    match = re.search(r"(?<![A-Za-z0-9])(Q|KB)(\d{5,7})(?![0-9])", Path(source).name, re.I)
    if match:
        return f"{match.group(1).upper()}{match.group(2)}", False
    return None, False


_TITLE_PATTERNS = (
    # `title: "(.+?)"?\s*$` retried the trailing blanks for each length of the title, and the
    # blanks after the colon for each of those: cubic in a run of blanks (6,000 never finished).
    # The rest of the line is taken whole and trimmed in _title, as the pattern trimmed it.
    re.compile(r"^[ \t]*+title\s*+:\s*+\"?([^\n]+)", re.I | re.M),
    re.compile(r"\bTITLE\s*+:\s*+(.+?)\s+(?:PRODUCT\s*:|\n)", re.I),
)


def _title_text(match: re.Match[str]) -> str:
    """The title a `_TITLE_PATTERNS` match gives: trailing blanks and one closing quote off."""
    if match.re is not _TITLE_PATTERNS[0]:
        return match.group(1)
    title = match.group(1).rstrip()
    return title[:-1] if len(title) > 1 and title.endswith('"') else title


def _clean_title(title: str) -> str | None:
    title = re.sub(r"^(?:Q|KB)\d{5,7}\s*:\s*", "", title.strip())
    title = re.sub(r"\s*\((?:KB|Q)?\d{6}\)\s*$", "", title).strip(" \"'")
    return title if 3 <= len(title) <= 300 else None


def title(text: str, first_heading: int) -> str | None:
    for pattern in _TITLE_PATTERNS:
        match = pattern.search(text[:6000])
        if match and _clean_title(_title_text(match)):
            return _clean_title(_title_text(match))
    for line in text[:first_heading].split("\n"):
        line = line.strip()
        if not line or re.fullmatch(r"[-=_*#\s]+", line) or re.match(r"[A-Z][a-z][\w ()/]*:", line):
            continue
        if line.endswith((":", ".")) or len(line) > 300:
            return None
        return _clean_title(line.lstrip("# "))
    return None
