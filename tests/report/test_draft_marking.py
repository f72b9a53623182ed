"""A draft playbook (`review: required`) is marked "draft" in every report format, and the
JSON document stays valid for its schema, old documents (without `draft`) included."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from remediate.report.csv_report import COLUMNS, render_csv
from remediate.report.document import run_document, run_from_document
from remediate.report.html import render_html
from remediate.report.junit import render_junit
from remediate.report.markdown import render_markdown
from remediate.report.reporter import ReportContext
from remediate.rules.findings import Finding, Status
from remediate.rules.playbook import Playbook, parse_playbook
from remediate.rules.results import AuditRun, HostResult

ROOT = Path(__file__).resolve().parents[2]
JUNIT_XSD = ROOT / "tests" / "schemas" / "junit.xsd"
JSON_SCHEMA = json.loads((ROOT / "remediate" / "report" / "schema" / "audit-1.json").read_text())
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CONTEXT = ReportContext(inventory="inventory/site-b.ini", generated_by="dana@ci")


def _playbook(ident: str, title: str, review: str | None) -> Playbook:
    text = f"""
id: {ident}
title: {title}
{f"review: {review}" if review else ""}
applies_to: {{products: [{{version: "5.5"}}]}}
fix: {{files: [{{file: Peerlink.dll, version: 5.5.2701.3, folder: bin}}]}}
remediation: [{{step: manual, name: Install the fix, instruction: Install it.}}]
"""
    return parse_playbook(text, f"playbooks/{'drafts/' if review else ''}{ident}.yml")


DRAFT = _playbook("Q498765", "Peer link stalls after a reset", "required")
REVIEWED = _playbook("Q412345", "Directory sync loops on a renamed site", None)


def _run() -> AuditRun:
    findings = (
        Finding("ex1", DRAFT.id, Status.MISSING_FIX, "Peerlink.dll is older"),
        Finding("ex1", REVIEWED.id, Status.MISSING_FIX, "Peerlink.dll is older"),
    )
    return AuditRun(
        "run-7", NOW, (REVIEWED, DRAFT), NOW - timedelta(days=7), [HostResult("ex1", findings)],
        finished=NOW,
    )  # fmt: skip


def test_json_names_drafts_and_validates() -> None:
    document = run_document(_run())
    jsonschema.validate(document, JSON_SCHEMA)
    drafts = {p["id"]: p["draft"] for p in document["playbooks"]}
    assert drafts == {DRAFT.id: True, REVIEWED.id: False}
    wrong = json.loads(json.dumps(document))
    wrong["playbooks"][0]["draft"] = "yes"
    with pytest.raises(jsonschema.ValidationError):  # a draft is true or false
        jsonschema.validate(wrong, JSON_SCHEMA)


def test_a_document_from_before_draft_still_validates_and_reads_back() -> None:
    document = run_document(_run())
    for playbook in document["playbooks"]:
        del playbook["draft"]
    jsonschema.validate(document, JSON_SCHEMA)
    again = run_from_document(document, [REVIEWED, DRAFT])
    # The playbooks say what is a draft when a stored run renders again.
    assert [p["draft"] for p in run_document(again)["playbooks"]] == [False, True]


def test_csv_marks_the_rows_of_a_draft_in_a_column_added_at_the_end() -> None:
    assert COLUMNS[-1] == "playbook_review" and COLUMNS[:2] == ("run_id", "host")
    rows = list(csv.DictReader(io.StringIO(render_csv(_run()))))
    assert {r["playbook"]: r["playbook_review"] for r in rows} == {
        DRAFT.id: "draft",
        REVIEWED.id: "",
    }


def test_junit_names_the_draft_suite_and_still_validates() -> None:
    xml = render_junit(_run())
    xmlschema.XMLSchema(JUNIT_XSD).validate(xml)
    text = xml.decode()
    assert f'name="{DRAFT.id} (draft): {DRAFT.title}"' in text
    assert f'name="{REVIEWED.id}: {REVIEWED.title}"' in text
    assert text.count("playbook: draft (review: required)") == 1


def test_markdown_marks_the_draft_article_and_lists_drafts() -> None:
    text = render_markdown(_run(), CONTEXT)
    assert f"| {DRAFT.id} (draft) |" in text and f"| {REVIEWED.id} |" in text
    assert f"Draft playbooks, not yet reviewed: {DRAFT.id}" in text


def test_html_marks_the_draft_wherever_the_article_is_named() -> None:
    page = render_html(_run(), inventory="inventory/site-b.ini", generated_by="dana@ci", now=NOW)
    tag = '<span class="draft-tag"'
    # Articles table, playbooks list, matrix header, the finding and the remediation section.
    assert page.count(tag) == 5
    assert 'class="draft-note"' in page
    plain = render_html(
        AuditRun("run-8", NOW, (REVIEWED,), NOW - timedelta(days=7), [], finished=NOW),
        inventory="inventory/site-b.ini",
        generated_by="dana@ci",
        now=NOW,
    )
    assert tag not in plain and 'class="draft-note"' not in plain
