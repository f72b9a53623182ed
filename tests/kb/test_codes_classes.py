"""Error codes, one class of position at a time (issue 19): the classes the grown dev split
showed the codes reader missing or taking wrongly. Each sample is written here in our own words
and numbers; each test names the class and checks what must be taken and what must not."""

from __future__ import annotations

import pytest

from remediate.kb.codes import article_codes, codes_in
from remediate.kb.extract import extract
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
    # the sections cut the footer off (read.split_sections), so the codes reader never sees it
    text = "SYMPTOMS\n\nThe store stops.\n\nAdditional query words: store error 42 -1018\n"
    assert extract(text, "Q300020.txt").codes == []


def test_a_stop_code_is_its_code_and_so_are_those_listed_after_it() -> None:
    assert codes_in("The server halts with STOP 0x3F or 0x2C on a blue screen.") == ["0x3F", "0x2C"]
    assert codes_in("   STOP: 0x000000D1 (0x00000010, 0x00000002)") == ["0x000000D1"]
    assert codes_in("Click Stop 0x10 times") == ["0x10"]  # "stop" is kept only before a 0x value
    assert codes_in("Press Stop, then wait 20 seconds.") == []


def test_codes_of_one_form_listed_after_an_introduced_code_are_codes() -> None:
    assert codes_in("Error number -207, -3101 or -3102 can be shown.") == ["-207", "-3101", "-3102"]
    # a plain number after "or" could be anything, and a zero first is a list of values
    assert codes_in("error 1067 or 2 minutes later") == ["1067"]
    assert codes_in("The call returns 0, -1 or a handle.") == []


def test_a_logged_result_value_is_its_code() -> None:
    assert codes_in("Could not open the pipe, result=71, tries=3. [IL 9]") == ["71"]
    assert codes_in("   total = 8\n   result = 4") == []  # program text, not a log's result=


def test_the_reply_code_a_remote_server_reported_is_its_code() -> None:
    assert codes_in("The remote server reported: 554 Transaction failed.") == ["554"]
    assert codes_in("the host responded with 451 Try later") == ["451"]
    assert codes_in("the server reported 12 messages waiting") == []


def test_a_mixed_case_symbolic_name_with_its_value_is_a_code() -> None:
    assert codes_in("[Some Library [E_Pending (8000000A)]]") == ["E_Pending", "8000000A"]
    assert codes_in("set E_Mail to the address") == []


def test_a_decimal_restating_a_hex_code_in_parentheses_is_a_code_too() -> None:
    assert codes_in("The error code 0000000bb9 (3001) means ecBadObject.") == [
        "0000000bb9",
        "3001",
        "ecBadObject",
    ]
    assert codes_in("HRESULT 0x8007000E (-2147024882)") == ["0x8007000E", "-2147024882"]


def test_a_decimal_in_parentheses_closing_an_error_sentence_is_its_code() -> None:
    text = "An error occurred while the service opened its\n   listening endpoint (10048)\n"
    assert codes_in(text) == ["10048"]
    assert codes_in("The request failed for the share \\\\HOST\\DATA (53).\n") == ["53"]
    # not a constant's value, a phone number, a category, nor a line with no error
    assert codes_in("this error is raised if you set the flag to dbFailOnError (128).\n") == []
    assert codes_in("If the error persists call support at (425)\n   555-0100\n") == []
    assert codes_in("   Type: Error\n   Category (2050)\n") == []
    assert codes_in("The job completed for all mailboxes (12)\n") == []


def test_a_table_of_codes_gives_each_row_its_name_and_value() -> None:
    table = (
        "Code        Point   Meaning\n"
        "8004A011    1301    WidgE_OUT_OF_SPOKES\n"
        "0003B0C2    1402    WidgW_SLOW_SPIN\n"
    )
    assert codes_in(table) == ["8004A011", "WidgE_OUT_OF_SPOKES", "0003B0C2", "WidgW_SLOW_SPIN"]
    assert codes_in("This is the error FROB_E_NO_GEARS, which stops it.") == ["FROB_E_NO_GEARS"]
    # a success name, a registry dump's value and a plain constant are not codes
    assert codes_in("It returns FROB_S_DONE and sets 660A0003=0000002A with MAX_GEARS") == []


