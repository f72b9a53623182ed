"""Fix-table rows of one Exchange version (`exchange_version`): an article that lists the same
files for Exchange 5.5 and for Exchange 2000 has each host judged by its own version's rows,
never "missing" a row meant for the other. The playbooks are our own (made-up article numbers
and builds)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.rules.evaluate import evaluate
from remediate.rules.evidence import Evidence, ExchangeFacts, FileEvidence, OsFacts
from remediate.rules.findings import Status
from remediate.rules.playbook import FixFile, PlaybookError, parse_playbook

NOW = datetime(2026, 11, 30, tzinfo=UTC)
FIXED_ON = datetime(2001, 3, 14, tzinfo=UTC)
TWO_VERSIONS = """id: Q400123
title: The store stops on a folder name that ends with a space
applies_to:
  products: [{version: "5.5"}, {version: "6.0"}]
fix:
  files:
    - {file: Store.exe, version: 5.5.2654.61, exchange_version: 5.5}
    - {file: Mdbsz.dll, version: 5.5.2654.61, exchange_version: Exchange Server 5.5}
    - {file: Store.exe, version: 6.0.6603.12, exchange_version: "6.0"}
    - {file: Mdbsz.dll, version: 6.0.6603.12, exchange_version: 6.0}
    - {file: Msvcr70.dll, version: 7.0.9466.0}
"""
PLAYBOOK = parse_playbook(TWO_VERSIONS, "Q400123.yml")


def host(version: str, files: dict[str, str | None], product: str = "") -> Evidence:
    """A server of `version` whose bin holds `files` (name -> version; None: absent)."""
    os = OsFacts("Microsoft Windows 2000 Server", "5.0.2195", 2195, 4, "x86", "EX", None, NOW, "")
    root = "C:\\exchsrvr" if version == "5.5" else "C:\\Program Files\\Exchsrvr"
    exchange = ExchangeFacts(product, version, f"{version}.1000.0", None, root)
    found = tuple(
        FileEvidence(
            f"exchange:bin\\{name}".lower(),
            f"{root}\\bin\\{name}",
            seen is not None,
            seen,
            seen,
            1000,
            FIXED_ON if seen else None,
        )
        for name, seen in files.items()
    )
    return Evidence("ex", "powershell", os, exchange, False, files=found)


def checked(finding_files: tuple) -> list[tuple[str, str | None, str]]:
    return [(v.file, v.required, v.verdict) for v in finding_files]


def test_rows_keep_their_exchange_version_on_load() -> None:
    assert [r.exchange_version for r in PLAYBOOK.fix.files] == [
        "5.5",
        "Exchange Server 5.5",
        "6.0",
        "6.0",  # YAML's number 6.0, read as the version it spells
        None,
    ]


def test_a_fixed_55_host_is_judged_by_the_55_rows_only() -> None:
    evidence = host(
        "5.5", {"Store.exe": "5.5.2654.61", "Mdbsz.dll": "5.5.2654.61", "Msvcr70.dll": "7.0.9466.0"}
    )
    finding = evaluate(PLAYBOOK, evidence)
    assert finding.status is Status.COMPLIANT, finding.reason
    assert checked(finding.files) == [
        ("Store.exe", "5.5.2654.61", "ok"),
        ("Mdbsz.dll", "5.5.2654.61", "ok"),
        ("Msvcr70.dll", "7.0.9466.0", "ok"),
    ]
    assert finding.notes == (
        "2 fix file row(s) of the article are for Exchange 2000 Server, not Exchange Server "
        "5.5: not checked",
    )


def test_an_unfixed_55_host_is_missing_only_its_own_rows() -> None:
    evidence = host(
        "5.5", {"Store.exe": "5.5.2653.23", "Mdbsz.dll": "5.5.2654.61", "Msvcr70.dll": "7.0.9466.0"}
    )
    finding = evaluate(PLAYBOOK, evidence)
    assert finding.status is Status.MISSING_FIX
    assert finding.reason == "Store.exe 5.5.2653.23 < 5.5.2654.61; no symptoms seen"
    assert "6.0.6603.12" not in str(finding.files)


@pytest.mark.parametrize(
    ("store", "status", "reason"),
    [
        ("6.0.6603.12", Status.COMPLIANT, "fix files in place; no symptoms after the fix"),
        ("6.0.6249.0", Status.MISSING_FIX, "Store.exe 6.0.6249.0 < 6.0.6603.12; no symptoms seen"),
    ],
)
def test_a_2000_host_is_judged_by_the_2000_rows_only(
    store: str, status: Status, reason: str
) -> None:
    evidence = host(
        "6.0", {"Store.exe": store, "Mdbsz.dll": "6.0.6603.12", "Msvcr70.dll": "7.0.9466.0"}
    )
    finding = evaluate(PLAYBOOK, evidence)
    assert (finding.status, finding.reason) == (status, reason)
    assert [v.required for v in finding.files] == ["6.0.6603.12", "6.0.6603.12", "7.0.9466.0"]
    assert finding.notes == (
        "2 fix file row(s) of the article are for Exchange Server 5.5, not Exchange 2000 "
        "Server: not checked",
    )


def test_a_host_of_a_version_without_rows_is_unknown_not_compliant() -> None:
    """No fixed_in and no row for 5.5: nothing says what fixes a 5.5 server."""
    rows_of_2000 = TWO_VERSIONS.split("  files:")[0] + (
        '  files:\n    - {file: Store.exe, version: 6.0.6603.12, exchange_version: "6.0"}\n'
    )
    playbook = parse_playbook(rows_of_2000, "Q400123.yml")
    finding = evaluate(playbook, host("5.5", {"Store.exe": "5.5.2654.61"}))
    assert finding.status is Status.UNKNOWN
    assert "file table has no row for Exchange Server 5.5, so" in finding.reason


def test_rows_of_a_product_line_tell_2019_from_se_and_say_when_they_cannot() -> None:
    playbook = parse_playbook(
        """id: Q400124
