"""Text and times as the HTML page shows them: remote or playbook text without control
characters and cut to a length the page can carry (noted, never silently), times in UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_TEXT = 4000
"""Characters shown of one message, data dump or reason; the rest is noted as truncated."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Text:
    """Text cut to a length the page can carry; `total` is the length before the cut."""

    text: str
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.text)


def capped(value: object, limit: int = MAX_TEXT) -> Text:
    """Remote or playbook text without control characters, at most `limit` characters."""
    cleaned = _CONTROL.sub("", "" if value is None else str(value))
    return Text(cleaned[:limit], len(cleaned))


def when_text(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def iso_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def format_age(age: timedelta) -> str:
    """A duration as a person reads it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min"
    if days == 0:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"
