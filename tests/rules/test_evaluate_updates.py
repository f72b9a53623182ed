"""Evaluation of playbooks that name product lines and CU/SU updates (issue 16): below, at and
above the required build, SE against 2019, a build newer than the table, roles, files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from remediate.catalog import exchange_builds
from remediate.rules.evaluate import evaluate, event_query_id, host_line
from remediate.rules.evidence import (
    EventMatches,
    EventSample,
    Evidence,
    ExchangeFacts,
    FileEvidence,
    OsFacts,
)
from remediate.rules.findings import Status
from remediate.rules.playbook import Playbook, parse_playbook

NOW = datetime(2026, 11, 20, tzinfo=UTC)
V15 = "C:\\Program Files\\Microsoft\\Exchange Server\\V15"

NOV24 = """\
id: CVE-2024-49040
title: November 2024 SU
applies_to:
  products:
    - {product: Exchange Server 2019}
fix:
  fixed_in:
    Exchange Server 2019: CU14 Nov24SU
"""


def playbook(text: str = NOV24, **swap: str) -> Playbook:
    for old, new in swap.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_playbook(text, "pb.yml")


def exchange(build: str, roles: tuple[str, ...] = ("Mailbox",), product: str | None = None):
    """What the collector's parser makes of a build (remediate.probes.collect)."""
    match = exchange_builds.lookup(build)
    return ExchangeFacts(
        product=product if product is not None else match.product,
        version=".".join(build.split(".")[:2]),
        build=build,
        service_pack=None,
        install_root=V15,
        roles=roles,
        update=match.update,
        released=match.released.isoformat() if match.released else "",
        newer_than_table=match.newer_than_table,
    )


def host(build: str, **parts: object) -> Evidence:
    roles = parts.pop("roles", ("Mailbox",))
    product = parts.pop("product", None)
    os = OsFacts(
        "Microsoft Windows Server 2019 Standard",
        "10.0.17763",
        17763,
        0,
        "x64",
        "EX19",
        "5.1",
        NOW,
        "UTC",
    )
    facts = exchange(build, roles, product)  # type: ignore[arg-type]
    return Evidence("ex19", "powershell", os, facts, False, **parts)  # type: ignore[arg-type]


def test_below_the_required_su_names_the_cu_su_it_needs() -> None:
    finding = evaluate(playbook(), host("15.2.1258.12"))  # 2019 CU13
    assert finding.status is Status.MISSING_FIX
    assert finding.reason == (
        "needs Exchange Server 2019 CU14 Nov24SU (15.2.1544.13) or later; "
        "has CU13 (15.2.1258.12); no symptoms seen"
    )
    same_cu = evaluate(playbook(), host("15.2.1544.11"))  # CU14 Apr24HU
    assert same_cu.status is Status.MISSING_FIX
    assert "needs Exchange Server 2019 CU14 Nov24SU (15.2.1544.13) or later" in same_cu.reason
    assert "has CU14 Apr24HU (15.2.1544.11)" in same_cu.reason


@pytest.mark.parametrize(
    "build",
    [
        "15.2.1544.13",  # at it
        "15.2.1544.14",  # its re-release
        "15.2.1748.10",  # a later CU
        "15.2.1544.99",  # newer than the build table: compared by number
        "15.2.1900.1",  # a CU the table does not know
    ],
)
def test_at_or_above_the_required_su_is_compliant(build: str) -> None:
    finding = evaluate(playbook(), host(build))
    assert finding.status is Status.COMPLIANT, finding.reason
    assert "has the fix" in finding.reason


def test_a_build_newer_than_the_table_is_reported_as_such() -> None:
    finding = evaluate(playbook(), host("15.2.1544.99"))
    assert finding.status is Status.COMPLIANT
    assert "newer than the build table" in finding.reason


def test_se_is_not_2019_though_both_are_15_2() -> None:
    se = host("15.2.2562.37")
    assert host_line(se.exchange) == "Exchange Server SE"  # type: ignore[arg-type]
    assert evaluate(playbook(), se).status is Status.NOT_APPLICABLE
    # a range of any 15.2 takes both; fixed_in names 2019 only, so SE has no named fix
    both = playbook(**{"{product: Exchange Server 2019}": "{version: '15.2'}"})
    finding = evaluate(both, se)
    assert finding.status is Status.MISSING_FIX
    assert "no update of Exchange Server SE is named as fixing it" in finding.reason
    with_se = playbook(
        **{
            "{product: Exchange Server 2019}": "{version: '15.2'}",
            "CU14 Nov24SU\n": "CU14 Nov24SU\n    Exchange Server SE: RTM Oct25SU\n",
        }
    )
    assert evaluate(with_se, se).status is Status.COMPLIANT
    assert evaluate(with_se, host("15.2.2562.17")).reason.startswith(
        "needs Exchange Server SE RTM Oct25SU (15.2.2562.29) or later; has RTM (15.2.2562.17)"
    )


def test_a_15_2_without_a_product_line_is_unknown_for_a_line_range() -> None:
    anonymous = host("15.2.1544.13", product="Microsoft Exchange Server 15.2")
    finding = evaluate(playbook(), anonymous)
    assert finding.status is Status.UNKNOWN
    assert "product line could not be read" in finding.reason
    # other versions have one line: the version tells it
    ex2016 = host("15.1.2507.44", product="")
    assert host_line(ex2016.exchange) == "Exchange Server 2016"  # type: ignore[arg-type]


