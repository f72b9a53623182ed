"""Extraction, one class of layout at a time (issue 19): each test names the class of error the
archive showed and reads one of our own samples (tests/kb/samples, our words and numbers) or a
few lines written here. The samples' full facts are checked by test_kb's expected JSON; these
tests say what each class must give, including facts the JSON does not show (article-wide
codes, other products, a Windows service pack as the fix, a fix row's Exchange version)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.kb.extract import ArticleFacts, extract
from remediate.kb.read import read_article, split_sections

SAMPLES = Path(__file__).parent / "samples"


def _sample(name: str) -> ArticleFacts:
    return extract(read_article(SAMPLES / name), name)


def _events(facts: ArticleFacts) -> dict[int, str | None]:
    return {e.event_id: e.source for e in facts.events}


def _article(symptoms: str, header: str = "") -> ArticleFacts:
    text = (
        f"{header}The information in this article applies to:\n\n"
        " - Microsoft Exchange Server, version 5.5\n"
        "-------------------------------------------------------------------------------\n\n"
        f"SYMPTOMS\n========\n\n{symptoms}\n\nSTATUS\n======\n\nNone.\n"
    )
    return extract(text, "Q300000.txt")


# --------------------------------------------------------------------------- events


def test_events_in_every_layout_the_archive_uses() -> None:
    events = _events(_sample("s09_archive_events.txt"))
    assert events == {
        7311: None,  # `Event ID = 7311:`
        9142: "MSExchageMTA",  # a bare `SOURCE NNNN` line; the typo kept as written
        4471: "MSExchangeGWART",  # `NNNN - Source - Error - ...`
        2218: "MSExchangeSA",  # `Event NNNN; Source: X`
        3107: "MSExchange Internet Mail",  # `Source X` without a colon, with spaces
        1142: "MSExchangeAL",  # a short source in parentheses after the ID
        9161: "MSExchangeMTA",  # the source run into the label: `MSExchangeMTAEvent ID`
        0: "ESE97",  # event ID 0 is valid
        4410: None,  # "may also log event IDs 4410, 4417, and 4420"
        4417: None,
        4420: None,
        5120: "GWART",  # an Event Viewer table: Source and Event columns
        5121: "GWART",
        6054: "MSExchangeDX",  # an Event Viewer row: date, time, source, type, category, ID
    }


@pytest.mark.parametrize(
    ("symptoms", "expected"),
    [
        ("The log shows Event ID - 2037 each hour.", {2037: None}),
        (
            "   ID 11502\n   MSExchangeNNTP\n   Error\n   The interface failed.",
            {11502: "MSExchangeNNTP"},
        ),
        ("The log contains 254, 142, and 290 warning events.", {254: None, 142: None, 290: None}),
        (
            "Messages are logged:\n\n   3013 - The outbound queue is corrupt.",
            {3013: None},
        ),
        ("Event ID 9215A sockets error 10051 was detected.", {9215: None}),
        ("   MSExchangeMTA Event ID 1008\n   An error occurred.", {1008: "MSExchangeMTA"}),
        (
            "   Event ID: 9405\n   Source: MSExchangeMTA  Field Engineering\n",
            {9405: "MSExchangeMTA"},  # two blanks end the source: the next column follows
        ),
        ("Event ID 2024 Source MSExchangeIS Private TypeError", {2024: "MSExchangeIS Private"}),
    ],
)
def test_event_layouts(symptoms: str, expected: dict[int, str | None]) -> None:
    assert _events(_article(symptoms)) == expected


def test_not_events() -> None:
    """A title's error number, versions and numbered steps are no event IDs."""
    facts = _article(
        "Event Log Error -510 appears after you upgrade to 5.5.2448.\n\n"
        "   1 - Stop the service.\n   2 - Start it again.\n\n"
        "After you apply the fix, event 1234 is logged once.\n\n"
        "The event log level is one of:\n\n   21 - Typical\n   22 - Custom\n\n"
        "A register dump in the log:\n\n   CX 0000\n   BP 027\n",
    )
    assert _events(facts) == {}


