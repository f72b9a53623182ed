"""Waivers: loading with clear errors, applying, and expiry."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediate.rules.findings import Finding, Status
from remediate.rules.waivers import WaiverError, apply_waivers, parse_waivers

WAIVERS = """
waivers:
  - hosts: ["ex55-*.lab.local"]
    playbook: Q232602
    justification: MTA retired when the bridgehead moved
    expires: 2026-12-31
    approved_by: J. Smith
  - hosts: ex2003.lab.local
    playbook: "*"
    justification: decommissioned
    expires: 2026-01-31
"""


def finding(host: str, playbook: str, status: Status) -> Finding:
    return Finding(host, playbook, status, "why")


def test_waiver_applies_until_it_expires() -> None:
    waivers = parse_waivers(WAIVERS, "w.yml")
    findings = [
        finding("ex55-a.lab.local", "Q232602", Status.AFFECTED),
        finding("ex55-a.lab.local", "Q193639", Status.MISSING_FIX),
        finding("ex55-b.lab.local", "Q232602", Status.COMPLIANT),
        finding("ex2003.lab.local", "KB840469", Status.AFFECTED),
    ]
    applied = apply_waivers(findings, waivers, date(2026, 11, 24))
    assert applied[0].status is Status.WAIVED and applied[0].waived_status is Status.AFFECTED
    assert "approved by J. Smith" in (applied[0].waiver or "")
    assert applied[1].status is Status.MISSING_FIX
    assert applied[2].status is Status.COMPLIANT
    assert applied[3].status is Status.AFFECTED
    assert applied[3].notes == ("waiver expired on 2026-01-31: decommissioned",)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("waivers:\n  - hosts: a\n    playbook: X\n    justification: ok then\n", "w.yml:2"),
        (
            "waivers:\n  - hosts: a\n    playbook: X\n    justification: gone\n    expires: soon\n",
            "w.yml:5",
        ),
        ("waivers: [\n", "w.yml:2"),
        ("other: 1\n", "w.yml:1"),
    ],
)
def test_bad_waivers_name_file_and_line(text: str, where: str) -> None:
    with pytest.raises(WaiverError) as error:
        parse_waivers(text, "w.yml")
    assert str(error.value).startswith(where)


@given(st.text(max_size=300))
def test_any_text_is_waivers_or_our_error(text: str) -> None:
    try:
        parse_waivers(text, "w.yml")
    except WaiverError:
        pass
