"""Symptom events, one class of layout at a time (issue 19, third round): the ways the era-drawn
dev articles write event mentions that the events reader missed. Each sample is written here in
our own words and numbers; each test says what must be read and what must not."""

from __future__ import annotations

import pytest

from remediate.kb.extract import extract
from tests.kb.symptoms import sources_by_id, symptoms_article
from tests.test_readers_linear import assert_kb_extraction_linear

# --------------------------------------------------------------------------- lone IDs


def test_ids_alone_on_their_lines_over_descriptions_after_the_log_is_named() -> None:
    # A series of entries copied from the log: each ID alone on its line, its text under it,
    # far more than 400 characters from the sentence that names the log.
    filler = "   The agent went on with the next part of the work and wrote nothing else.\n" * 5
    facts = symptoms_article(
        "The connector stops, and these entries appear in the application log:\n\n"
        f"   4021\n   The connector could not reach its queue (code 0x80041234).\n{filler}\n"
        f"   517\n   (...seen only at startup)\n   The connector gave up.\n{filler}\n"
        "Then the administrator retries.\n\n"
        "   4022 MTA\n   The queue was reopened.\n\n"
        "   4030\n   MSExchangeConn\n   Warning\n   The queue is full.\n\n"
        "   4031\n   Source: MSExchangeConn\n   The queue is empty.\n"
    )
    assert sources_by_id(facts) == {
        4021: None,
        517: None,
        4022: "MTA",
        4030: "MSExchangeConn",
        4031: "MSExchangeConn",
    }
    assert next(e for e in facts.events if e.event_id == 4021).codes == ("0x80041234",)


def test_a_lone_number_far_from_any_log_is_not_an_event() -> None:
    facts = symptoms_article(
        "The tool reports the size of the store, for example:\n\n"
        "   2048\n   Megabytes in use on the first drive.\n"
    )
    assert sources_by_id(facts) == {}


@pytest.mark.parametrize(
    "unit", ["   12\n   A\n", "   12 A\n   B\n", "   12\n   AB\n   C\n", "   12" + " " * 50]
)
def test_lone_ids_are_read_in_linear_time(unit: str) -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\nthe event log:\n", unit, "")


# --------------------------------------------------------------------------- sources by position


def test_a_source_in_the_next_column_or_alone_on_the_next_line_is_thesources_by_id() -> None:
    facts = symptoms_article(
        "The following entries are logged:\n\n"
        "   Event ID 6010     MSExchangeConn     Transport\n"
        "   The remote host closed the link.\n\n"
        "   Event ID: 6011\n   MSExchangeConn Private\n   Type: Error\n   The link was reset.\n\n"
        "   Event ID 6012\n   Warning\n   The link is slow.\n\n"
        "   Event ID 6013\n   Microsoft Exchange\n   The link is down.\n"
    )
    # a type word or a product name on the next line is not a source
    assert sources_by_id(facts) == {
        6010: "MSExchangeConn",
        6011: "MSExchangeConn Private",
        6012: None,
        6013: None,
    }


def test_sources_by_position_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Event ID 7" + " " * 40, "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Event ID 7\n AB", "")


# --------------------------------------------------------------------------- Event Viewer grids


def test_event_viewer_details_copied_as_columns_without_colons() -> None:
    facts = symptoms_article(
        "These entries appear again and again:\n\n"
        "   Event  3301         Source    MSExchangeGate\n"
        "   Type   Error        Category  Link\n"
        "   The gateway could not open its queue.\n\n"
        "   Warning 3302 Source MSExchangeGate Private\n"
        "   The gateway retried and failed with error 0x80042222.\n"
    )
    assert sources_by_id(facts) == {3301: "MSExchangeGate", 3302: "MSExchangeGate Private"}
    assert next(e for e in facts.events if e.event_id == 3302).codes == ("0x80042222",)


def test_event_viewer_grids_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Event 7" + " " * 40, "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Warning 7 Source" + " " * 40, "")


# --------------------------------------------------------------------------- events in sentences


def test_ids_and_sources_named_in_sentences_with_a_verb() -> None:
    facts = symptoms_article(
        "The usual event IDs are 7101, 7102, and 7103 from the MSExchangeGate.\n\n"
        "The log entry's SOURCE will be the MSExchangeGate Public, the EVENT ID will be 7110,"
        " and the category will be Replication.\n\n"
        "An event ID 7120 from MSExchangeQueue will appear as well.\n"
    )
    assert sources_by_id(facts) == {
        7101: "MSExchangeGate",
        7102: "MSExchangeGate",
        7103: "MSExchangeGate",
        7110: "MSExchangeGate Public",
        7120: "MSExchangeQueue",
    }


