"""The extraction stays linear in its input for the layouts issue 19 taught it (the pattern of
tests/test_readers_linear.py): each class repeats what one new pattern repeats, to 256 KB (a
quarter of the largest text read), in a child process with a budget, and 256 KB takes about 4x
the CPU time of 64 KB."""

from __future__ import annotations

import pytest

from tests.test_readers_linear import assert_kb_extraction_linear

# Each class: unit repeated to the size, after a prefix (which makes the pattern try it).
CLASSES = {
    "Source without a colon": ("SYMPTOMS\n\n", "Source A", ""),
    "Event ID without a separator": ("SYMPTOMS\n\n", "Event ID 1 ", ""),
    "Event ID dashes": ("SYMPTOMS\n\n", "Event ID - ", ""),
    "label run into a source": ("SYMPTOMS\n\n", "aEvent ID", ""),
    "a list of IDs never closed": ("SYMPTOMS\n\nevent IDs ", "11, ", "x"),
    "counted events never named": ("SYMPTOMS\n\n", "11, 12 and ", "x"),
    "numbered lines": ("SYMPTOMS\n\nevent log\n", "1234 - A\n", ""),
    "numbered sources": ("SYMPTOMS\n\n", "1234 - a - ", ""),
    "Event Viewer rows never ending": ("SYMPTOMS\n\n", "1/1/99 1:00 PM MSExchangeIS Error x ", ""),
    "table header words": ("SYMPTOMS\n\n", "Source  Event  ", ""),
    "table header lines": ("SYMPTOMS\n\n", "Source  Event\n", ""),
    "the word source": ("SYMPTOMS\n\n", "source ", ""),
    "table rows": ("SYMPTOMS\n\nSource  Event ID  Description\n", "ESE  1  x\n", ""),
    "a source in parentheses never closed": ("SYMPTOMS\n\n", "Event ID 1 (a", ""),
    "error words": ("", "error ", ""),
    "hyphenated hex": ("", "error 1234-", ""),
    "symbolic names": ("", "MAPI_E_", ""),
    "ESE instances": ("", "a (1) ", ""),
    "applies to in prose": ("", "applies to ", ""),
    "applies to bullets": ("applies to:\n", "- ", ""),
    "header versions": ("PROD/VER:", "5.5,", ""),
    "fixed in, never a service pack": ("", "first corrected in Exchange Server ", ""),
    "Windows service packs without a sentence": ("RESOLUTION\n\n", "Windows 2000 SP1 ", ""),
    "boxed borders": ("file attributes:\n", "+---+\n", ""),
    "product headings": ("", "Exchange 2000 Server:\n", ""),
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_new_layouts_read_in_linear_time(name: str) -> None:
    prefix, unit, suffix = CLASSES[name]
    assert_kb_extraction_linear(prefix, unit, suffix)