title: Two product lines of one version
applies_to: {products: [{version: "15.2"}]}
fix:
  files:
    - {file: Store.exe, version: 15.2.1544.36, folder: 'V15\\Bin', exchange_version: Exchange Server 2019}
    - {file: Store.exe, version: 15.2.2562.29, folder: 'V15\\Bin', exchange_version: exchange server se}
""",  # noqa: E501
        "Q400124.yml",
    )
    se = host("15.2", {}, product="Exchange Server SE")
    se = Evidence(
        se.host,
        se.engine,
        se.os,
        se.exchange,
        False,
        files=(
            FileEvidence("exchange:bin\\store.exe", "C:\\x\\Bin\\Store.exe", True, "15.2.2562.29"),
        ),
    )
    finding = evaluate(playbook, se)
    assert finding.status is Status.COMPLIANT, finding.reason
    assert [v.required for v in finding.files] == ["15.2.2562.29"]
    unnamed = Evidence(se.host, se.engine, se.os, host("15.2", {}).exchange, False, files=se.files)
    finding = evaluate(playbook, unnamed)
    assert finding.status is Status.UNKNOWN
    assert {v.verdict for v in finding.files} == {"unknown"}
    assert "product line is unknown" in finding.files[0].note


def test_a_row_without_exchange_version_concerns_every_host() -> None:
    row = FixFile(file="Msvcr70.dll", version="7.0.9466.0")
    assert row.for_exchange("5.5", None) and row.for_exchange("15.2", None)


@pytest.mark.parametrize("wrong", ["6.1", "Exchange 2001", "5"])
def test_an_unknown_exchange_version_is_a_lint_error_with_file_and_line(
    tmp_path: Path, wrong: str
) -> None:
    text = TWO_VERSIONS.replace('exchange_version: "6.0"', f'exchange_version: "{wrong}"')
    with pytest.raises(PlaybookError) as caught:
        parse_playbook(text, "Q400123.yml")
    message = str(caught.value)
    assert message.startswith("Q400123.yml:9: fix.files.2.exchange_version: ")
    assert f"{wrong!r} is not an Exchange version" in message
    assert "Exchange 2000 Server" in message  # the names it takes are listed
    (tmp_path / "Q400123.yml").write_text(text, encoding="utf-8")
    lint = subprocess.run(
        [sys.executable, "-m", "remediate", "playbook", "lint", "Q400123.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert lint.returncode != 0
    assert "Q400123.yml:9: fix.files.2.exchange_version" in lint.stdout + lint.stderr
    assert "Traceback" not in lint.stderr
