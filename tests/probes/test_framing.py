"""The framed output format: round trips, strict validation, and fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediate.probes.framing import OutputFormatError, format_output, parse_output

HOSTILE = "a\tb\r\nREMEDIATE-END 0\n<script>\u00fc\U0001f600 $(x) `y` ; 'z' \"w\""


def test_round_trip_keeps_every_character() -> None:
    data = format_output("collect", [("fact", {"name": "x", "value": HOSTILE}), ("file", {})])
    records = parse_output(data, "collect")
    assert [r.kind for r in records] == ["fact", "file"]
    assert records[0].fields == {"name": "x", "value": HOSTILE}


class _Tagged(str):  # a str subclass whose str() is not its value, as (str, Enum) members
    def __str__(self) -> str:
        return f"tagged {super().__str__()}"


def test_values_are_written_as_the_scripts_print_them() -> None:
    fields = {
        "none": None,
        "yes": True,
        "no": False,
        "n": 42,
        "text": "\u00fc",
        "kind": _Tagged("error"),
    }
    records = parse_output(format_output("collect", [("fact", fields)]), "collect")
    # None is left out, booleans are 1 and 0, anything else is its str(), UTF-8 kept
    assert records[0].fields == {
        "yes": "1",
        "no": "0",
        "n": "42",
        "text": "\u00fc",
        "kind": str(_Tagged("error")),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "printed nothing"),
        (b"hello\r\n", "line 1: expected the output header"),
        (b"REMEDIATE-OUTPUT 2 collect\r\nREMEDIATE-END 0\r\n", "format version '2'"),
        (b"REMEDIATE-OUTPUT 1 other\r\nREMEDIATE-END 0\r\n", "output of script 'other'"),
        (b"REMEDIATE-OUTPUT 1 collect\r\nfact\tname=eA==\r\n", "truncated"),
        (b"REMEDIATE-OUTPUT 1 collect\r\nfact\tname=eA==\r\nREMEDIATE-END 2\r\n", "counts 2"),
        (b"REMEDIATE-OUTPUT 1 collect\r\nfact\tname=e!==\r\nREMEDIATE-END 1\r\n", "not base64"),
        (b"REMEDIATE-OUTPUT 1 collect\r\nFact x\r\nREMEDIATE-END 1\r\n", "line 2: not a record"),
        (b"REMEDIATE-OUTPUT 1 collect\r\nREMEDIATE-END 0\r\nmore\r\n", "continues after"),
        ("REMEDIATE-OUTPUT 1 collect\u00e9".encode(), "not ASCII"),
    ],
)
def test_damaged_output_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(OutputFormatError, match=message):
        parse_output(data, "collect")


@given(st.binary(max_size=2000))
def test_any_bytes_give_records_or_our_error(data: bytes) -> None:
    with contextlib.suppress(OutputFormatError):
        parse_output(data, "collect")


@given(st.text(max_size=300), st.integers(min_value=0, max_value=200))
def test_truncating_valid_output_is_always_detected(text: str, cut: int) -> None:
    data = format_output("collect", [("fact", {"name": "v", "value": text})] * 3)
    truncated = data[: max(0, len(data) - 1 - cut)]
    if truncated.rstrip(b"\r\n") == data.rstrip(b"\r\n"):
        return
    with pytest.raises(OutputFormatError):
        parse_output(truncated, "collect")


def test_invalid_utf8_in_a_field_is_kept_and_marked() -> None:
    import base64

    field = base64.b64encode(b"caf\xe9 \xff ok").decode()
    data = f"REMEDIATE-OUTPUT 1 collect\r\nfact\tvalue={field}\r\nREMEDIATE-END 1\r\n".encode()
    assert parse_output(data, "collect")[0].fields["value"] == "caf\ufffd \ufffd ok"


def test_a_utf8_bom_before_the_output_is_accepted() -> None:
    # PowerShell 2.0 (.NET 2.0) in a code page 65001 shell writes EF BB BF first.
    data = b"\xef\xbb\xbf" + format_output("collect", [("fact", {"name": "x", "value": "1"})])
    assert [r.fields for r in parse_output(data, "collect")] == [{"name": "x", "value": "1"}]


def test_a_bom_anywhere_else_is_still_refused() -> None:
    bom_inside = b"\r\n\xef\xbb\xbfREMEDIATE-END"
    data = format_output("collect", []).replace(b"\r\nREMEDIATE-END", bom_inside)
    with pytest.raises(OutputFormatError, match="not ASCII"):
        parse_output(data, "collect")