def test_a_decimal_a_sentence_names_as_one_error_is_its_code() -> None:
    assert codes_in("The agent stops and logs a 4242 error at startup.") == ["4242"]
    assert codes_in("Restart it; the 3071 error should not come back.") == ["3071"]
    assert codes_in('If you get an "-1234" error message, restore.') == ["-1234"]
    # a count of errors, or a number the text names as an event, is not a code
    assert codes_in("Of the 40 errors, most were harmless.") == []
    assert codes_in("The agent writes a 3131 event; a 3131 error means the queue is full.") == []


def test_a_code_in_square_brackets_after_its_word_is_its_code() -> None:
    assert codes_in("A MAPI call went wrong. Error returned was [0x8004AB12].") == ["0x8004AB12"]
    assert codes_in("Unexpected error [0xc004ABCD - The call could not finish.]") == ["0xc004ABCD"]
    assert codes_in("An OS call went wrong. Error Returned was [32].") == ["32"]
    # a bracketed tag after other words is not
    assert codes_in("The error is logged under [BASE IL 12] (14)") == []


def test_an_ese97_error_after_doubled_or_empty_process_parentheses() -> None:
    assert codes_in("Description: MSExchangeDS ((2718) ) -1066") == ["-1066"]
    assert codes_in("Description: MSExchangeIS ((31)) -1207") == ["-1207"]
    assert codes_in("Description: MSExchangeIS (()) -577") == ["-577"]
    # a call with a negative argument is not
    assert codes_in("   call f((3)) -1 times") == []


def test_an_error_dialogs_component_id_is_its_code() -> None:
    assert codes_in("   Microsoft Exchange Directory ID: c10a0b0c") == ["c10a0b0c"]
    assert codes_in("   Access is denied\n   NT ID: 0xC00200AB\n") == ["0xC00200AB"]
    assert codes_in("   ID-Nr: 0xc00207AB") == ["0xc00207AB"]
    # other IDs, and values not shaped like an error result, are not
    assert codes_in("Message ID: ABCD1234  Object ID: 0600002A  Store ID: 12") == []


def test_the_condition_a_connector_reports_returned_is_its_code() -> None:
    text = "LME-X-Y(01aa) 2 31200:The server has returned the condition:\n   8004AB12\n"
    assert codes_in(text) == ["8004AB12"]
    assert codes_in("The agent returned the condition it had before 12 hours.") == []


def test_a_pair_in_brackets_is_one_code_after_a_word_too() -> None:
    assert codes_in("There is not enough free memory\n   (8007000E-F20000AB).") == [
        "8007000E-F20000AB"
    ]
    assert codes_in("the hop limit was passed(80040C0A-8200001B). Retry") == ["80040C0A-8200001B"]
    assert codes_in("Mail Store -- 1234 -- [8000000A:FFFFFC1B].") == ["8000000A:FFFFFC1B"]
    # a value's bracketed pair, and a colon pair after a word, are not
    assert codes_in("   STAMP=[610D9B4A:01C1CB6B]\n   stamp [610D9B4A:01C1CB6B]") == []


def test_a_value_its_symbolic_name_follows_in_parentheses_is_its_code() -> None:
    text = "All these numbers stand for the same -1234\n(JET_errPageIsBad). Restore it."
    assert codes_in(text) == ["-1234", "JET_errPageIsBad"]
    assert codes_in("the service logs a 1066 (JET_errDiskFull) error") == [
        "1066",
        "JET_errDiskFull",
    ]
    # a list number or a word before the name is not
    assert codes_in("Step 3 (MAPI_E_BUSY) is retried.") == ["MAPI_E_BUSY"]
    assert codes_in("the call (MAPI_E_BUSY) is retried") == ["MAPI_E_BUSY"]


def test_the_number_net_helpmsg_explains_is_a_code() -> None:
    assert codes_in("Type NET HELPMSG 3521 at a command prompt to read it.") == ["3521"]
    assert codes_in('   "net helpmsg <number>"') == []


def test_a_character_code_is_not_an_error_code() -> None:
    assert codes_in("Names with ANSI characters above\ncode 150 are not backed up.") == []
    assert codes_in("Use the character code 169 for the sign.") == []
    assert codes_in("The backup stops with error code 1450.") == ["1450"]


