"""Steps have their own timeouts, not the audit's: sysocmgr, ocsetup, ServerManager and
service-pack installers take minutes, and a step the controller stops waiting for is
journalled as still running, then checked (not rerun blindly) by a resume.

The lab's fleet gives a host `step_seconds`: its step actions answer only after that long (the
WinRS Receive faults with TimedOut meanwhile, as [MS-WSMV] 3.1.4.14 says) and their change
lands at the end. Durations are kept to a few seconds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.connect.targets import ConnectOptions
from remediate.lab.server import Lab
from remediate.remediation.apply import UNFINISHED, ApplyOptions, HostStatus, apply_plan
from remediate.remediation.journal import Journal, journal_path
from remediate.remediation.plan import describe_timeout, load_plan, save_plan
from remediate.remediation.planning import make_plan
from remediate.rules.playbook import Playbook, PlaybookError, Step, load_playbooks, parse_playbook
from tests.remediation.conftest import sign_and_approve

ROOT = Path(__file__).resolve().parents[2]
KB840469 = {p.id: p for p in load_playbooks([ROOT / "playbooks"])}["KB840469"]
EX2003 = "ex2003-kb840469-before.lab.local"
AUDIT_TIMEOUT = 3.0  # --timeout: every step below takes longer than this


def remove_smtp(**fields: object) -> Playbook:
    """KB840469 cut down to its first step: remove the SMTP component (sysocmgr on 2003)."""
    step = Step.model_validate(
        {"step": "windows_component", "action": "remove", "component": "smtp", **fields}
    )
    return KB840469.model_copy(update={"remediation": [step]})


@pytest.fixture(params=["winrm", "ssh"])
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The demo fleet's Exchange 2003 host on its own address, reached over one transport."""
    from remediate.lab.fleet import load_fleet

    fleet = load_fleet(ROOT / "inventory" / "lab" / "demo.yml")
    fleet.hosts = [h for h in fleet.hosts if h.name == EX2003]
    spec = fleet.hosts[0]
    spec.address = "127.28.3.1" if request.param == "winrm" else "127.28.3.2"
    if request.param == "ssh":
        spec.endpoints.http = spec.endpoints.https = False
    with Lab(fleet, port_mode="ephemeral") as running:
        yield running


def plan_for(lab: Lab, tmp_path: Path, playbook: Playbook) -> tuple[Path, ConnectOptions]:
    from remediate.lab.inventory_writer import write_inventory

    inventory = write_inventory(lab, tmp_path / "hosts.ini")
    connect = ConnectOptions(
        known_hosts=(str(inventory.with_name("known_hosts")),), timeout=AUDIT_TIMEOUT
    )
    plan = make_plan(inventory, playbook, EX2003, "alice", connect, datetime.now(UTC))
    assert [h.host for h in plan.hosts] == [EX2003], plan.not_audited
    return sign_and_approve(save_plan(plan, tmp_path / "plan.json")), connect


def component_steps(lab: Lab) -> int:
    received = lab.host(EX2003).received
    return sum(1 for r in received if r.name == "step" and r.arguments.get("action") == "component")


def test_a_step_longer_than_the_audit_timeout_succeeds(lab: Lab, tmp_path: Path) -> None:
    from remediate.lab.answers.step import history

    lab.host(EX2003).spec.step_seconds = {"component": AUDIT_TIMEOUT + 2.5}
    playbook = remove_smtp()
    path, connect = plan_for(lab, tmp_path, playbook)
    earlier = len(history(EX2003))
    outcomes = apply_plan(path, load_plan(path), playbook, ApplyOptions(), connect)
    assert [(o.status, o.steps_run) for o in outcomes] == [(HostStatus.DONE, 1)], outcomes
    assert history(EX2003)[earlier:] == ["component iis_smtp off"]
    ends = [e for e in Journal(journal_path(path)).entries() if e.event == "step_end"]
    assert [(e.step, (e.data or {})["status"]) for e in ends] == [(1, "ok")]
    assert (ends[0].data or {})["seconds"] >= AUDIT_TIMEOUT + 2
    assert lab.open_shells() == 0