def test_a_verb_needs_an_id_word_and_a_loose_name_yields_to_a_stated_source() -> None:
    facts = symptoms_article(
        "The events are 12 a day on a quiet server.\n\n"
        "Event ID 7130 from the Gate Connector is logged, and Event ID 7140 from NNTP too:\n\n"
        "   Event ID: 7140\n   Source: MSExchange NNTP\n   Description: The feed stopped.\n\n"
        "The source is the queue, and the event ID is 7150.\n"
    )
    # no event 12; 'Gate Connector' is a product phrase; NNTP yields to the labelled source;
    # 'the queue' is not a source
    assert sources_by_id(facts) == {7130: None, 7140: "MSExchange NNTP", 7150: None}


def test_a_source_a_sentence_names_with_as_the_source() -> None:
    facts = symptoms_article(
        "You may also see event 7160 with MSExchangeGate as the source, and event ID 7161\n"
        "with Service Control Manager as its source in the system log.\n"
    )
    assert sources_by_id(facts) == {7160: "MSExchangeGate", 7161: "Service Control Manager"}


def test_an_exchange_service_a_few_words_before_the_events_of_a_sentence() -> None:
    facts = symptoms_article(
        "MSExchangeGate X.400 Service events 7170 or 7171 appear in the log.\n\n"
        "The WinGate event 7172 is logged as well.\n\n"
        "MSExchangeGate, then event 7173.\n"
    )
    # only an MSExchange name, and nothing but words between it and the events
    assert sources_by_id(facts) == {
        7170: "MSExchangeGate",
        7171: "MSExchangeGate",
        7172: None,
        7173: None,
    }


def test_events_in_sentences_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\n", "event IDs are 12 from the ", "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Source is the A" + "b" * 30, "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "event 12 with the A B C as the ", "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "MSExchangeA event 12 ", "")


# --------------------------------------------------------------------------- header lines


def test_a_source_after_the_id_on_its_line_and_the_category_after_it() -> None:
    facts = symptoms_article(
        "The application log shows:\n\n"
        "   Event ID 8801 MSExchangeGate\n   Internal Processing\n   The gate stopped.\n\n"
        "   Event ID 8802 MSExchangeIS Private Transport\n   The store gave up.\n\n"
        "   Event 8803: MSExchangeGate Operating System\n   A socket closed.\n\n"
        "   Event 8804     MSExchangeGate    Debug Data\n   A buffer was full.\n\n"
        "   8805: MSExchangeGate\n   The gate restarted.\n\n"
        "   8806 MSExchange Pop3 Logons\n   A user could not log on.\n\n"
        "   Event 8807: X.400 Service Event, severity 9\n   A conversion failed.\n\n"
        "   Event ID 8808: GATEAGENT Failed to Start\n   The agent is missing.\n\n"
        "   8809 bytes were left\n   After the copy.\n"
    )
    # a protocol or an upper-case word after a colon is the description; "8809 bytes" no event
    assert sources_by_id(facts) == {
        8801: "MSExchangeGate",
        8802: "MSExchangeIS Private",
        8803: "MSExchangeGate",
        8804: "MSExchangeGate",
        8805: "MSExchangeGate",
        8806: "MSExchange Pop3",
        8807: None,
        8808: None,
    }


def test_header_lines_with_a_spaced_colon_a_gap_or_a_single_spaced_source_label() -> None:
    facts = symptoms_article(
        "The application log shows:\n\n"
        "   8820 : MSExchangeLink : Warning : link to the gate\n   No route was found.\n"
        "   8821 : MSExchangeLink: Information : link to the gate\n   A report was sent.\n\n"
        "   8822: MSExchangeStore\n\n   The text of a message is damaged.\n\n"
        "   Event 8823 Source MSExchangeSA\n\n   The book was built with errors.\n"
    )
    assert sources_by_id(facts) == {
        8820: "MSExchangeLink",
        8821: "MSExchangeLink",
        8822: "MSExchangeStore",
        8823: "MSExchangeSA",
    }


def test_header_lines_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\nthe event log\n", "   12: MSExchangeA\n", "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Event 7 MSx ", "")
    assert_kb_extraction_linear("SYMPTOMS\n\nthe event log\n", "   12 : MSExchangeA\n\n", "")


# --------------------------------------------------------------------------- the footer


