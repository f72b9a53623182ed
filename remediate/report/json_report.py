"""The JSON report: the run document itself (`report/document.py`), one file per run."""

from __future__ import annotations

from pathlib import Path

from remediate.report.document import document_bytes
from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.results import AuditRun


def write_json(run: AuditRun, path: Path, context: ReportContext) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(document_bytes(run))  # UTF-8 as orjson writes it: not decoded, re-encoded


REPORTER = Reporter(name="json", extension="json", write=write_json)