def test_a_step_past_its_timeout_is_still_running_then_resume_checks_it(
    lab: Lab, tmp_path: Path
) -> None:
    from remediate.lab.answers.step import history

    seconds = 6.0
    lab.host(EX2003).spec.step_seconds = {"component": seconds}
    playbook = remove_smtp()
    path, connect = plan_for(lab, tmp_path, playbook)
    plan = load_plan(path)
    earlier = len(history(EX2003))
    started = time.monotonic()
    first = apply_plan(path, plan, playbook, ApplyOptions(step_timeout=2.0), connect)
    assert time.monotonic() - started < seconds  # it did not wait for the step
    assert first[0].status == HostStatus.STILL_RUNNING, first
    assert first[0].status in UNFINISHED
    assert "still running" in first[0].message
    journal = Journal(journal_path(path))
    events = [(e.event, e.step, (e.data or {}).get("status")) for e in journal.entries()]
    assert ("step_still_running", 1, None) in events
    assert not any(event == "step_end" for event, _, _ in events)  # not "failed"
    assert ("host_end", None, "still_running") in events
    assert history(EX2003)[earlier:] == []  # sysocmgr has not finished yet

    # Resumed while it still runs: the host does not show it done, so it is neither rerun
    # nor taken as done.
    second = apply_plan(path, plan, playbook, ApplyOptions(resume=True, step_timeout=2.0), connect)
    assert second[0].status == HostStatus.STILL_RUNNING, second
    assert component_steps(lab) == 1

    deadline = time.monotonic() + 2 * seconds
    while time.monotonic() < deadline and not history(EX2003)[earlier:]:
        time.sleep(0.2)
    assert history(EX2003)[earlier:] == ["component iis_smtp off"]
    third = apply_plan(path, plan, playbook, ApplyOptions(resume=True, step_timeout=2.0), connect)
    assert third[0].status == HostStatus.DONE, third
    assert component_steps(lab) == 1  # settled by the component's state, not run again
    last_end = [e for e in journal.entries() if e.event == "step_end"][-1]
    assert (last_end.data or {})["status"] == "ok"
    assert "component smtp is now as the step sets it" in (last_end.data or {})["message"]


def test_the_playbook_timeout_field() -> None:
    assert Step(step="run", timeout="45m").timeout == 2700
    assert Step(step="run", timeout="2h").timeout == 7200
    assert Step(step="service", timeout=90).timeout == 90
    head = (ROOT / "playbooks" / "KB840469.yml").read_text().split("remediation:")[0]
    for bad, says in (("45x", "not a duration"), ("0s", "more than 0 s"), ("25h", "at most 24h")):
        text = head + f"remediation:\n  - step: run\n    program: x.exe\n    timeout: {bad}\n"
        with pytest.raises(PlaybookError, match=says) as caught:
            parse_playbook(text, "bad.yml")
        assert "bad.yml" in str(caught.value) and "timeout" in str(caught.value)
        assert caught.value.line == text.count("\n")


def test_plan_shows_each_steps_timeout() -> None:
    from remediate.remediation.plan import PlannedStep

    def step(kind: str, timeout: int | None = None) -> PlannedStep:
        return PlannedStep(index=1, kind=kind, name="x", display="x", timeout=timeout)  # type: ignore[arg-type]

    assert describe_timeout(step("windows_component"), None, 600) == "timeout 1h 1m (default)"
    assert describe_timeout(step("run", 2700), None, 600) == "timeout 46m (playbook)"
    assert describe_timeout(step("reboot"), None, 600) == "timeout 10m (--reboot-timeout)"
    assert describe_timeout(step("run", 2700), 7200, 600) == "timeout 2h (--step-timeout)"
    assert "audit" in describe_timeout(step("verify"), None, 600)