def test_an_unreadable_build_is_unknown() -> None:
    any_15_2 = playbook(**{"{product: Exchange Server 2019}": "{version: '15.2'}"})
    facts = ExchangeFacts("Exchange Server 2019", "15.2", "unreadable", None, V15, ("Mailbox",))
    evidence = host("15.2.1544.13")
    finding = evaluate(any_15_2, Evidence("ex19", "powershell", evidence.os, facts, False))
    assert finding.status is Status.UNKNOWN
    assert "build of Exchange Server 2019 could not be read" in finding.reason


def test_min_update_bounds_the_range_cu_by_cu() -> None:
    ranged = playbook(
        **{
            "{product: Exchange Server 2019}": "{product: Exchange Server 2019, "
            "min_update: [CU11 Mar22SU, CU12]}"
        }
    )
    assert evaluate(ranged, host("15.2.986.14")).status is Status.NOT_APPLICABLE  # CU11 Nov21SU
    assert evaluate(ranged, host("15.2.986.22")).status is Status.MISSING_FIX  # CU11 Mar22SU
    assert evaluate(ranged, host("15.2.1118.7")).status is Status.MISSING_FIX  # CU12
    assert evaluate(ranged, host("15.2.922.27")).status is Status.NOT_APPLICABLE  # CU10
    outside = evaluate(ranged, host("15.2.922.27"))
    assert "the article concerns Exchange Server 2019 from CU11 Mar22SU or CU12" in outside.reason


def test_roles_decide_applicability() -> None:
    mailbox_only = playbook(
        **{
            "    - {product: Exchange Server 2019}\n": (
                "    - {product: Exchange Server 2019}\n  roles: [Mailbox]\n"
            )
        }
    )
    edge = evaluate(mailbox_only, host("15.2.1258.12", roles=("EdgeTransport",)))
    assert edge.status is Status.NOT_APPLICABLE
    assert "roles EdgeTransport; the article concerns servers with the Mailbox role" in edge.reason
    unknown = evaluate(mailbox_only, host("15.2.1258.12", roles=()))
    assert unknown.status is Status.UNKNOWN and "roles could not be read" in unknown.reason
    assert evaluate(mailbox_only, host("15.2.1258.12")).status is Status.MISSING_FIX


def test_symptoms_with_a_missing_update_are_affected_and_after_it_investigate() -> None:
    text = NOV24 + (
        "symptoms:\n  selections:\n    crash:\n      source: MSExchange Common\n"
        "      event_ids: [4999]\n"
    )
    with_symptoms = playbook(text)
    matches = EventMatches(
        event_query_id(with_symptoms, "crash"),
        3,
        NOW,
        NOW,
        (EventSample(NOW, "Error", "MSExchange Common", 4999, "Watson report"),),
    )
    affected = evaluate(with_symptoms, host("15.2.1258.12", events=(matches,)))
    assert affected.status is Status.AFFECTED
    assert affected.reason.endswith("has CU13 (15.2.1258.12); symptoms seen: crash (3)")
    fixed = evaluate(with_symptoms, host("15.2.1544.13", events=(matches,)))
    assert fixed.status is Status.INVESTIGATE


def test_a_v15_file_row_reads_the_file_under_the_detected_root() -> None:
    text = NOV24.replace(
        "fix:\n  fixed_in:\n    Exchange Server 2019: CU14 Nov24SU\n",
        "fix:\n  files:\n    - {file: ExSetup.exe, version: 15.2.1544.13, folder: 'V15\\Bin'}\n",
    )
    rows = playbook(text)
    row = rows.fix.files[0]
    found = FileEvidence(
        row.key, f"{V15}\\Bin\\ExSetup.exe", True, "15.2.1544.13", "15.02.1544.013", 1, NOW
    )
    assert row.key == "exchange:bin\\exsetup.exe"
    assert evaluate(rows, host("15.2.1544.13", files=(found,))).status is Status.COMPLIANT
    old = FileEvidence(row.key, found.path, True, "15.2.1258.12", None, 1, NOW)
    missing = evaluate(rows, host("15.2.1258.12", files=(old,)))
    assert missing.status is Status.MISSING_FIX
    assert "ExSetup.exe 15.2.1258.12 < 15.2.1544.13" in missing.reason


def test_files_or_the_update_each_suffice() -> None:
    text = NOV24 + "  files:\n    - {file: X.dll, version: 15.2.1544.13, folder: 'V15\\Bin'}\n"
    both = playbook(text)
    row = both.fix.files[0]
    old_file = FileEvidence(row.key, f"{V15}\\Bin\\X.dll", True, "15.2.1258.12", None, 1, NOW)
    new_file = FileEvidence(row.key, f"{V15}\\Bin\\X.dll", True, "15.2.1544.13", None, 1, NOW)
    assert evaluate(both, host("15.2.1544.13", files=(old_file,))).status is Status.COMPLIANT
    assert evaluate(both, host("15.2.1258.12", files=(new_file,))).status is Status.COMPLIANT
    neither = evaluate(both, host("15.2.1258.12", files=(old_file,)))
    assert neither.status is Status.MISSING_FIX
    assert "needs Exchange Server 2019 CU14 Nov24SU" in neither.reason
    assert "X.dll 15.2.1258.12 < 15.2.1544.13" in neither.reason
    # a file the collector did not return does not hide an update in place
    assert evaluate(both, host("15.2.1544.13")).status is Status.COMPLIANT
    assert evaluate(both, host("15.2.1258.12")).status is Status.UNKNOWN