def test_an_indented_heading_word_does_not_cut_the_section() -> None:
    facts = _article("   Properties\n\n   Event ID: 1025\n   Source: MSExchangeIS")
    assert _events(facts) == {1025: "MSExchangeIS"}


# --------------------------------------------------------------------------- codes


def test_codes_are_what_the_article_presents_as_the_error() -> None:
    facts = _sample("s10_codes.txt")
    by_id = {e.event_id: e.codes for e in facts.events}
    assert by_id == {1209: ("c0000fd3",), 1315: ("1453", "00000000c5a")}
    assert facts.codes == [
        "c0000fd3",  # Exception <hex>
        "1453",  # failure <decimal>
        "00000000c5a",  # zero padding kept as written
        "c10208f2-00000000",  # a hyphenated pair is one code
        "DS_E_BUSY",  # a symbolic name
        "0x00800401b1",  # a zero-padded HRESULT
    ]


@pytest.mark.parametrize(
    "junk",
    [
        "occurred at Address 6a1b2c3d.",
        "0147fe44 6a1b2c3d 00000f10 77f8a2b1 dsamain!DRA_Import",
        "Heap address 00a3f1c8, file offset 0x0000c1f0, thread 0x2a4, process 2208.",
        "Total number of errors : 0",
        "Error1: the first of six errors",
        "Store.exe version 5.5.2653.12, status code 5.6.0",
        "Parser Error 00000001.PRI line 4",  # a file's name
    ],
)
def test_not_codes(junk: str) -> None:
    assert _article(junk).codes == []


def test_the_footers_query_words_give_no_code() -> None:
    text = (
        "SYMPTOMS\n\nIt fails.\n\nAdditional query words: MAPI_E_CALL_FAILED error 0x80\n\n"
        "======\nKeywords          : kbbug\nVersion           : winnt:5.5\n"
    )
    assert extract(text, "Q300004.txt").codes == []


def test_a_symbolic_name_gives_the_other_forms_on_its_line() -> None:
    facts = _article("The store may report:\n\n - -612 0xFFFFFD9C JET_errLogDiskGone 4294966684\n")
    assert facts.codes == ["-612", "0xFFFFFD9C", "JET_errLogDiskGone", "4294966684"]


def test_a_wrapped_title_of_another_article_gives_no_code() -> None:
    facts = _article(
        "It fails.\n\n   Q312345 XADM: Calling OpenEntry on a Deleted Folder of the Store\n"
        "   Returns E_NOACCESS\n"
    )
    assert facts.codes == []


def test_an_events_id_is_not_its_code() -> None:
    facts = _article("   5/22/97 12:55:53 PM MSExchangeMSMI Error Session Error 2375 N/A HOST1")
    assert _events(facts) == {2375: "MSExchangeMSMI"}
    assert facts.codes == []


# --------------------------------------------------------------------------- products


def test_products_from_the_header_when_no_list_applies() -> None:
    facts = _sample("s11_header_feature.txt")  # `Version(s): winnt:5.5,5.5 SP1,5.5 SP2`
    assert [r.version for r in facts.ranges] == ["5.5"]


@pytest.mark.parametrize(
    ("header", "versions"),
    [
        ("PROD/VER:WINDOWS:4.0,5.0,5.5\n", ["4.0", "5.0", "5.5"]),
        ("PROD/VER:4.0 5.0\n", ["4.0", "5.0"]),
        ("PROD/VER:4.00\n", ["4.0"]),
        ("PROD/VER:WINDOWS:5.5; winnt:5.5,5.5 SP1\n", ["5.5"]),
        ("PROD/VER::8.01,8.02\n", []),  # Outlook's versions, not Exchange's
    ],
)
def test_header_forms(header: str, versions: list[str]) -> None:
    text = f"TITLE   :XCLN: A Title\n{header}OPER/SYS:\n\nSYMPTOMS\n\nIt fails.\n"
    assert [r.version for r in extract(text, "Q300001.txt").ranges] == versions


def test_the_applies_to_list_gives_versions_and_keeps_other_products() -> None:
    facts = _sample("s09_archive_events.txt")
    assert [r.version for r in facts.ranges] == ["5.0", "5.5"]
    assert facts.other_products == ["Outlook Web Access 5.5"]
    windows = _sample("s12_windows_fix.txt")
    assert [r.version for r in windows.ranges] == ["6.0"]
    assert windows.other_products == ["Windows 2000 Advanced Server"]