def test_a_decimal_codes_hex_restated_in_parentheses_is_a_code_too() -> None:
    assert codes_in("It stops with error -1077 (0xfffffbcb).") == ["-1077", "0xfffffbcb"]
    # a hex value after a plain number with no error word is not
    assert codes_in("Set it to 64 (0x40).") == []


def test_a_code_in_angle_brackets_after_its_word_is_its_code() -> None:
    assert codes_in("The command REGTOOL X.INI FAILED ERROR CODE <2201>") == ["2201"]
    assert codes_in("it failed, returning an error code of\n   <87>.") == ["87"]
    assert codes_in("Type error <number> to look it up.") == []


def test_an_ndrs_x400_reason_and_diagnostic_are_its_codes() -> None:
    # by name after their words, wrapped at a hyphen, or before them; by number on the
    # report's lines, where reason 0 (transfer failed) is a failure, not success
    wrapped = "The gate sent a report with reason code unable-to-\n   transfer and diagnostic code"
    assert codes_in(f"{wrapped} loop-detected. [GATE 9 12]") == [
        "unable-to-transfer",
        "loop-detected",
    ]
    assert codes_in("the recipient-unknown reason code and bad-address\ndiagnostic code") == [
        "recipient-unknown",
        "bad-address",
    ]
    assert codes_in("X.400 reason code transfer-failure. Diagnostic body-too-big. Call") == [
        "transfer-failure",
        "body-too-big",
    ]
    assert codes_in("   Reason: 0 (transfer failed)\n   Diagnostic: 12 (loop)\n") == ["0", "12"]


def test_words_about_reasons_and_diagnostics_are_no_codes() -> None:
    assert codes_in("Turn on diagnostic logging for the gate.") == []
    assert codes_in("(reason code slow-down and diagnostic code Omit any diagnostic code)") == [
        "slow-down"
    ]
    assert codes_in("For this reason: 12.5 percent of the reports, the reason code and") == []
    assert codes_in("The call returns 0 when the reason is known.") == []
    # a diagnostic of -1 says the report has none
    assert codes_in("   Reason: 0 (transfer failed)\n   Diagnostic: -1 (none)\n") == ["0"]


def test_a_code_closing_a_sentence_whose_space_was_lost_is_its_code() -> None:
    assert codes_in("The link failed with error: 4711.The gate will retry.") == ["4711"]
    # a file name or a version is not a sentence's end
    assert codes_in("Parser error 00000002.LOG line 4, build 5.5.2653.12") == []


def test_a_decimal_codes_hex_after_it_is_its_code_when_the_value_is_the_same() -> None:
    assert codes_in("The store reports Jet Error -1299 0xFFFFFAED and stops.") == [
        "-1299",
        "0xFFFFFAED",
    ]
    assert codes_in("It logs error 4660 0x1234 at startup.") == ["4660", "0x1234"]
    # another number after it (an attribute, a flag) is not a code
    assert codes_in("reading an attribute failed with error code 4711 0x6") == ["4711"]


def test_a_short_code_closing_a_title_cut_at_the_fields_width_is_the_bodys_code() -> None:
    # the archive's TITLE holds 64 characters: "Error 471" is where "Error 4711234567" was cut
    title = "XGEN: The Relay Agent Stops at Each Start of Gate With Error 4711234567"[:64]
    body = "SYMPTOMS\n\nThe relay stops with error 4711234567.\n"
    assert title.endswith("Error 471")
    assert article_codes(f"TITLE   :{title}\n\n{body}", [], set()) == ["4711234567"]
    # a title that is not cut keeps its code, and so does one the body writes alone too
    short = "TITLE   :XGEN: The Relay Stops With Error 471\n\n"
    assert article_codes(short + body, [], set()) == ["471", "4711234567"]
    again = f"TITLE   :{title}\n\n{body}Then error 471 follows.\n"
    assert article_codes(again, [], set()) == ["471", "4711234567"]


