"""JUnit XML: one testcase per host x article, so CI systems show an audit like a test run.

missing_fix, affected, investigate and needs_reboot are failures; error and unknown are
errors; not_applicable and waived are skipped; compliant passes. One testsuite per article; a
draft playbook's (`review: required`) is named "ID (draft): title" and its failures and errors
say so, so a CI page never shows an unreviewed article's verdicts as a reviewed one's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, Finding, Status
from remediate.rules.results import AuditRun

SKIPPED = frozenset({Status.NOT_APPLICABLE, Status.WAIVED})


def _details(finding: Finding, draft: bool = False) -> str:
    lines = [f"status: {finding.status.value}", f"reason: {finding.reason}"]
    if draft:
        lines.append("playbook: draft (review: required), not yet checked against its article")
    for verdict in finding.files:
        if not verdict.satisfied:
            lines.append(
                f"file {verdict.path}: {verdict.verdict} (found {verdict.found or '-'}, "
                f"required {verdict.required or 'presence'})"
            )
    for symptom in finding.symptoms:
        if symptom.matched:
            # states have no count; a capped one reads "x200+"
            times = f" x{symptom.count_text}" if symptom.kind == "events" else ""
            lines.append(f"symptom {symptom.name}: {symptom.description}{times}")
    if finding.hint:
        lines.append(f"hint: {finding.hint}")
    if finding.waiver:
        lines.append(f"waiver: {finding.waiver}")
    lines += list(finding.notes)
    return "\n".join(lines)


def render_junit(run: AuditRun) -> bytes:
    elapsed = {r.host: r.elapsed for r in run.results}
    root = ET.Element("testsuites", name=f"remediate audit {run.run_id}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for playbook in run.playbooks:
        findings = sorted(
            (f for f in run.findings if f.playbook == playbook.id), key=lambda f: f.host
        )
        draft = " (draft)" if playbook.is_draft else ""
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{playbook.id}{draft}: {playbook.title}",
            timestamp=run.started.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for finding in findings:
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=playbook.id,
                name=finding.host,
                time=f"{elapsed.get(finding.host, 0.0):.3f}",
            )
            message = f"{finding.status.value}: {finding.reason}"
            if finding.status in NON_COMPLIANT:
                counts["failures"] += 1
                element = ET.SubElement(case, "failure", message=message, type=finding.status.value)
                element.text = _details(finding, playbook.is_draft)
            elif finding.status in UNDETERMINED:
                counts["errors"] += 1
                kind = finding.error_kind or finding.status.value
                element = ET.SubElement(case, "error", message=message, type=kind)
                element.text = _details(finding, playbook.is_draft)
            elif finding.status in SKIPPED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=message)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(run: AuditRun, path: Path, context: ReportContext) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_junit(run))


REPORTER = Reporter(name="junit", extension="xml", write=write_junit)
