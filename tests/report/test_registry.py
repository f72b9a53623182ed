"""The reporter registry: every format it lists writes its file and `latest.<ext>`; nothing else
needs to know the formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from remediate.errors import InputError
from remediate.report.registry import REPORTERS, parse_formats, write_reports
from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.findings import Finding, Status
from remediate.rules.playbook import load_playbooks
from remediate.rules.results import AuditRun, HostResult

PLAYBOOKS = tuple(load_playbooks([Path(__file__).resolve().parents[2] / "playbooks"]))
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def small_run() -> AuditRun:
    results = [
        HostResult(
            host,
            tuple(Finding(host=host, playbook=p.id, status=status, reason="r") for p in PLAYBOOKS),
        )
        for host, status in (("ex1", Status.MISSING_FIX), ("ex2", Status.COMPLIANT))
    ]
    return AuditRun("run-1", NOW, PLAYBOOKS, NOW - timedelta(days=7), results, finished=NOW)


def test_the_four_formats_are_registered_under_their_names() -> None:
    assert list(REPORTERS) == ["html", "json", "junit", "csv", "md"]
    assert all(name == reporter.name for name, reporter in REPORTERS.items())
    assert REPORTERS["junit"].extension == "xml"


@pytest.mark.parametrize("name", list(REPORTERS))
def test_every_registered_format_writes_its_file_and_latest(name: str, tmp_path: Path) -> None:
    extension = REPORTERS[name].extension
    (path,) = write_reports(small_run(), (name,), tmp_path / "out", "hosts.ini", "me@ci")
    assert path == tmp_path / "out" / f"audit-run-1.{extension}"
    assert path.read_bytes() and "run-1" in path.read_text(encoding="utf-8")
    assert (tmp_path / "out" / f"latest.{extension}").read_bytes() == path.read_bytes()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [path.name, f"latest.{extension}"]
    )


def test_several_formats_at_once_in_the_order_asked(tmp_path: Path) -> None:
    paths = write_reports(small_run(), ("csv", "json"), tmp_path, "hosts.ini", "me")
    assert [p.name for p in paths] == ["audit-run-1.csv", "audit-run-1.json"]
    assert json.loads((tmp_path / "latest.json").read_text())["run_id"] == "run-1"


def test_the_html_report_names_the_inventory_and_who_asked(tmp_path: Path) -> None:
    (path,) = write_reports(small_run(), ("html",), tmp_path, "inventory/site-a.ini", "carol@ci")
    page = path.read_text(encoding="utf-8")
    assert "inventory/site-a.ini" in page and "carol@ci" in page


def test_format_names_are_parsed_loosely() -> None:
    assert parse_formats(" HTML, json,,junit ") == ("html", "json", "junit")


@pytest.mark.parametrize("text", ["pdf", "json,pdf", "", " , "])
def test_an_unknown_format_is_an_input_error_naming_the_known_ones(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_formats(text)
    assert "available: html, json, junit, csv, md" in str(caught.value)
    assert ("pdf" in str(caught.value)) == ("pdf" in text)


def test_write_reports_refuses_an_unknown_format_before_writing_anything(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown report format pdf; available: html"):
        write_reports(small_run(), ("json", "pdf"), tmp_path, "hosts.ini", "me")
    assert not any(tmp_path.iterdir())


def test_a_new_format_is_one_registered_reporter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write_hosts(run: AuditRun, path: Path, context: ReportContext) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        names = "\n".join(r.host for r in run.results)
        path.write_text(f"{context.inventory}\n{names}\n", encoding="utf-8")

    monkeypatch.setitem(REPORTERS, "hosts", Reporter("hosts", "txt", write_hosts))
    formats = parse_formats("hosts")
    (path,) = write_reports(small_run(), formats, tmp_path, "hosts.ini", "me")
    assert path.name == "audit-run-1.txt"
    assert (tmp_path / "latest.txt").read_text() == "hosts.ini\nex1\nex2\n"
