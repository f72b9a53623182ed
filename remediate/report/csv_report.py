"""CSV: one row per host x article, for spreadsheets and quick greps."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.results import AuditRun

COLUMNS = (
    "run_id",
    "host",
    "address",
    "transport",
    "dialect",
    "playbook",
    "status",
    "reason",
    "error_kind",
    "files_not_fixed",
    "symptoms_seen",
    "waiver",
    "drift",
    "noncompliant_since",
    "playbook_review",
)
"""Columns are only ever added at the end, so a spreadsheet or script reading by position
keeps working. `playbook_review` is `draft` for a playbook nobody has reviewed yet (imported
by `kb import`, `review: required`): its verdicts are the importer's reading of an article."""


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ would be a formula in a spreadsheet: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def render_csv(run: AuditRun) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    drafts = {p.id for p in run.playbooks if p.is_draft}
    for result in sorted(run.results, key=lambda r: r.host):
        for finding in result.findings:
            not_fixed = "; ".join(
                f"{v.file} {v.found or v.verdict}" for v in finding.files if not v.satisfied
            )
            seen = "; ".join(
                # a state has no count; a capped one reads "x200+"
                f"{s.name} x{s.count_text}" if s.kind == "events" else s.name
                for s in finding.symptoms
                if s.matched
            )
            since = finding.noncompliant_since.isoformat() if finding.noncompliant_since else ""
            writer.writerow(
                _cell(v)
                for v in (
                    run.run_id,
                    result.host,
                    result.address,
                    result.transport,
                    result.dialect,
                    finding.playbook,
                    finding.status.value,
                    finding.reason,
                    finding.error_kind,
                    not_fixed,
                    seen,
                    finding.waiver,
                    finding.drift,
                    since,
                    "draft" if finding.playbook in drafts else "",
                )
            )
    return out.getvalue()


def write_csv(run: AuditRun, path: Path, context: ReportContext) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_csv(run), encoding="utf-8", newline="")


REPORTER = Reporter(name="csv", extension="csv", write=write_csv)
