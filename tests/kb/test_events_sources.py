"""Event sources (issue 19, fifth round): an event whose ID is read right can still be scored
wrong by its source: a source given where the article gives none, the wrong words taken as the
source, or a source written otherwise than the article writes it. Each layout is written here in
our own words and numbers; each test says which source must be read, and which must stay None."""

from __future__ import annotations

import pytest

from tests.kb.symptoms import sources_by_id, symptoms_article
from tests.test_readers_linear import assert_kb_extraction_linear

# --------------------------------------------------------------------------- "ID n - source - text"


def test_a_source_of_several_words_between_the_dashes_after_an_id() -> None:
    facts = symptoms_article(
        "The server is slow to stop and this entry is written to the log:\n\n"
        "   ID 6120 - Service control manager - Waited 90 seconds for the agent.\n\n"
        "   Event ID 6121 - Print Spooler - The queue was left open.\n"
    )
    assert sources_by_id(facts) == {6120: "Service control manager", 6121: "Print Spooler"}


def test_a_sentence_or_a_protocol_between_the_dashes_is_no_source() -> None:
    facts = symptoms_article(
        "These entries are written to the application log:\n\n"
        "   3301 - A bad packet came in - the link is reset.\n\n"
        "   3302 - X.400 Link - Waiting for the peer.\n\n"
        "   3303 - MSExchangeLink - X.400 Link - The peer left.\n"
    )
    assert sources_by_id(facts) == {3301: None, 3302: None, 3303: "MSExchangeLink"}


# --------------------------------------------------------------------------- the Source: value


def test_labels_with_a_dash_for_a_colon() -> None:
    facts = symptoms_article(
        "Two messages may be logged:\n\n"
        "   Event ID - 402\n   Source - MSExchangeLink\n   Description - The peer is gone.\n\n"
        "   Event ID -403\n   Source - MSExchangeLink\n   Description - The peer is back.\n"
    )
    assert sources_by_id(facts) == {402: "MSExchangeLink", 403: "MSExchangeLink"}


def test_a_source_ends_before_its_category_an_aside_or_a_line_break_tag() -> None:
    facts = symptoms_article(
        "The log shows:\n\n"
        "   Event ID: 501\n   Source: MSExchangeLink - Transport\n   Description: Lost.\n\n"
        "   Event ID: 502\n   Source: MSExchangeStore (or the directory)\n   Description: Slow.\n\n"
        "   Event ID: 503<BR/>\n   Source: MSExchangeStore Private<BR/>\n   Type: Error<BR/>\n"
    )
    assert sources_by_id(facts) == {
        501: "MSExchangeLink",
        502: "MSExchangeStore",
        503: "MSExchangeStore Private",
    }


def test_a_placeholder_in_angle_brackets_stays_in_the_source() -> None:
    facts = symptoms_article(
        "The log shows:\n\n   Event ID: 504\n   Source: MSExchange <Protocol> Link\n"
        "   Description: The protocol stopped.\n"
    )
    assert sources_by_id(facts) == {504: "MSExchange <Protocol> Link"}


def test_a_process_and_its_number_under_the_source_line_is_the_description() -> None:
    # the database engine starts its text with the process name and ID: "MSExchangeStore 211"
    facts = symptoms_article(
        "The store stops with these entries in the application log:\n\n"
        "   Event ID: 41\n   Source: ESE97\n   MSExchangeStore 211\n"
        "   The log could not be written. Error -1011.\n\n"
        "   Event ID: 1290\n   Source: MSExchangeStore\n   Description: Stopped.\n"
    )
    assert sources_by_id(facts) == {41: "ESE97", 1290: "MSExchangeStore"}


# --------------------------------------------------------------------------- sources in sentences


def test_a_source_named_with_the_word_source_after_the_id() -> None:
    facts = symptoms_article(
        "At start-up the server logs event 7700 from source Profilesvc and event 7701 with a "
        "source of MSExchangeStore, and later event 7702 with the source Backup Agent.\n"
    )
    assert sources_by_id(facts) == {
        7700: "Profilesvc",
        7701: "MSExchangeStore",
        7702: "Backup Agent",
    }


def test_the_database_engine_before_the_word_event_is_the_source() -> None:
    facts = symptoms_article(
        "The engine's ESE97 event\n115 is logged when a backup ends. A WinNT event 116 and a "
        "Mailer event 117 may follow.\n"
    )
    assert sources_by_id(facts) == {115: "ESE97", 116: None, 117: None}


def test_an_exchange_service_a_few_words_before_a_run_together_event_id() -> None:
    facts = symptoms_article(
        "The MSExchangeLink Session Error EventID 2411 appears after each retry.\n"
    )
    assert sources_by_id(facts) == {2411: "MSExchangeLink"}


def test_an_acronym_opening_a_sentence_after_the_id_is_no_source() -> None:
    facts = symptoms_article(
        "The server logs Event ID 6310 RPC bind errors at start-up, then Event ID 6311 LDAP\n"
        "queries time out. The log shows Event ID 6312 (Warning) and Event ID 6313 (DS).\n"
    )
    assert sources_by_id(facts) == {6310: None, 6311: None, 6312: None, 6313: "DS"}


def test_the_stores_second_word_stays_with_a_service_before_the_word_event() -> None:
    facts = symptoms_article(
        "Then the MSExchangeStore Public event 2210 is logged for each folder.\n"
    )
    assert sources_by_id(facts) == {2210: "MSExchangeStore Public"}


@pytest.mark.parametrize(
    "unit",
    [
        "ID 7 - Aa bb cc dd - ",
        "   Source: EDB\n   MSExchangeX 12\n",
        "event 1 with a source of ",
        "Source - A",
        "Event ID 12 RPC b\n",
        "MSExchangeA Private Public event 1 ",
    ],
)
def test_these_layouts_are_read_in_linear_time(unit: str) -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\nthe event log:\n", unit, "")
