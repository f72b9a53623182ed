"""A symptom count made from the probe's newest records, when older ones were left on the host,
is a floor: every report shows it as "200+", never as an exact 200 (issue 17)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from datetime import timedelta

import jsonschema

from remediate.audit.request import SAMPLES_FILTERED
from remediate.report.csv_report import render_csv
from remediate.report.document import SCHEMA_FILE, run_document, run_from_document
from remediate.report.html import render_html
from remediate.report.junit import render_junit
from remediate.rules.evaluate import evaluate
from remediate.rules.findings import Finding, Status, SymptomResult
from remediate.rules.results import AuditRun, HostResult
from tests.rules.test_evaluate import FIXED_ON, NOW, PLAYBOOKS, events, files_for, host, sample

Q232602 = PLAYBOOKS["Q232602"]
CAP = SAMPLES_FILTERED


def _association_errors(total: int, oldest: object = None) -> Finding:
    """Q232602 before its fix, with the `CAP` newest matching records sent of `total`."""
    samples = [sample(4284, "Error code=8511", NOW - timedelta(minutes=n)) for n in range(CAP)]
    if oldest is not None:
        samples[-1] = replace(samples[-1], time=oldest)
    evidence = replace(
        host(files=files_for(Q232602, "5.5.2448.0")),
        events=(events(Q232602, "association_error", *samples, total=total),),
    )
    return evaluate(Q232602, evidence)


def _symptom(finding: Finding) -> SymptomResult:
    return next(s for s in finding.symptoms if s.name == "association_error")


def test_a_count_from_the_newest_records_only_is_capped() -> None:
    finding = _association_errors(total=CAP + 250)
    symptom = _symptom(finding)
    assert finding.status is Status.AFFECTED
    assert symptom.count == CAP and symptom.capped and symptom.count_text == f"{CAP}+"
    assert f"association_error ({CAP}+)" in finding.reason
    assert f"({CAP})" not in finding.reason


def test_a_count_of_every_record_is_exact() -> None:
    finding = _association_errors(total=CAP)
    symptom = _symptom(finding)
    assert symptom.count == CAP and not symptom.capped and symptom.count_text == str(CAP)
    assert f"association_error ({CAP})" in finding.reason


def test_after_the_fix_a_count_is_capped_only_when_older_records_could_count() -> None:
    fixed = host(files=files_for(Q232602, "5.5.2614.0", FIXED_ON))
    recent = [sample(4284, "Error code=8511", NOW - timedelta(minutes=n)) for n in range(CAP)]
    all_after = replace(
        fixed, events=(events(Q232602, "association_error", *recent, total=CAP + 1),)
    )
    finding = evaluate(Q232602, all_after)
    assert finding.status is Status.INVESTIGATE and _symptom(finding).capped
    assert f"({CAP}+)" in finding.reason
    # the oldest record sent is before the fix: those left out are older still
    before = [*recent[:-1], replace(recent[-1], time=FIXED_ON - timedelta(days=1))]
    reaches_back = replace(
        fixed, events=(events(Q232602, "association_error", *before, total=CAP + 1),)
    )
    symptom = _symptom(evaluate(Q232602, reaches_back))
    assert symptom.count == CAP - 1 and not symptom.capped


def _run(finding: Finding) -> AuditRun:
    result = HostResult("ex", (finding,), evidence=host(), transport="winrm")
    return AuditRun("run-1", NOW, (Q232602,), NOW - timedelta(days=7), [result], finished=NOW)


def test_every_report_shows_the_cap_with_a_plus() -> None:
    run = _run(_association_errors(total=CAP + 250))
    html = render_html(run, inventory="hosts.ini", generated_by="ci", now=NOW)
    assert f"{CAP}+ matching event(s) (counted among the newest records read" in html
    assert f"{CAP} matching event(s)" not in html
    rows = list(csv.DictReader(io.StringIO(render_csv(run))))
    seen = " ".join(row["symptoms_seen"] for row in rows if row["playbook"] == "Q232602")
    assert f"association_error x{CAP}+" in seen
    junit = render_junit(run).decode("utf-8")
    assert re.search(rf"symptom association_error: [^\n<]* x{CAP}\+<", junit), junit


def test_json_carries_capped_and_reads_old_documents_as_exact() -> None:
    run = _run(_association_errors(total=CAP + 250))
    document = json.loads(json.dumps(run_document(run)))
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    stored = document["hosts"][0]["findings"][0]["symptoms"]
    assert [s["capped"] for s in stored if s["name"] == "association_error"] == [True]
    assert _symptom(run_from_document(document, [Q232602]).findings[0]).capped
    # a document written before the field: valid, and its counts exact
    for symptom in stored:
        del symptom["capped"]
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    assert not _symptom(run_from_document(document, [Q232602]).findings[0]).capped
