"""The audit end to end against the demo fleet: real transports, real sockets.

The command line's side (exit codes, messages, Ctrl-C) is in tests/cli/test_audit_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from remediate.audit.session import AuditOutcome, AuditStart, audit_and_report
from remediate.lab.fleet import load_fleet
from remediate.lab.server import Lab
from remediate.rules.results import HostResult
from tests.conftest import DEMO_FLEET, AuditRequestFactory
from tests.lab.test_fleet import EXPECTED_STATUS


def test_every_demo_host_gets_the_status_its_model_implies(
    demo_lab: Lab, demo_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    outcome = audit_and_report(audit_request(demo_inventory, tmp_path))
    run = outcome.run
    decided = {}
    for result in run.results:
        short = result.host.removesuffix(".lab.local")
        if short in EXPECTED_STATUS:
            article = EXPECTED_STATUS[short][0]
            finding = next(f for f in result.findings if f.playbook == article)
            decided[short] = (article, finding.status)
    assert decided == EXPECTED_STATUS
    assert demo_lab.open_shells() == 0
    assert run.exit_code() == 1


def test_failing_hosts_are_named_and_the_others_complete(
    demo_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    run = audit_and_report(audit_request(demo_inventory, tmp_path)).run
    errors = {r.host: r.error for r in run.results if r.error is not None}
    assert set(errors) == {"ex2003-down.lab.local", "ex2003-wrongpass.lab.local"}
    assert errors["ex2003-down.lab.local"].reason == "unreachable"  # type: ignore[union-attr]
    assert errors["ex2003-wrongpass.lab.local"].reason == "authentication"  # type: ignore[union-attr]
    assert len(run.results) == len(load_fleet(DEMO_FLEET).hosts)  # every demo host, once
    retry = (tmp_path / "remediate.retry").read_text().split()
    assert sorted(retry) == sorted(errors)


def test_windows_2000_host_is_audited_over_ssh_with_wsh(
    demo_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    run = audit_and_report(audit_request(demo_inventory, tmp_path, limit="w2k-*")).run
    assert {r.host for r in run.results} == {
        "w2k-ex55-q319936-before.lab.local",
        "w2k-ex2000-kb840469-before.lab.local",
    }
    for result in run.results:
        assert (result.transport, result.dialect, result.error) == ("ssh", "wsh", None)
        assert result.evidence is not None and result.evidence.engine == "wsh"


def test_json_report_carries_findings_and_evidence(
    demo_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    request = audit_request(demo_inventory, tmp_path, limit="ex55-q193639-before.lab.local")
    outcome = audit_and_report(request)
    document = json.loads(outcome.reports[0].read_text())
    assert document["schema"] == "remediate.audit/1"
    host = document["hosts"][0]
    finding = next(f for f in host["findings"] if f["playbook"] == "Q193639")
    assert finding["status"] == "affected"
    assert finding["files"][0]["file"] == "Msexcimc.exe"
    symptom = finding["symptoms"][0]
    assert symptom["matched"] and symptom["samples"][0]["data_hex"].startswith("740005000e000780")
    assert (tmp_path / "latest.json").read_text() == outcome.reports[0].read_text()


def test_the_caller_hears_of_the_start_and_of_every_host(
    demo_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    started: list[AuditStart] = []
    heard: list[HostResult] = []
    limit = "ex2003-healthy.lab.local:ex2003-down.lab.local"
    request = audit_request(demo_inventory, tmp_path, limit=limit, forks=3)
    outcome: AuditOutcome = audit_and_report(request, started.append, heard.append)
    assert len(started) == 1
    assert (started[0].hosts, started[0].forks) == (2, 3)
    assert set(started[0].playbooks) == {p.id for p in outcome.run.playbooks}
    assert sorted(r.host for r in heard) == sorted(r.host for r in outcome.run.results)
    assert [r.host for r in heard if r.error is not None] == ["ex2003-down.lab.local"]


def test_the_html_report_lists_the_steps_the_caller_makes_per_host(
    demo_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    """The session hands the report a step maker that finds each evidence's inventory host."""
    asked: list[tuple[str, str]] = []

    def steps(host, playbook, evidence) -> list[str]:  # type: ignore[no-untyped-def]
        assert host.name == evidence.host
        asked.append((host.name, playbook.id))
        return [f"made for {host.name} / {playbook.id}"]

    request = audit_request(
        demo_inventory,
        tmp_path,
        formats=("html",),
        limit="w2k-ex2000-kb840469-before.lab.local",
        step_lister=steps,
    )
    audit_and_report(request)
    page = (tmp_path / "latest.html").read_text()
    assert ("w2k-ex2000-kb840469-before.lab.local", "KB840469") in asked
    assert "made for w2k-ex2000-kb840469-before.lab.local / KB840469" in page
