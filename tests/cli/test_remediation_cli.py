"""`remediate plan|approve|apply|journal` as users run them, each as its own account
(moved from tests/remediation/test_apply.py, which tests planning and applying themselves)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.remediation.test_apply import EX2003, own_lab


def cli(*arguments: str, user: str) -> subprocess.CompletedProcess[str]:
    import os

    environ = {**os.environ, "USER": user, "LOGNAME": user, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "remediate", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environ,
    )


def test_the_cli_flow_plan_approve_check_and_refusals(tmp_path: Path) -> None:
    from remediate.lab.inventory_writer import write_inventory

    with own_lab([EX2003], 12) as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        path = tmp_path / "kb.plan.json"
        made = cli("plan", str(inventory), "--playbook", "kb840469", "-o", str(path), user="alice")
        assert made.returncode == 0, made.stderr
        assert "sysocmgr.exe" in made.stdout and "1 host(s) to remediate" in made.stdout
        self_approved = cli("approve", str(path), "--by", "bob", user="alice")
        assert self_approved.returncode == 2 and "four-eyes" in self_approved.stderr
        approved = cli("approve", str(path), "--by", "bob", "--comment", "CHG0042", user="bob")
        assert approved.returncode == 0, approved.stderr
        checked = cli("apply", str(path), "--check", "--yes", user="carol")
        assert checked.returncode == 0, checked.stderr
        assert "would run step 1 [windows_component]" in checked.stdout
        assert lab.host(EX2003).received[-1].name == "collect"  # nothing but audits ran
        tampered = tmp_path / "tampered.plan.json"
        tampered.write_text(path.read_text().replace("iis_smtp = off", "iis_www = off"))
        refused = cli("apply", str(tampered), "--yes", user="carol")
        assert refused.returncode == 2 and "does not match its hash" in refused.stderr
        assert not any(r.name == "step" for r in lab.host(EX2003).received)
        shown = cli("journal", str(path), user="carol")
        assert shown.returncode == 0 and "no journal" in shown.stdout


def test_hosts_that_cannot_be_audited_are_named_and_left_out(
    demo_inventory: Path, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    limit = "ex2003-down.lab.local:ex2003-wrongpass.lab.local"
    made = cli(
        "plan",
        str(demo_inventory),
        "--playbook",
        "KB840469",
        "-l",
        limit,
        "-o",
        str(path),
        user="alice",
    )
    assert made.returncode == 3, made.stdout + made.stderr
    assert "not audited, not planned: ex2003-down.lab.local: unreachable" in made.stdout
    assert "not audited, not planned: ex2003-wrongpass.lab.local: authentication" in made.stdout
    from remediate.remediation.plan import load_plan

    plan = load_plan(path)
    assert plan.hosts == []
    assert {h.host for h in plan.not_audited} == {
        "ex2003-down.lab.local",
        "ex2003-wrongpass.lab.local",
    }
    assert "Lab-Passw0rd" not in path.read_text() + made.stdout + made.stderr
