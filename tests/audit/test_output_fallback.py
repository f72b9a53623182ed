"""The audit session's destinations (issue 15): checked before any host is contacted, and the
run document saved elsewhere when writing fails at the end, so no result is lost.

The faults are real: a path under a regular file, a tmpfs filled while the hosts answer (the
session's own `on_start` callback fills it, after the checks and before the first host).
Mounting needs root; those tests are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from remediate.audit.session import AuditStart, audit_and_report
from remediate.cli.audit import print_unwritten
from remediate.errors import InputError
from remediate.history import HistoryError
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.report.document import run_document
from tests.cli.test_output_checks import fill, requests, tmpfs
from tests.conftest import AuditRequestFactory

HOSTS = "ex2003.lab.local:down.lab.local"  # one audited, one failed (so a retry file too)


@pytest.fixture(scope="module")
def inventory(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_inventory(lab, tmp_path_factory.mktemp("small") / "hosts.ini")


def test_unwritable_destinations_stop_the_run_before_any_host(
    lab: Lab, inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    started: list[AuditStart] = []
    before = requests(lab)
    cases = [
        (blocker / "reports", None, blocker / "reports"),
        (tmp_path / "reports", blocker / "history.sqlite", blocker / "history.sqlite"),
        (tmp_path / "reports", tmp_path, tmp_path),
    ]
    for output, history, named in cases:
        request = audit_request(inventory, output, limit=HOSTS, history=history)
        with pytest.raises(InputError) as raised:
            audit_and_report(request, on_start=started.append)
        assert str(raised.value).startswith(f"{named}: "), raised.value
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"SQLite format 3\0" + b"\xff" * 2000)
    with pytest.raises(HistoryError, match=r"damaged\.sqlite"):
        audit_and_report(
            audit_request(inventory, tmp_path / "r", limit=HOSTS, history=damaged),
            on_start=started.append,
        )
    assert started == []
    assert requests(lab) == before


def test_a_disk_that_fills_during_the_audit_loses_no_result(
    inventory: Path,
    tmp_path: Path,
    audit_request: AuditRequestFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fallback_dir = tmp_path / "tmp"
    fallback_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback_dir))
    with tmpfs(tmp_path / "disk", size="1m") as mount:
        output = mount / "reports"
        request = audit_request(
            inventory,
            output,
            limit=HOSTS,
            timeout=10.0,
            history=output / "history.sqlite",
            formats=("html", "json"),
        )
        outcome = audit_and_report(request, on_start=lambda _: fill(mount))
        left = sorted(p.name for p in output.iterdir())
    problems = "\n".join(outcome.unwritten)
    assert "history" in problems and "html report" in problems, problems
    assert "remediate.retry" in problems, problems
    assert outcome.reports == () and outcome.retry_file is None
    assert not [name for name in left if name.startswith(("audit-", "latest.", ".latest"))]
    assert outcome.fallback is not None and outcome.fallback.parent == fallback_dir
    assert outcome.fallback.name.startswith(f"remediate-run-{outcome.run.run_id}-")
    saved = json.loads(outcome.fallback.read_text(encoding="utf-8"))
    assert saved == run_document(outcome.run)
    assert sorted(h["name"] for h in saved["hosts"]) == sorted(HOSTS.split(":"))
    assert os.stat(outcome.fallback).st_mode & 0o077 == 0  # the fleet's facts: owner only


def test_when_no_folder_takes_the_run_it_goes_to_standard_output(
    inventory: Path,
    tmp_path: Path,
    audit_request: AuditRequestFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (
        tmpfs(tmp_path / "disk", size="1m") as disk,
        tmpfs(tmp_path / "elsewhere", size="64k") as elsewhere,
    ):
        # Every fallback folder (temp, current, home) on a second disk, full from the start.
        fill(elsewhere)
        monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
        monkeypatch.setenv("HOME", str(elsewhere))
        monkeypatch.chdir(elsewhere)
        request = audit_request(inventory, disk / "reports", limit=HOSTS, timeout=10.0)
        outcome = audit_and_report(request, on_start=lambda _: fill(disk))
        monkeypatch.chdir(tmp_path)
        assert sorted(p.name for p in elsewhere.iterdir()) == ["filler"]
    assert outcome.unwritten and outcome.fallback is None
    assert outcome.fallback_failures
    assert all("No space left on device" in f for f in outcome.fallback_failures)
    capsys.readouterr()
    print_unwritten(outcome)
    out, err = capsys.readouterr()
    assert "it follows on standard output" in err
    assert json.loads(out.strip().splitlines()[-1]) == run_document(outcome.run)
