"""A damaged collector output names the record (or event filter) and the field at fault.

`parse_evidence` adds the record's place to a message only when the record is bad (issue 18:
building it for every record cost CPU on every host); these pin the messages it gives.
"""

from __future__ import annotations

import pytest

from remediate.probes.collect import parse_evidence
from remediate.probes.framing import OutputFormatError, format_output

FACT = ("fact", {"name": "engine", "value": "powershell"})
EVENT = {"filter": "f1", "time": "2024-05-01T10:00:00Z", "event_id": "1000", "record": "7"}


def _error(*records: tuple[str, dict[str, str]]) -> str:
    with pytest.raises(OutputFormatError) as caught:
        parse_evidence("host", format_output("collect", records))
    return str(caught.value)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (("file", {"id": "a", "size": "12k"}), "record 2 (file): size is not a number: '12k'"),
        (("file", {"id": "a", "size": "-"}), "record 2 (file): size is not a number: '-'"),
        (
            ("file", {"id": "a", "modified": "May"}),
            "record 2 (file): modified is not a time: 'May'",
        ),
        (("event", {**EVENT, "event_id": "1e3"}), "record 2 (event): event_id is not a number"),
        (("event", {**EVENT, "record": "+7"}), "record 2 (event): record is not a number: '+7'"),
        (
            ("event", {**EVENT, "time": ""}),
            "record 2 (event): an event needs a time and an event_id",
        ),
        (("gossip", {"name": "x"}), "record 2 (gossip): unknown record kind"),
    ],
)
def test_a_bad_record_is_named(record: tuple[str, dict[str, str]], message: str) -> None:
    assert _error(FACT, record).startswith(message)


def test_a_bad_summary_is_named_by_its_filter() -> None:
    summary = ("events", {"id": "f1", "total": "2", "first": "yesterday"})
    assert _error(FACT, summary) == "events f1: first is not a time: 'yesterday'"
    assert _error(FACT, ("events", {"id": "f1", "total": "two"})) == (
        "events f1: total is not a number: 'two'"
    )


def test_numbers_and_times_that_are_good() -> None:
    records = [
        FACT,
        ("file", {"id": "a", "path": "C:\\x", "exists": "1", "size": "-0"}),
        ("events", {"id": "f1", "total": "1", "first": "2024-05-01T10:00:00"}),
        ("event", EVENT),
    ]
    evidence = parse_evidence("host", format_output("collect", records))
    assert evidence.files[0].size == 0
    (matches,) = evidence.events
    assert (matches.total, matches.first.isoformat()) == (1, "2024-05-01T10:00:00+00:00")
    assert (matches.samples[0].event_id, matches.samples[0].record) == (1000, 7)
