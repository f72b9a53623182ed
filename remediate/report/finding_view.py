"""One finding as the HTML page shows it: its reason, the steps made for its host when it
needs action, its fix files, required states, symptoms (the first sample shown, the others
folded) and notes; every value from a host or a playbook cleaned and cut (`page_text`)."""

from __future__ import annotations

from typing import Any

from remediate.errors import InputError
from remediate.report.page_text import Text, capped, iso_text, when_text
from remediate.report.reporter import HostSteps
from remediate.report.status_view import status_class
from remediate.rules.evidence import EventSample, Evidence
from remediate.rules.findings import NON_COMPLIANT, FileVerdict, Finding
from remediate.rules.playbook import Playbook


def _file(row: FileVerdict) -> dict[str, Any]:
    return {
        "file": capped(row.file),
        "path": capped(row.path),
        "required": capped(row.required or "present"),
        "found": capped(row.found or "-"),
        "verdict": row.verdict,
        "ok": row.satisfied,
        "modified": when_text(row.modified),
        "note": capped(row.note),
    }


def _sample(sample: EventSample) -> dict[str, Any]:
    return {
        "time": when_text(sample.time),
        "iso": iso_text(sample.time),
        "type": capped(sample.type),
        "source": capped(sample.source),
        "event_id": sample.event_id,
        "record": "-" if sample.record is None else sample.record,
        "message": capped(sample.message),
        "data_hex": capped(sample.data_hex),
    }


def _steps_for(
    finding: Finding, playbook: Playbook | None, evidence: Evidence | None, steps: HostSteps | None
) -> tuple[list[Text], Text | None]:
    if steps is None or playbook is None or evidence is None or not playbook.remediation:
        return [], None
    if finding.status not in NON_COMPLIANT:
        return [], None
    try:
        return [capped(line, 2000) for line in steps(playbook, evidence)], None
    except InputError as exc:  # a step this host's facts cannot fill
        return [], capped(exc, 1000)


def finding_view(
    finding: Finding,
    anchor: str,
    playbook: Playbook | None,
    evidence: Evidence | None = None,
    steps: HostSteps | None = None,
) -> dict[str, Any]:
    """The template's values for one finding; `anchor` names it (`<host anchor>-<article>`)."""
    resolved, unresolved = _steps_for(finding, playbook, evidence, steps)
    return {
        "steps": resolved,
        "steps_error": unresolved,
        "anchor": anchor,
        "playbook": finding.playbook,
        "title": capped(playbook.title if playbook else finding.playbook, 500),
        "draft": bool(playbook and playbook.is_draft),
        "status": finding.status.value,
        "status_class": status_class(finding.status),
        "reason": capped(finding.reason),
        "drift": finding.drift,
        "since": when_text(finding.noncompliant_since) if finding.noncompliant_since else None,
        "facts": [(capped(k, 200), capped(v)) for k, v in finding.facts],
        "files": [_file(row) for row in finding.files],
        "symptoms": [
            {
                "name": capped(s.name, 200),
                "kind": s.kind,
                "matched": s.matched,
                "known": s.known,
                "description": capped(s.description),
                "count": s.count,
                "count_text": s.count_text,
                "capped": s.capped,
                "first": when_text(s.first),
                "last": when_text(s.last),
                "samples": [_sample(sample) for sample in s.samples],
            }
            for s in finding.symptoms
        ],
        "symptoms_seen": sum(s.matched or not s.known for s in finding.symptoms),
        "requirements": [
            {
                "description": capped(r.description),
                "state": "not checked"
                if r.satisfied is None
                else "met"
                if r.satisfied
                else "not met",
            }
            for r in finding.requirements
        ],
        "error_kind": finding.error_kind,
        "hint": capped(finding.hint) if finding.hint else None,
        "waiver": capped(finding.waiver) if finding.waiver else None,
        "waived_status": finding.waived_status.value if finding.waived_status else None,
        "notes": [capped(note) for note in finding.notes],
        "remediation": (
            f"rem-{finding.playbook}"
            if playbook is not None
            and playbook.remediation
            and (finding.status in NON_COMPLIANT or finding.waived_status in NON_COMPLIANT)
            else None
        ),
    }
