"""Reports in every format from a real audit of the demo fleet, and the run history."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from remediate.audit.session import AuditOutcome, audit_and_report
from remediate.history import History
from remediate.lab.server import Lab
from remediate.report.csv_report import render_csv
from remediate.report.document import run_document, run_from_document
from remediate.report.junit import render_junit
from remediate.rules.findings import Status
from remediate.rules.playbook import load_playbooks
from tests.conftest import PLAYBOOKS, AuditRequestFactory

ROOT = Path(__file__).resolve().parents[2]
JUNIT_XSD = ROOT / "tests" / "schemas" / "junit.xsd"
JSON_SCHEMA = ROOT / "remediate" / "report" / "schema" / "audit-1.json"


Audit = Callable[..., AuditOutcome]


@pytest.fixture(scope="session")
def audit(audit_request: AuditRequestFactory) -> Audit:
    """`audit(inventory, output, history=None, **changes)`: JSON, JUnit and CSV reports."""

    def run(inventory: Path, output: Path, history: Path | None = None, **changes: object):
        formats = ("json", "junit", "csv")
        request = audit_request(inventory, output, formats=formats, history=history, **changes)
        return audit_and_report(request)

    return run


@pytest.fixture(scope="module")
def demo_run(demo_inventory: Path, tmp_path_factory: pytest.TempPathFactory, audit: Audit):
    return audit(demo_inventory, tmp_path_factory.mktemp("reports")).run


def test_junit_validates_and_counts_as_the_issue_says(demo_run) -> None:
    xml = render_junit(demo_run)
    xmlschema.XMLSchema(JUNIT_XSD).validate(xml)
    root = xmlschema.XMLSchema(JUNIT_XSD).to_dict(xml)
    counts = demo_run.counts()
    failures = sum(
        counts[s]
        for s in (Status.MISSING_FIX, Status.AFFECTED, Status.INVESTIGATE, Status.NEEDS_REBOOT)
    )
    assert root["@failures"] == failures
    assert root["@errors"] == counts[Status.ERROR] + counts[Status.UNKNOWN]
    assert root["@skipped"] == counts[Status.NOT_APPLICABLE] + counts[Status.WAIVED]
    per_host = len(demo_run.playbooks)
    assert root["@tests"] == len(demo_run.findings) == len(demo_run.results) * per_host


def test_json_validates_against_our_schema(demo_run) -> None:
    document = json.loads(json.dumps(run_document(demo_run)))
    jsonschema.validate(document, json.loads(JSON_SCHEMA.read_text()))
    broken = json.loads(json.dumps(document))
    broken["hosts"][0]["findings"][0]["status"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(JSON_SCHEMA.read_text()))


def test_csv_has_one_row_per_host_and_article(demo_run) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(demo_run))))
    assert len(rows) == len(demo_run.results) * len(demo_run.playbooks)
    row = next(
        r
        for r in rows
        if r["host"] == "ex55-q193639-before.lab.local" and r["playbook"] == "Q193639"
    )
    assert row["status"] == "affected" and "Msexcimc.exe" in row["files_not_fixed"]


def test_a_stored_run_renders_again_from_its_document(demo_run) -> None:
    document = run_document(demo_run)
    again = run_from_document(json.loads(json.dumps(document)), load_playbooks([PLAYBOOKS]))
    assert run_document(again) == document
    assert render_junit(again) == render_junit(demo_run)


def test_two_runs_with_a_host_fixed_between_show_resolved(
    demo_lab: Lab,
    demo_inventory: Path,
    tmp_path: Path,
    audit: Audit,
) -> None:
    history = tmp_path / "history.sqlite"
    name = "ex2003-kb840469-before.lab.local"
    first = audit(demo_inventory, tmp_path, history, limit=name).run
    assert next(f for f in first.findings if f.playbook == "KB840469").status is Status.AFFECTED
    spec = demo_lab.host(name).spec
    mta = next(s for s in spec.services if s.name == "MSExchangeMTA")
    saved = (mta.state, mta.fails_to_start)
    mta.state, mta.fails_to_start = "running", False
    try:
        second = audit(demo_inventory, tmp_path, history, limit=name).run
    finally:
        mta.state, mta.fails_to_start = saved
    finding = next(f for f in second.findings if f.playbook == "KB840469")
    assert (finding.status, finding.drift) == (Status.COMPLIANT, "resolved")
    third = audit(demo_inventory, tmp_path, history, limit=name).run
    again = next(f for f in third.findings if f.playbook == "KB840469")
    assert (again.status, again.drift) == (Status.AFFECTED, "new")
    with History(history) as store:
        assert [r.run_id for r in store.runs()] == [third.run_id, second.run_id, first.run_id]
        stored = store.document(second.run_id[:-1])
    assert stored["run_id"] == second.run_id


def test_noncompliant_since_carries_over(
    demo_inventory: Path, tmp_path: Path, audit: Audit
) -> None:
    history = tmp_path / "h.sqlite"
    name = "ex55-q232602-before.lab.local"
    first = audit(demo_inventory, tmp_path, history, limit=name).run
    second = audit(demo_inventory, tmp_path, history, limit=name).run
    before = next(f for f in first.findings if f.playbook == "Q232602")
    after = next(f for f in second.findings if f.playbook == "Q232602")
    assert after.drift == "unchanged"
    assert after.noncompliant_since == before.noncompliant_since == first.started


def test_history_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_text("not a database")
    from remediate.history import HistoryError

    with pytest.raises(HistoryError, match="not a usable history database"):
        History(path)


def test_a_matched_state_symptom_has_no_count(demo_run) -> None:
    """A stopped service is seen or not: reports say its name, not "x0" (issue 17)."""
    from dataclasses import replace

    from remediate.report.csv_report import render_csv
    from remediate.report.junit import render_junit
    from remediate.rules.findings import Status, SymptomResult

    stopped = SymptomResult("mta_stopped", "service", True, "MSExchangeMTA is stopped")
    events = SymptomResult("errors", "events", True, "event 9318", count=3)
    result = demo_run.results[0]
    finding = replace(result.findings[0], status=Status.AFFECTED, symptoms=(stopped, events))
    run = replace(demo_run, results=[replace(result, findings=(finding,))])
    table, junit = render_csv(run), render_junit(run).decode()
    for text in (table, junit):
        assert "mta_stopped x0" not in text and "MSExchangeMTA is stopped x0" not in text
        assert "x3" in text
    assert "mta_stopped; errors x3" in table
