"""KB840469 remediation applied to the demo fleet's Exchange 2000 and 2003 hosts, for real.

The plan/approve/apply commands as a user runs them are in tests/cli/test_remediation_cli.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.connect.targets import ConnectOptions
from remediate.lab.server import Lab
from remediate.remediation.apply import ApplyOptions, apply_plan
from remediate.remediation.journal import Journal, journal_path
from remediate.remediation.plan import PlanError, save_plan
from remediate.remediation.planning import make_plan
from remediate.rules.playbook import load_playbooks
from tests.remediation.conftest import approvers_args, sign_and_approve

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = {p.id: p for p in load_playbooks([ROOT / "playbooks"])}["KB840469"]
EX2000 = "ex2000-kb840469-before.lab.local"
EX2003 = "ex2003-kb840469-before.lab.local"


@pytest.fixture
def fast_reboots(demo_lab: Lab):
    for name in (EX2000, EX2003):
        demo_lab.host(name).spec.faults.reboot_seconds = 1.0
    return demo_lab


def connect(inventory: Path) -> ConnectOptions:
    return ConnectOptions(known_hosts=(str(inventory.with_name("known_hosts")),), timeout=30)


INSTALLER = b"MZ Smtpreinstall.exe of the lab\r\n" * 4000  # 136 KB: three put_file chunks


def with_installer(inventory: Path) -> Path:
    """The inventory with `smtpreinstall_source` for the Exchange 2000 hosts: KB840469 copies
    that controller file to the host before it runs it (copy_from)."""
    installer = inventory.with_name("Smtpreinstall.exe")
    if not installer.exists():
        installer.write_bytes(INSTALLER)
    text = inventory.read_text(encoding="utf-8")
    if "[exchange2000]" in text and "smtpreinstall_source" not in text:
        text += f"\n[exchange2000:vars]\nsmtpreinstall_source={installer}\n"
        inventory.write_text(text, encoding="utf-8")
    return inventory


def planned(inventory: Path, tmp_path: Path, limit: str) -> Path:
    with_installer(inventory)
    plan = make_plan(inventory, PLAYBOOK, limit, "alice", connect(inventory), datetime.now(UTC))
    return sign_and_approve(save_plan(plan, tmp_path / "plan.json"))


def test_plan_check_then_apply_fixes_both_hosts(
    fast_reboots: Lab, demo_inventory: Path, tmp_path: Path
) -> None:
    from remediate.lab.answers.step import history
    from remediate.remediation.plan import load_plan

    path = planned(demo_inventory, tmp_path, f"{EX2000}:{EX2003}")
    plan = load_plan(path)
    assert {h.host for h in plan.hosts} == {EX2000, EX2003}
    before = {name: list(history(name)) for name in (EX2000, EX2003)}
    said: list[str] = []
    checked = apply_plan(
        path, plan, PLAYBOOK, ApplyOptions(check=True), connect(demo_inventory), say=said.append
    )
    assert {o.status for o in checked} == {"checked"}
    assert any("sysocmgr.exe" in line for line in said)
    assert {name: list(history(name)) for name in (EX2000, EX2003)} == before
    assert not journal_path(path).exists()

    outcomes = apply_plan(
        path,
        plan,
        PLAYBOOK,
        ApplyOptions(forks=2, confirm_manual=True, operator="carol", reboot_timeout=60),
        connect(demo_inventory),
    )
    assert {o.host: o.status for o in outcomes} == {EX2000: "done", EX2003: "done"}, outcomes
    for name in (EX2000, EX2003):
        mta = next(s for s in fast_reboots.host(name).spec.services if s.name == "MSExchangeMTA")
        assert mta.state == "running"
        assert "component iis_smtp off" in history(name) and "component iis_smtp on" in history(
            name
        )
    assert any("Smtpreinstall.exe" in event for event in history(EX2000))
    assert not any("Smtpreinstall.exe" in event for event in history(EX2003))
    events = Journal(journal_path(path)).entries()
    assert any(e.event == "confirm" and e.host == EX2003 for e in events)
    reboots = [e for e in events if e.event == "step_end" and "restarted" in str(e.data)]
    assert len(reboots) == 3 + 2  # three on Exchange 2000, two on 2003
    unattends = [
        r.arguments.get("unattend")
        for r in fast_reboots.host(EX2000).received
        if r.name == "step" and r.arguments.get("action") == "component"
    ]
    assert unattends == ["[Components]\r\niis_smtp = off\r\n", "[Components]\r\niis_smtp = on\r\n"]
    assert fast_reboots.open_shells() == 0


def test_unapproved_plans_do_not_run(demo_inventory: Path, tmp_path: Path) -> None:
    plan = make_plan(
        demo_inventory, PLAYBOOK, EX2003, "alice", connect(demo_inventory), datetime.now(UTC)
    )
    path = save_plan(plan, tmp_path / "plan.json")
    with pytest.raises(PlanError, match="not signed by its planner"):
        apply_plan(path, plan, PLAYBOOK, ApplyOptions(), connect(demo_inventory))
    signed = sign_and_approve(path, approvers=())
    result = subprocess.run(
        [sys.executable, "-m", "remediate", "apply", str(signed), "--yes", *approvers_args()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "needs 1 approval(s) by people other than the planner; it has 0" in result.stderr


def test_manual_step_waits_for_the_operator_then_resume(
    fast_reboots: Lab, demo_inventory: Path, tmp_path: Path
) -> None:
    from remediate.lab.answers.step import history
    from remediate.remediation.plan import load_plan

    # The earlier test fixed this host; break it again the way the article describes.
    spec = fast_reboots.host(EX2003).spec
    mta = next(s for s in spec.services if s.name == "MSExchangeMTA")
    mta.state, mta.fails_to_start = "stopped", True
    path = planned(demo_inventory, tmp_path, EX2003)
    plan = load_plan(path)
    first = apply_plan(
        path, plan, PLAYBOOK, ApplyOptions(reboot_timeout=60), connect(demo_inventory)
    )
    assert first[0].status == "waiting_for_operator"
    runs_before = len(history(EX2003))
    second = apply_plan(
        path,
        plan,
        PLAYBOOK,
        ApplyOptions(resume=True, confirm_manual=True, reboot_timeout=60),
        connect(demo_inventory),
    )
    assert second[0].status == "done", second
    new_events = history(EX2003)[runs_before:]
    assert not any(e.startswith("component") for e in new_events)  # not repeated
    assert mta.state == "running"


def test_sigkill_mid_plan_then_resume_runs_no_step_twice(tmp_path: Path) -> None:
    from remediate.lab.answers.step import history
    from remediate.lab.fleet import load_fleet
    from remediate.lab.inventory_writer import write_inventory

    fleet = load_fleet(ROOT / "inventory" / "lab" / "demo.yml")
    fleet.hosts = [h for h in fleet.hosts if h.name == EX2000]
    fleet.hosts[0].address = "127.28.0.1"
    fleet.hosts[0].faults.reboot_seconds = 1.0
    earlier = len(history(EX2000))  # the other tests' steps on a host of this name
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        path = planned(inventory, tmp_path, EX2000)
        command = [
            sys.executable,
            "-m",
            "remediate",
            "apply",
            str(path),
            "--yes",
            "--confirm-manual",
            "--reboot-timeout",
            "60",
        ]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        journal = Journal(journal_path(path))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(e.event == "step_end" and e.step == 1 for e in journal.entries()):
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        done_before = {e.step for e in journal.entries() if e.event == "step_end"}
        assert 1 in done_before
        (path.with_name(path.name + ".locks") / f"{EX2000}.lock").unlink(missing_ok=True)
        resumed = subprocess.run(
            [*command, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=240
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        events = history(EX2000)[earlier:]
        assert events.count("component iis_smtp off") == 1
        assert events.count("component iis_smtp on") == 1
        starts = [e.step for e in journal.entries() if e.event == "step_start"]
        finished_twice = [s for s in done_before if starts.count(s) > 1]
        assert finished_twice == []
        assert lab.open_shells() == 0
    written = [journal.path.read_text(), path.read_text(), resumed.stdout, resumed.stderr]
    assert all("Lab-Passw0rd" not in text for text in written)
    assert json.loads(path.read_text())["hosts"][0]["host"] == EX2000


def own_lab(names: list[str], first_address: int) -> Lab:
    """A lab of some demo hosts on their own addresses, with one-second reboots."""
    from remediate.lab.fleet import load_fleet

    fleet = load_fleet(ROOT / "inventory" / "lab" / "demo.yml")
    fleet.hosts = [h for h in fleet.hosts if h.name in names]
    for offset, spec in enumerate(fleet.hosts):
        spec.address = f"127.28.1.{first_address + offset}"
        spec.faults.reboot_seconds = 1.0
    return Lab(fleet, port_mode="ephemeral")


def test_a_host_down_mid_plan_fails_alone(tmp_path: Path) -> None:
    from remediate.lab.inventory_writer import write_inventory
    from remediate.remediation.plan import load_plan

    with own_lab([EX2000, EX2003], 1) as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        path = planned(inventory, tmp_path, "all")
        questions: list[str] = []

        def say(text: str) -> None:
            if text.startswith(f"{EX2003}: step 3 ["):
                lab.host(EX2003).spec.faults.down = True  # the power goes out

        def ask(question: str) -> bool:
            questions.append(question)
            return True

        outcomes = apply_plan(
            path,
            load_plan(path),
            PLAYBOOK,
            ApplyOptions(forks=2, confirm_manual=True, reboot_timeout=60),
            connect(inventory),
            say=say,
            ask=ask,
        )
        by_host = {o.host: o for o in outcomes}
        assert by_host[EX2000].status == "done", by_host
        assert by_host[EX2003].status == "failed"
        assert by_host[EX2003].message.startswith("unreachable")
        assert sorted(q.split(" ", 1)[0] for q in questions) == [EX2000, EX2003]
        ends = [e for e in Journal(journal_path(path)).entries() if e.event == "host_end"]
        assert {(e.host, (e.data or {}).get("status")) for e in ends} == {
            (EX2000, "done"),
            (EX2003, "failed"),
        }
        assert lab.open_shells() == 0


def test_an_operator_who_says_no_changes_nothing(tmp_path: Path) -> None:
    from remediate.lab.answers.step import history
    from remediate.lab.inventory_writer import write_inventory
    from remediate.remediation.plan import load_plan

    with own_lab([EX2003], 9) as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        path = planned(inventory, tmp_path, EX2003)
        earlier = len(history(EX2003))
        outcomes = apply_plan(
            path,
            load_plan(path),
            PLAYBOOK,
            ApplyOptions(),
            connect(inventory),
            ask=lambda question: False,
        )
        assert [o.status for o in outcomes] == ["declined"]
        assert history(EX2003)[earlier:] == []
        assert [e.event for e in Journal(journal_path(path)).entries()] == ["apply", "declined"]
