"""`remediate audit` end to end against the demo fleet: real transports, real sockets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from remediate.audit.session import AuditRequest, audit_and_report
from remediate.connect.targets import ConnectOptions
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from tests.lab.test_fleet import EXPECTED_STATUS

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
REMEDIATE = [sys.executable, "-m", "remediate"]


def audit(inventory: Path, output: Path, **options: object):
    request = AuditRequest(
        inventory=inventory,
        playbooks=(PLAYBOOKS,),
        output=output,
        timeout=20.0,
        connect=ConnectOptions(known_hosts=(str(inventory.with_name("known_hosts")),)),
        **options,  # type: ignore[arg-type]
    )
    return audit_and_report(request)


def test_every_demo_host_gets_the_status_its_model_implies(
    demo_lab: Lab, demo_inventory: Path, tmp_path: Path
) -> None:
    outcome = audit(demo_inventory, tmp_path)
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
    demo_inventory: Path, tmp_path: Path
) -> None:
    run = audit(demo_inventory, tmp_path).run
    errors = {r.host: r.error for r in run.results if r.error is not None}
    assert set(errors) == {"ex2003-down.lab.local", "ex2003-wrongpass.lab.local"}
    assert errors["ex2003-down.lab.local"].reason == "unreachable"  # type: ignore[union-attr]
    assert errors["ex2003-wrongpass.lab.local"].reason == "authentication"  # type: ignore[union-attr]
    assert len(run.results) == 21
    retry = (tmp_path / "remediate.retry").read_text().split()
    assert sorted(retry) == sorted(errors)


def test_windows_2000_host_is_audited_over_ssh_with_wsh(
    demo_inventory: Path, tmp_path: Path
) -> None:
    run = audit(demo_inventory, tmp_path, limit="w2k-*").run
    assert {r.host for r in run.results} == {
        "w2k-ex55-q319936-before.lab.local",
        "w2k-ex2000-kb840469-before.lab.local",
    }
    for result in run.results:
        assert (result.transport, result.dialect, result.error) == ("ssh", "wsh", None)
        assert result.evidence is not None and result.evidence.engine == "wsh"


def test_json_report_carries_findings_and_evidence(demo_inventory: Path, tmp_path: Path) -> None:
    outcome = audit(demo_inventory, tmp_path, limit="ex55-q193639-before.lab.local")
    document = json.loads(outcome.reports[0].read_text())
    assert document["schema"] == "remediate.audit/1"
    host = document["hosts"][0]
    finding = next(f for f in host["findings"] if f["playbook"] == "Q193639")
    assert finding["status"] == "affected"
    assert finding["files"][0]["file"] == "Msexcimc.exe"
    symptom = finding["symptoms"][0]
    assert symptom["matched"] and symptom["samples"][0]["data_hex"].startswith("740005000e000780")
    assert (tmp_path / "latest.json").read_text() == outcome.reports[0].read_text()


def run_cli(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REMEDIATE, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def test_exit_code_zero_when_everything_is_compliant(demo_inventory: Path, tmp_path: Path) -> None:
    result = run_cli(
        "audit",
        str(demo_inventory),
        "--limit",
        "ex2003-healthy.lab.local",
        "-o",
        str(tmp_path),
        "--playbooks",
        str(PLAYBOOKS),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_exit_code_three_for_host_errors_only(demo_inventory: Path, tmp_path: Path) -> None:
    result = run_cli(
        "audit",
        str(demo_inventory),
        "--limit",
        "ex2003-down.lab.local:ex2003-healthy.lab.local",
        "-o",
        str(tmp_path),
        "--playbooks",
        str(PLAYBOOKS),
        "--timeout",
        "10",
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "ex2003-down.lab.local: unreachable" in result.stdout.replace("\n", " ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[web:vars]\nx=1\n", "hosts.ini:1"),
        ("[g]\nh1 ansible_port=notaport\n", "hosts.ini:2"),
    ],
)
def test_bad_inventory_exits_2_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(text)
    result = run_cli("audit", str(inventory), "-o", str(tmp_path))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_playbook_exits_2_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("id: Q1\ntitle: x\napplies_to: {products: []}\nfix: {}\n")
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("h1\n")
    result = run_cli("audit", str(inventory), "--playbooks", str(tmp_path / "bad.yml"))
    assert result.returncode == 2
    assert "bad.yml:1: id" in result.stderr and "Traceback" not in result.stderr


SLOW_FLEET = """
address_base: 127.23.0.1
hosts:
""" + "".join(
    f"""  - name: slow{i:02d}.lab.local
    exchange: {{version: "6.5", build: 6.5.7638.1}}
    faults: {{slow_probe_seconds: 3}}
"""
    for i in range(12)
)


def test_ctrl_c_leaves_no_shell_and_writes_a_partial_report(tmp_path: Path) -> None:
    with Lab(parse_fleet(SLOW_FLEET, "slow.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        process = subprocess.Popen(
            [
                *REMEDIATE,
                "audit",
                str(inventory),
                "-o",
                str(tmp_path / "out"),
                "--forks",
                "4",
                "--playbooks",
                str(PLAYBOOKS),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while lab.open_shells() < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lab.open_shells() == 4
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, out + err
        time.sleep(0.5)
        assert lab.open_shells() == 0
    reports = list((tmp_path / "out").glob("audit-*.json"))
    assert len(reports) == 1
    document = json.loads(reports[0].read_text())
    assert document["interrupted"] is True
    assert len(document["hosts"]) == 12
    assert "interrupted" in out