def test_versions_in_prose_are_not_products() -> None:
    text = "SYMPTOMS\n\nAfter an upgrade from Exchange Server 5.5 the store stops.\n"
    assert extract(text, "Q300002.txt").ranges == []


def test_a_client_list_and_a_flattened_list() -> None:
    flat = (
        "TITLE :XCLN: A Title PROD/VER:WINDOWS:4.0 The information in this article applies"
        " to: - Microsoft Exchange Windows 95/98 client, versions 4.0, 5.0 - Microsoft Outlook"
        " 97, version 8.03 ------------------------------------------ SYMPTOMS ======== x"
    )
    facts = extract(flat, "Q300003.txt")
    assert [r.version for r in facts.ranges] == ["4.0", "5.0"]
    assert facts.other_products == ["Outlook 97 8.03"]


# --------------------------------------------------------------------------- fixed_in


def test_a_feature_first_included_in_a_service_pack() -> None:
    assert _sample("s11_header_feature.txt").fixed_in_sp == ("5.5", 3)


def test_a_windows_service_pack_as_the_fix() -> None:
    facts = _sample("s12_windows_fix.txt")
    assert facts.fixed_in_sp is None  # a playbook's fixed_in is an Exchange version
    assert facts.fixed_in_other == ("Windows 2000", 2)
    assert facts.fixed_in == "Windows 2000 SP2"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("This problem was corrected in Microsoft Exchange Server 4.0 U.S. Service Pack 2.", 2),
        ("It was a post-SP2 fix, then rolled into Exchange Server 5.5 Service Pack 3 (SP3).", 3),
        ("This problem is corrected in SP3.", 3),  # the article's one version
        ("Obtain the latest service pack for Exchange Server 5.5.", None),
    ],
)
def test_fixed_in_sentences(sentence: str, expected: int | None) -> None:
    facts = _article(f"It fails.\n\nMORE INFORMATION\n================\n\n{sentence}\n")
    assert (facts.fixed_in_sp[1] if facts.fixed_in_sp else None) == expected


def test_a_referenced_articles_title_is_no_fixed_in() -> None:
    text = "It fails.\n\n   Q241211 List of Bugs Fixed in Windows NT 4.0 Service Pack 6\n"
    facts = _article(text)
    assert facts.fixed_in is None and facts.fixed_in_other is None


# --------------------------------------------------------------------------- fix tables


def test_fix_tables_of_every_layout() -> None:
    facts = _sample("s12_windows_fix.txt")
    rows = [(r.file, r.version, r.product) for r in facts.fix_files]
    assert rows == [
        ("Ntfs.sys", "5.0.2195.4710", None),  # "File name and path": the name only
        ("Store.exe", "6.0.5770.91", "6.0"),  # the same file under two versions keeps each
        ("Exoledb.dll", "6.0.5770.91", "6.0"),
        ("Store.exe", "6.5.6944.12", "6.5"),
    ]  # and the table of release builds "for reference" gives no rows
    assert any("not the fix's" in w for w in facts.warnings)


def test_a_boxed_table_without_a_header_row() -> None:
    facts = _sample("s11_header_feature.txt")
    assert [(r.file, r.version) for r in facts.fix_files] == [
        ("Store.exe", "5.5.2466.3"),
        ("Mdbsz.dll", "5.5.2466.3"),
    ]  # the files to verify afterwards are not the fix's


def test_a_two_part_build_as_the_version() -> None:
    facts = _article(
        "It fails.\n\nRESOLUTION\n==========\n\nThe English version of this fix should have"
        " the following file attributes or later:\n\n"
        "   | File name    | Version |\n   | Msexcimc.exe | 1459.73 |\n"
    )
    assert [(r.file, r.version) for r in facts.fix_files] == [("Msexcimc.exe", "1459.73")]


