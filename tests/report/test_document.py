"""The run document: its text and its data are one document, and it says its schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from remediate.errors import InputError
from remediate.report.document import (
    SCHEMA_FILE,
    SCHEMA_VERSION,
    document_json,
    run_document,
    run_from_document,
)
from remediate.rules.findings import Finding, Status
from remediate.rules.results import AuditRun, HostResult

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def small_run() -> AuditRun:
    finding = Finding(host="ex1", playbook="KB840469", status=Status.UNKNOWN, reason="no facts")
    results = [HostResult("ex1", (finding,), transport="ssh", elapsed=0.5)]
    return AuditRun("run-1", NOW, (), NOW - timedelta(days=7), results)


def test_the_text_and_the_data_are_the_same_document() -> None:
    run = small_run()
    document = run_document(run)
    assert json.loads(document_json(run)) == document
    assert document["schema"] == SCHEMA_VERSION == "remediate.audit/1"
    assert document["started"] == "2026-11-24T12:00:00Z"
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))


def test_a_document_of_another_schema_is_not_read_as_ours() -> None:
    document = run_document(small_run())
    assert run_document(run_from_document(document, [])) == document
    for schema in ("remediate.audit/2", None):
        foreign = {**document, "schema": schema}
        with pytest.raises(InputError, match=r"this remediate reads 'remediate\.audit/1'"):
            run_from_document(foreign, [])
