"""The JSON report: the run document itself (`report/document.py`), one file per run."""

from __future__ import annotations

from pathlib import Path

from remediate.report.document import document_json
from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.results import AuditRun


def write_json(run: AuditRun, path: Path, context: ReportContext) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document_json(run), encoding="utf-8")


REPORTER = Reporter(name="json", extension="json", write=write_json)
