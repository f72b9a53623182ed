"""Error codes, one class of position at a time (issue 19): the classes the grown dev split
showed the codes reader missing or taking wrongly. Each sample is written here in our own words
and numbers; each test names the class and checks what must be taken and what must not."""

from __future__ import annotations

import pytest

from remediate.kb.codes import article_codes, codes_in
from tests.test_readers_linear import assert_kb_extraction_linear


def test_a_bracketed_value_closing_a_message_is_its_code() -> None:
    assert codes_in("The service did not answer in time. -\n   [800AB123]\n") == ["800AB123"]
    assert codes_in("Mail Client - 4711 - [8004D00E]") == ["8004D00E"]
    assert codes_in("the mail spooler failed. MAPI 1.0[000004d2]") == ["000004d2"]
    assert codes_in("MSEXCH:IMS:Org:Site:HOST 0 (000A0B0C) Unknown Recipient") == ["000A0B0C"]
    assert "0004A1B2" in codes_in("   MSEXCH:IMS:Org:Site:HOST 0x80070057\n   (0004A1B2) Cannot do")


def test_a_bracketed_value_after_a_word_or_an_offset_is_not_a_code() -> None:
    # a queue or object number, a jump target, an operand, a log line's number, an address
    assert codes_in("check that it is the right queue (0200003C).") == []
    assert codes_in("  00401a10 e8aa000000   call   helper (0040b2c4)\n") == []
    assert codes_in("  jnz   Walk+0x2c\n   (77aa10c0)\n") == []
    assert codes_in("  mov eax,[_table (7a0b0c0d)]\n") == []
    assert codes_in("[0000002A]: the connector started\n") == []
    assert codes_in("rebase it to the base address (6A000000) again") == []


def test_an_error_result_in_double_angle_brackets_is_its_code() -> None:
    assert codes_in("Result: the request did not complete.<<8004011C>>.") == ["8004011C"]
    assert codes_in("insertion string: <<0xc1031234 - The directory is busy.>>") == ["0xc1031234"]


def test_the_exception_code_before_at_address_is_taken_and_the_address_is_not() -> None:
    assert codes_in("  app.dbg generated ...\n  c000001d at address 6a0b0c0d (Walk)") == [
        "c000001d"
    ]


def test_an_access_violation_gives_its_code_and_not_its_address() -> None:
    text = "Tool.exe Exception: Access Violation (0xc0000005), Address: 0x1200ab34"
    assert codes_in(text) == ["0xc0000005"]


def test_a_code_named_before_the_word_error() -> None:
    assert codes_in("you may see a -1601 error in the log") == ["-1601"]
    assert codes_in("TITLE: -1203 or -1206 Errors When Restoring") == ["-1203", "-1206"]
    assert codes_in("the setup stops and an 0xc0024321 error message appears") == ["0xc0024321"]
    # a count or a year before the word is not a code
    assert codes_in("after 12 errors in 1999 errors were rare") == []


def test_a_mail_or_web_reply_code_before_the_word_error() -> None:
    assert codes_in('the remote host answers with a "554" error') == ["554"]
    assert codes_in("A 451 Error: try again later") == ["451"]
    assert codes_in("the relay answered 250 error free") == []


def test_a_symbolic_name_with_its_value_in_parentheses_gives_both() -> None:
    assert codes_in("[Store - [MAPI_E_NO_ACCESS(80070005)]]") == ["MAPI_E_NO_ACCESS", "80070005"]


def test_an_iis_asp_error_keeps_its_name() -> None:
    assert codes_in("   error 'ASP 0126'\n   Include file not found") == ["ASP 0126"]


def test_a_zero_status_or_return_code_is_success_not_an_error() -> None:
    assert codes_in("the call was cancelled with status 0x0. Retry.") == []
    assert codes_in("The link closed. Return code: 0. Object error 00000000.") == []


def test_the_search_words_of_the_footer_are_not_the_articles_codes() -> None:
    text = "SYMPTOMS\n\nThe store stops.\n\nAdditional query words: store error 42 -1018\n"
    assert article_codes(text, [], set()) == []


# Each new position repeated to the largest article, after a prefix that makes it be tried.
LINEAR = {
    "brackets never closing a message": ("", "word (1234abcd) ", ""),
    "brackets after numbers": ("", "0 (1234abcd) ", ""),
    "double angle brackets": ("", "<<1234abcd ", ""),
    "values before at address": ("", "1234abcd at ", ""),
    "lists before the word error": ("", "-1 or ", ""),
    "quoted replies": ("", '"550" ', ""),
    "access violations": ("", "exception access violation ", ""),
    "symbolic names with values": ("", "MAPI_E_A(1234abcd) ", ""),
}


@pytest.mark.parametrize("name", list(LINEAR))
def test_the_new_positions_read_in_linear_time(name: str) -> None:
    prefix, unit, suffix = LINEAR[name]
    assert_kb_extraction_linear(prefix, unit, suffix)
