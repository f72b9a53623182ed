"""Windows version comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediate.rules.versions import FileVersion, VersionError, compare, parse_version


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("5.00.2614.3300", "5.0.2614.3300", 0),
        ("5.5.2614.0", "5.5.2614", 0),
        ("5.5.2656.20", "5.5.2656.3", 1),
        ("5.5.2448.0", "5.5.2614.0", -1),
        ("6.0.6547.0 (xpsp.080413-2111)", "6.0.6547.0", 0),
        ("10.0.1.0", "9.9.9.9", 1),
        ("5.5.2417.0", "5.5.2417.1", -1),
    ],
)
def test_compare(left: str, right: str, expected: int) -> None:
    assert compare(left, right) == expected


def test_parse_keeps_parts() -> None:
    assert parse_version("6.5.7638.1").parts == (6, 5, 7638, 1)
    assert str(parse_version("5.00.2614")) == "5.0.2614.0"


@pytest.mark.parametrize("text", ["", "N/A", "abc", "70000.1"])
def test_bad_versions(text: str) -> None:
    with pytest.raises(VersionError):
        parse_version(text)


@given(st.lists(st.integers(0, 65535), min_size=4, max_size=4))
def test_numeric_order_matches_tuple_order(parts: list[int]) -> None:
    text = ".".join(f"{p:05d}" for p in parts)
    assert FileVersion.parse(text).parts == tuple(parts)


@given(st.text(max_size=40))
def test_any_text_is_a_version_or_our_error(text: str) -> None:
    try:
        parse_version(text)
    except VersionError:
        pass
