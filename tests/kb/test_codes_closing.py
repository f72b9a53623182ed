"""Error codes in three more positions (issue 19, fifth round): a failed result closing the line
after the sentence that reports the error, a setup dialog's "ID: no." and an error "reported
was" a bracketed value. Written here in our own words and numbers."""

from __future__ import annotations

import pytest

from remediate.kb.codes import codes_in
from tests.test_readers_linear import assert_kb_extraction_linear


def test_a_failed_result_after_the_error_sentence_closing_its_line() -> None:
    assert codes_in(
        "   Description: MSExchangeStore (401) Unexpected system error. 0xC0000017\n"
    ) == ["0xC0000017"]
    assert codes_in("   Sorting ended. Results: The remote call failed.\n   8004011D.\n") == [
        "8004011D"
    ]
    assert codes_in("   The list was not built. A failure occurred. c1030a1b.") == ["c1030a1b"]


def test_a_value_after_a_sentence_without_an_error_or_shaped_otherwise_is_not_a_code() -> None:
    assert codes_in("   The list was copied.\n   8004011D.\n") == []  # no error reported
    assert codes_in("   The copy failed. 0000012F\n") == []  # no severity bit: a count, an offset
    assert codes_in("   The copy failed. 8004011D and more text follows.\n") == []  # not closing
    assert codes_in("   The copy failed at 80a1b2c3.\n") == []  # in the sentence: an address


def test_a_setup_dialogs_id_number_after_a_colon() -> None:
    assert codes_in("   Microsoft Exchange Server Setup\n   ID: no. c1037aa0\n   <OK>\n") == [
        "c1037aa0"
    ]
    assert codes_in("   Message ID: EDBA5301\n") == []  # an ID that is no number of an error


def test_an_error_reported_as_a_bracketed_value() -> None:
    assert codes_in("   The link failed. The error reported was: [721] The port is busy.\n") == [
        "721"
    ]


@pytest.mark.parametrize(
    "unit",
    ["a.\n 8004011D\n", "x failed. c0000017\n", ".: " + "a" * 190 + ". 80000000\n"],
)
def test_closing_results_are_read_in_linear_time(unit: str) -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\nThe error follows.\n", unit, "")