def test_the_footer_is_cut_off_when_the_header_has_its_own_keywords_line() -> None:
    """The archive's header carries `KEYWORDS:`; the footer's query words are not the
    article's words (here a code-like word that is no error the article presents)."""
    header = (
        "DOCUMENT:Q300000  01-JAN-2001  [exchange]\nTITLE   :XADM: A Sample\n"
        "PRODUCT :Microsoft Exchange\nKEYWORDS:kbbug kbfix\n\n"
    )
    facts = _article(
        "The service stops with error 1067.\n\n"
        "Additional query words: error 2140 failure 0x8004010F\n"
        "Keywords          : kbbug kbfix\n",
        header,
    )
    assert facts.codes == ["1067"]
    text = header + "SYMPTOMS\n========\n\nIt stops.\n\nAdditional query words: stops\n"
    last = split_sections(text)[-1]
    assert last.name == "SYMPTOMS" and "query words" not in text[last.start : last.end]
    no_heading = header + "It stops.\n\nAdditional query words: stops\n"
    (only,) = split_sections(no_heading)
    assert "It stops." in no_heading[only.start : only.end]


# An empty header field is no heading: the archive's header ends with `OPER/SYS:` and
# `KEYWORDS:`, often both empty, and a bare `KEYWORDS:` looks like a heading with a colon.
_BARE_HEADER = (
    "DOCUMENT:Q300010  02-FEB-2002  [exchange]\nTITLE   :XGEN: The Relay Halts\n"
    "PRODUCT :Microsoft Exchange\nPROD/VER::5.5\nOPER/SYS:\nKEYWORDS:\n\n"
)
_FOOTER_BLOCK = (
    "Additional query words: relay halt 0x8004ABCD event 4321\n\n"
    "======================================================================\n"
    "Keywords          : \nTechnology        : kbRelay\nIssue type        : kbbug\n"
)


def _body(text: str, section: str) -> str:
    return "".join(text[s.start : s.end] for s in split_sections(text) if s.name == section)


def test_an_empty_keywords_field_of_the_header_is_no_heading() -> None:
    text = (
        f"{_BARE_HEADER}SYMPTOMS\n========\n\nThe relay halts.\n\n"
        f"MORE INFORMATION\n================\n\nRestart it.\n\n{_FOOTER_BLOCK}"
    )
    names = [s.name for s in split_sections(text)]
    assert names[:3] == ["", "SYMPTOMS", "MORE INFORMATION"]
    assert _body(text, "MORE INFORMATION").strip() == "Restart it."
    # so no reader sees the search words: no event, no code from the footer
    facts = extract(text, "Q300010.txt")
    assert (facts.events, facts.codes) == ([], [])


def test_the_footer_is_cut_off_when_its_empty_keywords_field_is_the_only_heading() -> None:
    text = f"{_BARE_HEADER}Open the list and add the names.\n\n{_FOOTER_BLOCK}"
    first = split_sections(text)[0]
    assert text[first.start : first.end].rstrip().endswith("add the names.")


def test_a_heading_word_ending_the_sentence_above_is_no_heading() -> None:
    # "properties:" at a line's start closes a wrapped sentence; taken for a PROPERTIES
    # heading it hid the rest of the symptoms (and their event)
    facts = _article(
        "The relay rejects mail when a limit is set on the Routing tab of the relay's\n"
        "properties:\n\n - Accept mail only from listed hosts\n\n"
        "The log shows:\n\n   Event ID: 4321\n   Source: MSExchangeRelay\n"
    )
    assert _events(facts) == {4321: "MSExchangeRelay"}


def test_a_code_cut_short_by_the_title_is_the_bodys_whole_code() -> None:
    """Archive titles are cut at a fixed width: "Error 0x8004030" ending a title is the
    body's 0x80040301, one error, not two; short codes never hide behind longer ones."""
    header = "TITLE   :XADM: Store Fails with Error 0x8004030\n\n"
    facts = _article(
        "The store stops. Error 0x80040301 is logged, and later error 1067 and error 10670.\n"
        "The gateway reports error 80040c06-f2000312, the mover error 0x80040c06.\n",
        header,
    )
    assert facts.codes == ["0x80040301", "1067", "10670", "80040c06-f2000312", "0x80040c06"]