@pytest.mark.parametrize("lab", ["winrm"], indirect=True)
def test_apply_step_timeout_on_the_command_line(lab: Lab, tmp_path: Path) -> None:
    playbook_dir = tmp_path / "playbooks"
    playbook_dir.mkdir()
    source = (ROOT / "playbooks" / "KB840469.yml").read_text()
    (playbook_dir / "KB840469.yml").write_text(source)
    path, _ = plan_for(lab, tmp_path, KB840469)
    base = [sys.executable, "-m", "remediate", "apply", str(path), "--playbooks", str(playbook_dir)]
    checked = subprocess.run(
        [*base, "--check", "--step-timeout", "45m"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "timeout 45m (--step-timeout)" in checked.stdout
    default = subprocess.run(
        [*base, "--check"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert "timeout 1h 1m (default)" in default.stdout
    bad = subprocess.run(
        [*base, "--step-timeout", "soon", "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert bad.returncode == 2
    assert "--step-timeout" in bad.stderr and "Traceback" not in bad.stderr


def test_the_steps_timeout_reaches_the_script(lab: Lab, tmp_path: Path) -> None:
    """A playbook `timeout:` is the script's own limit, not only the controller's wait:
    sysocmgr taking 5 s is stopped by the script under `timeout: 3s` (failed, with the
    script's message; the controller still waits 3 s + STEP_MARGIN for that answer), and
    finishes under `timeout: 10s` (the scripts' old fixed 3600 s would have let both run)."""
    from remediate.lab.answers.step import history

    lab.host(EX2003).spec.step_seconds = {"component": 5.0}
    short = remove_smtp(timeout="3s")
    path, connect = plan_for(lab, tmp_path, short)
    plan = load_plan(path)
    assert plan.hosts[0].steps[0].arguments["timeout"] == 3  # type: ignore[index]
    earlier = len(history(EX2003))
    started = time.monotonic()
    stopped = apply_plan(path, plan, short, ApplyOptions(), connect)
    assert time.monotonic() - started < 5.0  # answered at the script's limit
    assert stopped[0].status == HostStatus.FAILED, stopped
    assert "did not finish within 3 s" in stopped[0].message
    ends = [e for e in Journal(journal_path(path)).entries() if e.event == "step_end"]
    assert [(e.data or {})["status"] for e in ends] == ["failed"]
    time.sleep(2.5)  # step.ps1 killed sysocmgr: its change never lands
    assert history(EX2003)[earlier:] == []

    longer = remove_smtp(timeout="10s")
    second = tmp_path / "second"
    second.mkdir()
    path, connect = plan_for(lab, second, longer)
    done = apply_plan(path, load_plan(path), longer, ApplyOptions(), connect)
    assert [(o.status, o.steps_run) for o in done] == [(HostStatus.DONE, 1)], done
    assert history(EX2003)[earlier:] == ["component iis_smtp off"]
    assert lab.open_shells() == 0


def test_step_timeout_on_the_command_line_raises_the_scripts_limit() -> None:
    from remediate.remediation.plan import STEP_MARGIN, PlannedStep

    step = PlannedStep(
        index=1,
        kind="windows_component",
        name="x",
        display="x",
        arguments={"action": "component", "timeout": 3600},
    )
    assert step.script_arguments(None)["timeout"] == 3600
    # longer: the script may run until the controller's wait less the margin
    assert step.script_arguments(7200)["timeout"] == 7200 - STEP_MARGIN
    # shorter: the script keeps its limit; the controller stops waiting first (still running)
    assert step.script_arguments(2.0)["timeout"] == 3600
    reboot = step.model_copy(update={"kind": "reboot", "arguments": {"action": "reboot"}})
    assert reboot.script_arguments(7200) == {"action": "reboot"}


def test_ctrl_c_during_a_step_stops_at_once_and_resume_settles_it(lab: Lab, tmp_path: Path) -> None:
    """Ctrl-C in the middle of a 6 s step: acknowledged at once, exit 130 without waiting for
    the step, the step journalled as left running; the resume settles it from the host's state
    and does not run it again."""
    import signal

    from remediate.lab.answers.step import history
    from tests.conftest import interruptible

    seconds = 6.0
    lab.host(EX2003).spec.step_seconds = {"component": seconds}
    playbook_dir = tmp_path / "playbooks"
    playbook_dir.mkdir()
    playbook = remove_smtp()
    (playbook_dir / "KB840469.yml").write_text((ROOT / "playbooks" / "KB840469.yml").read_text())
    path, _ = plan_for(lab, tmp_path, playbook)
    earlier = len(history(EX2003))
    command = [sys.executable, "-m", "remediate", "apply", str(path), "--yes"]
    command += ["--playbooks", str(playbook_dir), "--timeout", str(AUDIT_TIMEOUT)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )
    journal = Journal(journal_path(path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        e.event == "step_start" for e in journal.entries()
    ):
        time.sleep(0.1)
    assert component_steps(lab) <= 1
    time.sleep(0.5)  # the step is running on the host now
    process.send_signal(signal.SIGINT)
    signalled = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert time.monotonic() - signalled < seconds - 2  # did not wait for the step
    assert "stopping: no new step starts; 1 step(s) left running" in out, out
    assert "Traceback" not in err
    events = [(e.event, e.step) for e in journal.entries()]
    assert ("step_still_running", 1) in events
    assert ("step_end", 1) not in events

    deadline = time.monotonic() + 2 * seconds
    while time.monotonic() < deadline and not history(EX2003)[earlier:]:
        time.sleep(0.2)
    resumed = subprocess.run(
        [*command, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert component_steps(lab) == 1  # settled by the component's state, never run twice
