"""The sections' reader stays linear in its input for what issue 19's fourth round taught it
(header fields against headings, heading words ending a sentence), as tests/kb/test_kb_linear.py
checks the other readers: each unit repeated to 256 KB, in a child process with a budget."""

from __future__ import annotations

import pytest

from tests.test_readers_linear import assert_kb_extraction_linear

CLASSES = {
    # every KEYWORDS: sits under a field line, so each is checked against the line above
    "header fields over heading words": ("", "OPER/SYS:\nKEYWORDS:\n", ""),
    # a field-like word that never reaches its colon, the line above a heading word
    "field words never closed": ("", "OPERSYS" * 40 + "\nKEYWORDS:\n", ""),
    "heading words ending sentences": ("SYMPTOMS\n\nthe relay's\n", "properties:\n", ""),
    # a header block as long as the text: where the footer is looked for from
    "a header block never ending": ("", "TITLE   :x\n", "Additional query words: x\n"),
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_section_layouts_read_in_linear_time(name: str) -> None:
    prefix, unit, suffix = CLASSES[name]
    assert_kb_extraction_linear(prefix, unit, suffix)
