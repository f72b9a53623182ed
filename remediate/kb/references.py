"""Lines that name other articles ("Q191014 XGEN: How to Obtain ..."): their titles state
no fact of this article (an event ID, a service pack), so readers see them blanked."""

from __future__ import annotations

import re

_REFERENCE = re.compile(  # a long title wraps: its next line is the title's too
    r"^[ \t]*+(?:Q|KB)?\d{6}\b[^\n]{50,}+\n[ \t]*+(?![-*]|(?:Q|KB)?\d{6}\b)\S[^\n]*+"
    r"|^[ \t]*(?:Q|KB)?\d{6}\b[^\n]*$|(?:Q|KB)\d{6}\s*+(?::\s*+)?X[A-Z]{2,4}\s*:[^\n]{0,160}",
    re.M,
)


def mask_references(text: str) -> str:
    """The text with each line naming another article blanked (offsets kept)."""
    return _REFERENCE.sub(lambda m: " " * len(m.group(0)), text)
