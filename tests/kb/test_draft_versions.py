"""A draft from an article whose fix table has a section per Exchange version: `kb import`
keeps each row's version (`exchange_version`), and the draft, audited against lab servers of
both versions over loopback, judges each server by its own version's rows. The article, its
numbers and the builds are our own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from remediate.audit.session import audit_and_report
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.rules.findings import Finding, Status
from tests.conftest import AuditRequestFactory

# One file per version listed twice (merged), and one file with the same version in both
# sections (two rows: one per version).
ARTICLE = """XADM: Information Store Stops When a Folder Name Ends With a Space (Q400789)

The information in this article applies to:

- Microsoft Exchange Server 5.5
- Microsoft Exchange 2000 Server

SYMPTOMS

A client creates a public folder whose name ends with a space. Soon after,
the Information Store stops and the following event appears in the
Application log:

Event Type: Error
Event Source: MSExchangeIS
Event Category: General
Event ID: 9176
Description:
The store could not normalise a folder name. Error code 0x8004010f.

CAUSE

The store trims the name in one place and not in another, so two lookups
of the same folder disagree.

RESOLUTION

A supported fix is available for each version. The English version of the
fix has the following file attributes or later.

Exchange Server 5.5

   Date         Time   Version       Size       File name
   --------------------------------------------------------
   11-Mar-2001  10:12  5.5.2654.61   5,120,000  Store.exe
   11-Mar-2001  10:12  5.5.2654.61     294,912  Mdbsz.dll
   11-Mar-2001  10:12  7.0.9466.0      344,064  Msvcr70.dll
   11-Mar-2001  10:12  5.5.2654.61   5,120,000  Store.exe

Exchange 2000 Server

   Date         Time   Version       Size       File name
   --------------------------------------------------------
   14-Mar-2001  16:40  6.0.6603.12   3,911,680  Store.exe
   14-Mar-2001  16:40  6.0.6603.12     303,104  Mdbsz.dll
   14-Mar-2001  16:40  7.0.9466.0      344,064  Msvcr70.dll

STATUS

Microsoft has confirmed that this is a problem in the products listed at
the beginning of this article.
"""
ROOT_55, ROOT_2000 = "C:\\exchsrvr", "C:\\Program Files\\Exchsrvr"
EXCHANGE = {  # the collector's facts: product, version, build, service pack, install root
    root: f"{{product: {product}, version: '{version}', build: {build}, service_pack: {sp}, "
    f"install_root: '{root}'}}"
    for root, product, version, build, sp in (
        (ROOT_55, "Microsoft Exchange Server 5.5", "5.5", "5.5.2653.23", 4),
        (ROOT_2000, "Microsoft Exchange 2000 Server", "6.0", "6.0.6249.0", 3),
    )
}


def lab_host(name: str, root: str, store: str, mdbsz: str) -> str:
    """A server under `root` whose bin holds Store.exe and Mdbsz.dll of these versions."""
    rows = [("Store.exe", store), ("Mdbsz.dll", mdbsz), ("Msvcr70.dll", "7.0.9466.0")]
    files = "".join(
        f"      - {{path: '{root}\\bin\\{file}', version: {version}, "
        "modified: 2001-03-20T00:00:00Z}\n"
        for file, version in rows
    )
    return f"  - name: {name}.lab.local\n    exchange: {EXCHANGE[root]}\n    files:\n{files}"


FLEET = (
    "name: rows\naddress_base: 127.46.0.1\nhosts:\n"
    + lab_host("ex55-fixed", ROOT_55, "5.5.2654.61", "5.5.2654.61")
    + lab_host("ex55-before", ROOT_55, "5.5.2653.23", "5.5.2654.61")
    + lab_host("ex2000-fixed", ROOT_2000, "6.0.6603.12", "6.0.6603.12")
    + lab_host("ex2000-before", ROOT_2000, "6.0.6603.12", "6.0.6249.0")
)


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The article imported as a user imports it: `remediate kb import` into drafts/."""
    work = tmp_path_factory.mktemp("kb")
    (work / "Q400789.txt").write_text(ARTICLE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "remediate", "kb", "import", "Q400789.txt", "-o", "drafts"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=work,
    )
    assert result.returncode == 0, result.stderr
    assert "fix file Store.exe: listed twice, merged into one row" in result.stderr
    # the same file under two versions is two rows, not a doubt about one row's version
    assert "unsure: fix file" not in result.stderr
    return work / "drafts"


def test_playbook_show_names_each_rows_exchange_version(drafts: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "remediate",
            "playbook",
            "show",
            "Q400789",
            "--playbooks",
            str(drafts),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert result.returncode == 0, result.stderr
    assert "Exchange" in result.stdout
    rows = [line for line in result.stdout.splitlines() if "Msvcr70.dll" in line]
    assert len(rows) == 2 and "5.5" in rows[0] and "6.0" in rows[1].split("7.0.9466.0")[1]


@pytest.fixture(scope="module")
def findings(
    drafts: Path, tmp_path_factory: pytest.TempPathFactory, audit_request: AuditRequestFactory
) -> Iterator[dict[str, Finding]]:
    """The draft audited on the four lab servers (WinRM over loopback, the real probe)."""
    work = tmp_path_factory.mktemp("audit")
    with Lab(parse_fleet(FLEET, "rows.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, work / "hosts.ini")
        request = audit_request(inventory, work / "reports", playbooks=(drafts,))
        run = audit_and_report(request).run
    yield {r.host.removesuffix(".lab.local"): r.findings[0] for r in run.results}


def test_each_row_keeps_its_exchange_version_and_only_true_repeats_merge(drafts: Path) -> None:
    draft = yaml.safe_load((drafts / "Q400789.yml").read_text(encoding="utf-8"))
    rows = [(r["file"], r["version"], r.get("exchange_version")) for r in draft["fix"]["files"]]
    assert rows == [
        ("Store.exe", "5.5.2654.61", "5.5"),
        ("Mdbsz.dll", "5.5.2654.61", "5.5"),
        ("Msvcr70.dll", "7.0.9466.0", "5.5"),
        ("Store.exe", "6.0.6603.12", "6.0"),
        ("Mdbsz.dll", "6.0.6603.12", "6.0"),
        ("Msvcr70.dll", "7.0.9466.0", "6.0"),  # same file and version, another Exchange: kept
    ]


def test_each_server_gets_the_status_of_its_own_versions_rows(
    findings: dict[str, Finding],
) -> None:
    assert {host: f.status for host, f in findings.items()} == {
        "ex55-fixed": Status.COMPLIANT,
        "ex55-before": Status.MISSING_FIX,
        "ex2000-fixed": Status.COMPLIANT,
        "ex2000-before": Status.MISSING_FIX,
    }
    assert findings["ex55-before"].reason == "Store.exe 5.5.2653.23 < 5.5.2654.61; no symptoms seen"
    assert (
        findings["ex2000-before"].reason == "Mdbsz.dll 6.0.6249.0 < 6.0.6603.12; no symptoms seen"
    )


def test_the_other_versions_rows_are_set_aside_not_missing(findings: dict[str, Finding]) -> None:
    for host, own, other in (
        ("ex55-fixed", "5.5.", "Exchange 2000 Server"),
        ("ex2000-fixed", "6.0.", "Exchange Server 5.5"),
    ):
        finding = findings[host]
        required = [v.required for v in finding.files if v.file != "Msvcr70.dll"]
        assert required and all(str(r).startswith(own) for r in required), finding.files
        assert [v.verdict for v in finding.files] == ["ok", "ok", "ok"]
        assert any(f"3 fix file row(s) of the article are for {other}" in n for n in finding.notes)
