"""`remediate audit` as a user runs it: exit codes, messages, Ctrl-C (moved from
tests/audit/test_audit.py, which tests the audit itself)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from tests.conftest import PLAYBOOKS, ROOT, interruptible

REMEDIATE = [sys.executable, "-m", "remediate"]


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


def test_bad_inventory_exits_2_with_file_and_line(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[web:vars]\nx=1\n")
    result = run_cli("audit", str(inventory), "-o", str(tmp_path))
    assert result.returncode == 2
    assert "hosts.ini:1" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_host_setting_is_that_hosts_configuration_error(tmp_path: Path) -> None:
    """The file is read; one host's unusable setting is its own error, the run exits 3."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[g]\nh1 ansible_port=notaport\n")
    result = run_cli("audit", str(inventory), "-o", str(tmp_path))
    assert result.returncode == 3, result.stdout + result.stderr
    shown = result.stdout.replace("\n", " ")
    assert "h1: configuration" in shown and "hosts.ini:2" in shown
    assert "Traceback" not in result.stderr


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
    faults: {{slow_probe_seconds: 30}}
"""
    for i in range(12)
)
# The audit's WinRM operation timeout with the default --timeout (120): the longest a Receive
# waits, and what Ctrl-C used to cost in silence (the workers were joined at exit).
OPERATION_TIMEOUT = 20


def test_ctrl_c_is_acknowledged_at_once_leaves_no_shell_and_writes_a_partial_report(
    tmp_path: Path,
) -> None:
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
            preexec_fn=interruptible,
        )
        lines: list[tuple[float, str]] = []
        reader = threading.Thread(
            target=lambda: lines.extend((time.monotonic(), line) for line in process.stdout),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        deadline = time.monotonic() + 30
        while lab.open_shells() < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lab.open_shells() == 4
        pressed = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        err = process.stderr.read()  # type: ignore[union-attr]
        elapsed = time.monotonic() - pressed
        reader.join(5)
        out = "".join(line for _, line in lines)
        assert process.returncode == 130, out + err
        assert "Traceback" not in err
        said = [moment for moment, line in lines if "stopping: closing 4 shells" in line]
        assert said and said[0] - pressed < 1.5, out  # at once, before the closing
        assert elapsed < OPERATION_TIMEOUT, f"exited {elapsed:.1f} s after Ctrl-C"
        assert lab.open_shells() == 0
    reports = list((tmp_path / "out").glob("audit-*.json"))
    assert len(reports) == 1
    document = json.loads(reports[0].read_text())
    assert document["interrupted"] is True
    assert len(document["hosts"]) == 12
    assert "interrupted" in out


def test_collect_reads_as_a_summary_and_as_json_lines_with_json(demo_inventory: Path) -> None:
    import json

    hosts = "ex2003-healthy.lab.local:ex2003-down.lab.local"
    common = ("--limit", hosts, "--playbooks", str(PLAYBOOKS), "--timeout", "10")
    readable = run_cli("collect", str(demo_inventory), *common)
    assert readable.returncode == 3, readable.stdout + readable.stderr
    text = readable.stdout
    assert "ex2003-healthy.lab.local: " in text and "Exchange" in text
    assert "\n  file " in text or "\n  service " in text or "\n  events " in text
    assert "ex2003-down.lab.local: error (unreachable)" in text.replace("\n", " ")
    assert "collected from 1 of 2 host(s)" in text
    assert not text.lstrip().startswith("{")
    scripted = run_cli("collect", str(demo_inventory), *common, "--json")
    documents = [json.loads(line) for line in scripted.stdout.splitlines() if line.strip()]
    assert {d["host"] for d in documents} == set(hosts.split(":"))
    healthy = next(d for d in documents if d["host"] == "ex2003-healthy.lab.local")
    assert healthy["evidence"]["os"]["caption"]