def test_an_http_status_returned_as_the_error_and_its_sub_status_are_codes() -> None:
    assert codes_in("The browser shows:\n\n   HTTP 502.7 - Gateway Down\n") == ["502.7"]
    assert codes_in("the page says HTTP 410 - Gone") == ["410"]
    # the error page's sub-status after it, on its line or the next
    assert codes_in("   HTTP Error 407\n   407.2 Proxy: Logon Refused\n") == ["407", "407.2"]
    assert codes_in("   HTTP Error 407 407.2 Proxy: Logon Refused\n") == ["407", "407.2"]
    assert codes_in("   HTTP/1.0 501 Not Done (the module was not loaded)\n") == ["501"]
    # a success, a redirect, a protocol version or a family of statuses is none
    assert codes_in("HTTP 200 OK, then HTTP 302 Found over HTTP 1.1; HTTP 402.x Errs") == []


def test_one_error_result_written_in_both_bases_is_both_codes() -> None:
    text = (
        "The error most often seen after a restore is 3221225522 (decimal) or\n"
        "0xC0000032 (hexadecimal); at startup the same error reads 0xFFFFFC01 = 4294966273."
    )
    assert codes_in(text) == ["3221225522", "0xC0000032", "0xFFFFFC01", "4294966273"]
    # a count is no error, nor are two values that differ, nor a small one
    assert codes_in("The folder shows 4294967295 (0xFFFFFFFF) unread items.") == []
    assert codes_in("The error shows 3221225522 or 0xC0000033 there.") == []
    assert codes_in("error mask 0x00000010 or 0000000016") == []


# Each new position repeated to 256 KB, after a prefix that makes it be tried.
LINEAR = {
    "brackets never closing a message": ("", "word (1234abcd) ", ""),
    "brackets after numbers": ("", "0 (1234abcd) ", ""),
    "double angle brackets": ("", "<<1234abcd ", ""),
    "values before at address": ("", "1234abcd at ", ""),
    "lists before the word error": ("", "-1 or ", ""),
    "quoted replies": ("", '"550" ', ""),
    "access violations": ("", "exception access violation ", ""),
    "symbolic names with values": ("", "MAPI_E_A(1234abcd) ", ""),
    "lists after an introduced code": ("error 0x1", ", 0x2 or 0x3", ""),
    "restated decimals": ("", "error 0x1a (26) ", ""),
    "closing decimals": ("", "the call failed on word (12)\n", ""),
    "closing decimals on long lines": ("", "error word " * 30 + "(12)\n", ""),
    "stop codes": ("", "STOP 0x1 ", ""),
    "table rows never ending": ("", "8004a011 1301 WidgE_NO_SPOKES ", ""),
    "decimals named as one error": ("", "a 12 error ", ""),
    "decimals named as events": ("", "a 12 event a 12 error ", ""),
    "square brackets after error": ("", "error [", ""),
    "doubled ESE parentheses": ("", "a ((1) ", ""),
    "dialog IDs": ("", "NT ID: ", ""),
    "returned conditions": ("", "returned the condition ", ""),
    "bracketed pairs never closing": ("", "a (1234abcd-1234abcd ", ""),
    "values before names": ("", "-1 (MAPI_E_A) ", ""),
    "net helpmsg": ("", "net helpmsg ", ""),
    "character codes": ("", "character code 1 ", ""),
    "restated hex": ("", "error -1 (0x1) ", ""),
    "angle brackets after error": ("", "error <", ""),
    "x400 names never ending": ("reason code ", "ab-", ""),
    "x400 names before words": ("", "ab-cd-ef reason code ", ""),
    "x400 names wrapped": ("", "diagnostic code ab-\n  ", ""),
    "decimals before hex": ("", "error 12 0x1 ", ""),
    "sentences run together": ("", "error 12.The ", ""),
    "http statuses never sub-stated": ("", "HTTP 404 ", ""),
    "http statuses over blank lines": ("HTTP 404", " ", ""),
    "both bases never joined": ("", "4294967295 or ", ""),
    "both bases in long sentences": ("", "error 4294967295 = 0xFFFFFFFF ", ""),
}


@pytest.mark.parametrize("name", list(LINEAR))
def test_the_new_positions_read_in_linear_time(name: str) -> None:
    prefix, unit, suffix = LINEAR[name]
    assert_kb_extraction_linear(prefix, unit, suffix)
