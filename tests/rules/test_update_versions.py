"""Exchange updates counted CU by CU: servicing_branch, has_update, update_needed."""

from __future__ import annotations

import pytest

from remediate.rules.versions import FileVersion, has_update, servicing_branch, update_needed


def v(text: str) -> FileVersion:
    return FileVersion.parse(text)


# Exchange 2019 CU14 Oct25SU and CU15 Oct25SU (CSS-Exchange Get-ExchangeBuildVersionInformation)
OCT25 = [v("15.2.1544.36"), v("15.2.1748.39")]


@pytest.mark.parametrize(
    ("build", "branch"),
    [
        ("15.2.1544.36", (15, 2, 1544)),  # a CU from 2013 on
        ("15.0.1497.33", (15, 0, 1497)),
        ("14.3.513.0", (14, 3)),  # 2010 SP3 and its rollups
        ("8.3.83.6", (8, 3)),
        ("6.5.7638.1", (6, 5)),  # before 2007: one numbered line
    ],
)
def test_servicing_branch(build: str, branch: tuple[int, ...]) -> None:
    assert servicing_branch(v(build)) == branch


@pytest.mark.parametrize(
    ("build", "has", "needed"),
    [
        ("15.2.1544.33", False, "15.2.1544.36"),  # below its CU's update
        ("15.2.1544.36", True, None),  # at it
        ("15.2.1544.99", True, None),  # above it, newer than any table
        ("15.2.1748.10", False, "15.2.1748.39"),  # CU15 RTM: its own CU's update counts
        ("15.2.1748.43", True, None),
        ("15.2.1258.12", False, "15.2.1544.36"),  # an older CU: the first later one
        ("15.2.2562.17", True, None),  # a later branch than every update named
        ("15.2.1600.1", False, "15.2.1748.39"),  # between two: none of its own
    ],
)
def test_has_update_and_update_needed(build: str, has: bool, needed: str | None) -> None:
    assert has_update(v(build), OCT25) is has
    assert update_needed(v(build), OCT25) == (v(needed) if needed else None)


def test_no_updates_is_not_fixed() -> None:
    assert has_update(v("15.2.1544.36"), []) is False
    assert update_needed(v("15.2.1544.36"), []) is None


def test_the_lowest_update_of_a_branch_counts() -> None:
    updates = [v("15.2.1544.36"), v("15.2.1544.13")]  # Oct25SU and an earlier Nov24SU
    assert has_update(v("15.2.1544.14"), updates)
    assert update_needed(v("15.2.1544.4"), updates) == v("15.2.1544.13")


def test_legacy_lines_compare_by_number() -> None:
    sp2 = [v("6.5.7638")]
    assert has_update(v("6.5.7638.1"), sp2)
    assert not has_update(v("6.5.7226.0"), sp2)
    assert update_needed(v("6.5.7226.0"), sp2) == v("6.5.7638")