def test_the_footers_query_words_are_no_event_when_the_header_hides_the_footer() -> None:
    # the header's empty KEYWORDS: line once read as a heading kept the footer in the last
    # section; its query words name an event the article never describes
    text = (
        "DOCUMENT:Q300001  01-JAN-2000  [exchange]\n"
        "TITLE   :XCON: The Gate Stops\n"
        "PRODUCT :Microsoft Exchange\n"
        "KEYWORDS:\n\n"
        "SYMPTOMS\n========\n\nThe gate stops. Event ID 6601 is logged.\n\n"
        "MORE INFORMATION\n================\n\nRestart the gate.\n\n"
        "Additional query words: gate event id 6602 X400\n\n"
        "======================================================================\n"
        "Keywords          : kbusage\n"
    )
    assert sources_by_id(extract(text, "Q300001.txt")) == {6601: None}


# -------------------------------------------------------------- the ID label spelt otherwise


def test_an_id_label_with_a_hyphen_or_without_the_word_event() -> None:
    facts = symptoms_article(
        "The log shows these entries:\n\n"
        "   Event-ID: 5501\n   Source  : MSExchangeGate Private\n   The gate stalled.\n\n"
        "   ID: 5502, Source: MSExchangeGate, Type: Error,\n   The gate could not start.\n\n"
        "   Source: MSExchangeQueue\n   ID: 5503\n   Description: The queue failed with"
        " error -1234.\n\n"
        "   Description: A bad length on object 0600AB. Attribute\n   ID: 17. Value: 2.\n"
    )
    # an attribute's ID inside a description has no Source label beside it
    assert sources_by_id(facts) == {
        5501: "MSExchangeGate Private",
        5502: "MSExchangeGate",
        5503: "MSExchangeQueue",
    }
    assert next(e for e in facts.events if e.event_id == 5503).codes == ("-1234",)


def test_id_labels_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\n", "ID: 12\n", "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Event-ID ", "")


def test_a_source_alone_over_the_id_label_or_an_abbreviated_source_label() -> None:
    facts = symptoms_article(
        "The log shows:\n\n"
        "   MSExchangeGate\n   Event ID: 9901\n   The gate failed.\n\n"
        "   Event ID: 9902\n   Src: MSExchangeGate Public\n   Type: Information\n\n"
        "The gate was restarted by hand\n   Event ID: 9903\n   The gate is up.\n"
    )
    # a prose line over the label is no source
    assert sources_by_id(facts) == {
        9901: "MSExchangeGate",
        9902: "MSExchangeGate Public",
        9903: None,
    }


def test_sources_over_labels_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\n", "MSExchangeA\nEvent ID: 1\n", "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "Src: ", "")


# ---------------------------------------------- the sentence before a block (fourth round)


def test_a_sentence_ending_in_event_colon_does_not_split_the_block_under_it() -> None:
    # "... the following event:" is no Event label: the details under it are one entry, the
    # Source given before the ID as well as after it
    facts = symptoms_article(
        "The audit log shows the following event:\n\n"
        "   Event Type: Failure\n   Event Source: Audit\n   Event ID: 6601\n   Description:\n"
        "   The ticket was refused.\n\n"
        "Then the next entry is logged as this event:\n\n"
        "   Source: MSExchangeGate\n   Event: 6602\n   Description: The gate looped.\n"
    )
    assert sources_by_id(facts) == {6601: "Audit", 6602: "MSExchangeGate"}


def test_a_word_event_with_a_colon_inside_a_description_does_not_end_it() -> None:
    facts = symptoms_article(
        "   Event ID 6603\n   Source: MSExchangeGate\n   Description:\n"
        "   Inner event: the gate agent got exception 0x80041111 from its peer.\n"
    )
    (event,) = facts.events
    assert (event.source, event.codes) == ("MSExchangeGate", ("0x80041111",))


def test_the_service_closing_the_sentence_over_a_block_is_its_source() -> None:
    facts = symptoms_article(
        "The gate may stop, or this event may be logged for the MSExchangeGate service:\n\n"
        "   Event ID 6604 -\n   The gate could not convert the message.\n\n"
        "Or this one may be logged for the Gate service:\n\n"
        "   Event ID 6605 -\n   The gate gave up.\n\n"
        "It may be logged for the MSExchangeGate service:\n\n"
        "   Event ID: 6606\n   Source: MSExchangeRelay\n   The relay gave up.\n"
    )
    # only an MSExchange service name, and a stated Source label wins
    assert sources_by_id(facts) == {6604: "MSExchangeGate", 6605: None, 6606: "MSExchangeRelay"}


def test_sentences_over_blocks_are_read_in_linear_time() -> None:
    assert_kb_extraction_linear("SYMPTOMS\n\n", "the following event:\n", "")
    assert_kb_extraction_linear("SYMPTOMS\n\n", "MSExchangeA service:\nEvent ID 1\n", "")
