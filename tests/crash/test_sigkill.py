"""Crash tests: `remediate audit` and `remediate apply` killed (SIGKILL) at random points.

After each kill: the history database passes `PRAGMA integrity_check` and its runs read back,
a report file present is whole, a rerun ends as a normal run would and records its run; an
apply resumed (`apply --resume --yes`, again until the host is done) runs no step twice, and
its journal parses.

Kill points are random delays within the measured duration of one whole run, so they land in
every phase (start-up, connect, collect, evaluate, history, reports; between and inside steps).
Each trial has its own seed, printed with its delay: a failure names the seed, and
`REMEDIATE_CRASH_SEED=<seed> REMEDIATE_CRASH_TRIALS=1` replays that trial alone (the delay is a
fraction of the duration measured on the machine at hand, so the moment is the same share of a
run, not the same millisecond). `make test` runs 12 trials of each (about a minute each on two
cores, a share of CI's time budget); a soak is `REMEDIATE_CRASH_TRIALS=100`.

What "no step runs twice" allows: a step that the journal shows started and not ended when the
kill landed (the controller died while the host ran it) may run once more on resume, since the
controller cannot know whether the host finished it (the lab lands a slow step's change when it
ends, after the controller died). Every other step's change appears exactly once in the lab's
step history; a step that ended ok is never started again.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from remediate.history import History
from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from remediate.remediation.journal import Journal, journal_path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Lab-Passw0rd!"
TRIALS = int(os.environ.get("REMEDIATE_CRASH_TRIALS", "12"))
_SEED = os.environ.get("REMEDIATE_CRASH_SEED")
AUDIT_SEEDS = [int(_SEED)] if _SEED else [15_100 + n for n in range(TRIALS)]
APPLY_SEEDS = [int(_SEED)] if _SEED else [15_200 + n for n in range(TRIALS)]

pytestmark = [pytest.mark.lab, pytest.mark.timeout(420)]


def remediate(*args: str) -> list[str]:
    return [sys.executable, "-m", "remediate", *args]


@dataclass
class Killed:
    seed: int
    delay: float
    finished_first: bool  # the run ended before the kill landed
    returncode: int | None


def kill_after(
    command: list[str], delay: float, log: Path, seed: int, after: Path | None = None
) -> Killed:
    """Start `command`, SIGKILL it `delay` seconds later (unless it already ended); with
    `after`, `delay` seconds after that file appears (start-up time varies with the load of
    the machine: the kill still lands at the same share of the work)."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        while after is not None and not after.exists() and process.poll() is None:
            time.sleep(0.01)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
    finished = process.returncode != -signal.SIGKILL
    return Killed(seed, delay, finished, process.returncode)


def kill_delay(seed: int, duration: float, tail: float = 0.0) -> float:
    """A point within one run of `duration` seconds; with `tail`, that share of the trials
    lands in the run's last fifth (an audit writes its history and reports in its last tenth
    of a second: uniform points would rarely land there)."""
    rng = random.Random(seed)
    if rng.random() < tail:
        return rng.uniform(0.8 * duration, 1.02 * duration)
    return rng.uniform(0.05 * duration, 0.95 * duration)


def expire_idle_shells(lab: Lab) -> None:
    """What WinRM does to a shell nobody uses for IdleTimeout (winrm/config/winrs IdleTimeout,
    7200000 ms by default: "The remote shell is automatically deleted after the time
    specified", learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-
    windows-remote-management, "Winrs default configuration settings"). The lab keeps no such
    clock; with every controller dead, every shell left is idle: delete them all."""
    for runtime in lab._runtime.values():
        lab._call(_close_all(runtime.service))


async def _close_all(service: Any) -> None:
    service.close_all()  # on the lab's loop, where the shell service runs


# -- audit ------------------------------------------------------------------------------------

AUDIT_FLEET = """
name: crash-audit
address_base: 127.29.15.1
hosts:
  - name: ex2003.crash.lab.local
    exchange: {product: Microsoft Exchange Server 2003, version: "6.5", build: 6.5.7638.1}
    faults: {slow_probe_seconds: 0.8}
  - name: w2k.crash.lab.local
    os:
      caption: Microsoft Windows 2000 Server
      version: 5.0.2195
      build: 2195
      service_pack: 4
      powershell: null
      winrm: false
    faults: {slow_probe_seconds: 0.5}
  - name: slow.crash.lab.local
    faults: {latency_ms: 20, slow_probe_seconds: 0.3}
"""
REPORT_FORMATS = "json,html,junit,csv"


def check_history(path: Path) -> list[str]:
    """The run ids in the database, newest first; asserts it is whole and readable."""
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with History(path) as history:
        runs = history.runs(limit=1000)
        for row in runs:
            assert history.document(row.run_id)["run_id"] == row.run_id
    return [row.run_id for row in runs]


def check_reports(folder: Path) -> dict[str, str]:
    """Every report file present is whole: {file name: run id} of the JSON ones."""
    found: dict[str, str] = {}
    if not folder.exists():
        return found
    for path in sorted(folder.iterdir()):
        if (
            path.name.startswith(".")
            or path.suffix in (".sqlite", ".retry")
            or "-journal" in path.name
        ):
            continue  # hidden temporaries of a killed run; the history; the retry list
        data = path.read_bytes()
        if path.suffix == ".json":
            found[path.name] = json.loads(data)["run_id"]
        elif path.suffix == ".xml":
            ET.fromstring(data)  # noqa: S314 (our own report)
        elif path.suffix == ".html":
            assert data.rstrip().endswith(b"</html>"), path
        elif path.suffix == ".csv":
            assert data.endswith(b"\n"), path
        if path.name.startswith("latest."):
            twin = [p for p in folder.glob(f"audit-*{path.suffix}") if p.read_bytes() == data]
            assert twin, f"{path.name} is a copy of no audit-*{path.suffix}"
    return found


def test_audit_killed_at_random_points(tmp_path: Path) -> None:
    from remediate.lab.inventory_writer import write_inventory

    with Lab(parse_fleet(AUDIT_FLEET, "crash-audit.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        output, history = tmp_path / "reports", tmp_path / "history.sqlite"
        command = remediate(
            "audit",
            str(inventory),
            "-o",
            str(output),
            "--history",
            str(history),
            "--format",
            REPORT_FORMATS,
            "--timeout",
            "30",
        )
        started = time.monotonic()
        first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
        duration = time.monotonic() - started
        normal = first.returncode
        assert normal == 1, first.stdout + first.stderr  # ex2003 misses KB840469's fix
        assert lab.open_shells() == 0
        print(f"one audit takes {duration:.2f} s")
        for number, seed in enumerate(AUDIT_SEEDS, 1):
            delay = kill_delay(seed, duration, tail=0.5)
            where = f"audit trial {number} (REMEDIATE_CRASH_SEED={seed}, kill at {delay:.2f} s)"
            print(where)
            before = check_history(history)
            killed = kill_after(command, delay, tmp_path / f"killed-{number}.log", seed)
            try:
                after = check_history(history)
                assert after[len(after) - len(before) :] == before  # nothing older lost
                assert len(after) - len(before) in (0, 1)
                check_reports(output)
                # The killed run could not delete its WinRM shells; SSH sessions end with the
                # connection. The rerun leaves none of its own.
                left = lab.open_shells()
                assert left <= 2
                rerun = subprocess.run(
                    command, cwd=ROOT, capture_output=True, text=True, timeout=120
                )
                assert rerun.returncode == normal, rerun.stdout + rerun.stderr
                assert lab.open_shells() == left
                expire_idle_shells(lab)
                assert lab.open_shells() == 0
                runs = check_history(history)
                assert len(runs) == len(after) + 1
                reports = check_reports(output)
                assert reports["latest.json"] == runs[0]
                assert reports[f"audit-{runs[0]}.json"] == runs[0]
            except AssertionError as exc:
                raise AssertionError(
                    f"{where}, finished first: {killed.finished_first}: {exc}"
                ) from None
        listing = subprocess.run(
            remediate("history", "--history", str(history)),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listing.returncode == 0, listing.stdout + listing.stderr


# -- apply ------------------------------------------------------------------------------------

EX2000 = "ex2000-kb840469-before.lab.local"
# What each step of KB840469's Exchange 2000 plan leaves in the lab's step history (the
# reboots, steps 2, 4 and 6, are counted by boot; step 8 verifies).
STEP_EVENTS = {
    1: "component iis_smtp off",
    3: "component iis_smtp on",
    5: "run Smtpreinstall.exe",
    7: "service MSExchangeMTA start",
}
REBOOT_STEPS = (2, 4, 6)


def apply_fleet(count: int) -> Any:
    """`count` copies of the demo's Exchange 2000 host before KB840469, with slow steps."""
    from remediate.lab.fleet import load_fleet

    fleet = load_fleet(ROOT / "inventory" / "lab" / "demo.yml")
    template = next(h for h in fleet.hosts if h.name == EX2000)
    hosts = []
    for number in range(count):
        spec = template.model_copy(deep=True)
        spec.name = f"crash{number:02d}.ex2000.lab.local"
        spec.address = f"127.29.16.{number + 1}"
        spec.faults.reboot_seconds = 1.0
        spec.step_seconds = {"component": 0.6, "run": 0.4, "service": 0.3}
        hosts.append(spec)
    fleet.hosts = hosts
    return fleet


def approved_plan(inventory: Path, host: str, folder: Path) -> Path:
    """An approved KB840469 plan for one host, through the one helper the remediation tests
    use (signed by its planner and approved by a second person)."""
    from remediate.remediation.plan import save_plan
    from remediate.remediation.planning import make_plan
    from tests.remediation.conftest import sign_and_approve
    from tests.remediation.test_apply import PLAYBOOK, connect, with_installer

    with_installer(inventory)
    plan = make_plan(inventory, PLAYBOOK, host, "alice", connect(inventory), datetime.now(UTC))
    return sign_and_approve(save_plan(plan, folder / "plan.json"))


def apply_command(plan: Path) -> list[str]:
    from tests.remediation.conftest import approvers_args

    return remediate(
        "apply",
        str(plan),
        "--yes",
        "--confirm-manual",
        "--reboot-timeout",
        "60",
        *approvers_args(),
    )


def journal_state(path: Path) -> tuple[set[int], set[int]]:
    """(steps that ended ok, steps started and not ended) as the journal says now."""
    done: set[int] = set()
    open_: set[int] = set()
    for entry in Journal(path).entries():
        if entry.step is None:
            continue
        if entry.event == "step_start":
            open_.add(entry.step)
        elif entry.event == "step_end":
            open_.discard(entry.step)
            if (entry.data or {}).get("status") == "ok":
                done.add(entry.step)
        elif entry.event == "confirm":
            done.add(entry.step)
    return done, open_


TORN = b'{"time": "2026-01-01T00:00:00+00:00", "event": "step_end", "host": "\xc3'


def apply_trial(
    lab: Lab, inventory: Path, folder: Path, host: str, seed: int, timing: tuple[float, float]
) -> tuple[str, bool, set[int]]:
    """One apply killed, then resumed until done; (what happened, whether the apply ended
    before the kill, the steps the kill interrupted)."""
    from remediate.lab.answers.step import history

    folder.mkdir()
    plan = approved_plan(inventory, host, folder)
    journal = journal_path(plan)
    base = apply_command(plan)
    # One trial in six is killed while it starts (checking the plan's signatures); the others
    # at a point of the work, counted from the journal's first entry.
    startup, work = timing
    early = random.Random(seed).random() < 1 / 6
    delay = kill_delay(seed, startup if early else work)
    when = "after the start" if early else "after the journal's first entry"
    where = f"apply trial on {host} (REMEDIATE_CRASH_SEED={seed}, kill {delay:.2f} s {when})"
    boots = {"count": 0}
    lab_host = lab.host(host)
    begin = lab_host.begin_reboot

    def counted() -> None:
        boots["count"] += 1
        begin()

    lab_host.begin_reboot = counted  # type: ignore[method-assign]
    killed = kill_after(base, delay, folder / "killed.log", seed, None if early else journal)
    interrupted: set[int] = set()
    try:
        done, open_ = journal_state(journal)
        interrupted |= open_
        landed = (
            "before its first entry"
            if not journal.exists()
            else f"inside step {sorted(open_)}"
            if open_
            else f"after steps {sorted(done)}"
        )
        if seed % 3 == 0 and journal.exists():
            # Power lost mid-write as well: a torn last line, cut inside a UTF-8 sequence.
            with open(journal, "ab") as handle:
                handle.write(TORN)
            assert journal_state(journal) == (done, open_)  # the reader tolerates it
        outcome = None
        for attempt in range(6):
            if killed.finished_first and attempt == 0 and killed.returncode == 0:
                break
            resumed = subprocess.run(
                [*base, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=180
            )
            outcome = resumed
            if resumed.returncode == 0:
                break
            # A resume that met the host rebooting fails it; the next one goes on.
            assert "failed" in resumed.stdout, resumed.stdout + resumed.stderr
            time.sleep(1.0)
        else:
            raise AssertionError(f"not done after 6 resumes: {outcome and outcome.stdout}")
        lines = journal.read_bytes().split(b"\n")
        assert lines[-1] == b""
        for line in lines[:-1]:
            json.loads(line)  # every line whole: the torn one was dropped before appending
        entries = Journal(journal).entries()
        ends = [e for e in entries if e.event == "host_end"]
        assert (ends[-1].data or {}).get("status") == "done", ends
        # A step that ended ok is never started again.
        ended_ok: set[int] = set()
        for entry in entries:
            if entry.event == "step_start":
                assert entry.step not in ended_ok, f"step {entry.step} started after it ended ok"
            if entry.event == "step_end" and (entry.data or {}).get("status") == "ok":
                ended_ok.add(entry.step)  # type: ignore[arg-type]
        assert ended_ok == set(range(1, 9))
        # On the host: each step's change once, twice only for the step the kill interrupted.
        events = history(host)
        for step, event in STEP_EVENTS.items():
            allowed = 2 if step in interrupted else 1
            assert 1 <= events.count(event) <= allowed, (step, events, interrupted)
        extra_reboots = len(interrupted & set(REBOOT_STEPS))
        assert len(REBOOT_STEPS) <= boots["count"] <= len(REBOOT_STEPS) + extra_reboots, (
            boots,
            interrupted,
        )
        mta = next(s for s in lab_host.spec.services if s.name == "MSExchangeMTA")
        assert mta.state == "running"
        assert not list((plan.parent / (plan.name + ".locks")).glob("*.lock"))
        assert PASSWORD not in journal.read_text(encoding="utf-8")
    except AssertionError as exc:
        raise AssertionError(
            f"{where}, finished first: {killed.finished_first}, interrupted steps "
            f"{sorted(interrupted)}: {exc}"
        ) from None
    said = "it ended before the kill" if killed.finished_first else f"killed {landed}"
    return f"{where}: {said}", killed.finished_first, interrupted


def test_apply_killed_at_random_points_then_resumed(tmp_path: Path) -> None:
    from remediate.lab.inventory_writer import write_inventory

    hosts = len(APPLY_SEEDS) + 1
    with Lab(apply_fleet(hosts), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        names = list(lab.hosts)
        # One whole apply, unkilled: how long a run takes, and the step history it leaves.
        from remediate.lab.answers.step import history

        calibration = tmp_path / "whole"
        calibration.mkdir()
        plan = approved_plan(inventory, names[0], calibration)
        started = time.monotonic()
        with open(calibration / "whole.log", "wb") as out:
            whole = subprocess.Popen(apply_command(plan), cwd=ROOT, stdout=out, stderr=out)
            while not journal_path(plan).exists() and whole.poll() is None:
                time.sleep(0.01)
            startup = time.monotonic() - started
            assert whole.wait(timeout=180) == 0, (calibration / "whole.log").read_text()
        timing = (startup, time.monotonic() - started - startup)
        assert history(names[0]) == list(STEP_EVENTS.values())
        print(f"one apply takes {sum(timing):.2f} s, {startup:.2f} s of it to start")

        def trial(item: tuple[int, int]) -> tuple[str, bool, set[int]]:
            number, seed = item
            return apply_trial(
                lab, inventory, tmp_path / f"trial-{number}", names[number], seed, timing
            )

        # Four at a time: the applies mostly wait (slow steps, reboots); the order of the
        # trials does not matter, each has its own host, plan and journal.
        with ThreadPoolExecutor(max_workers=4) as pool:
            trials = list(pool.map(trial, enumerate(APPLY_SEEDS, 1)))
        for line, _, _ in trials:
            print(line)
        if len(trials) >= 10:  # the kills landed where they should: not all before or after
            assert sum(finished for _, finished, _ in trials) <= len(trials) // 4
            assert sum(bool(steps) for _, _, steps in trials) >= 3
        expire_idle_shells(lab)
        assert lab.open_shells() == 0


# -- a kill inside the write itself, at a chosen byte ---------------------------------------
# A random point rarely lands inside the few milliseconds a report or a history record takes:
# these two put the kill exactly there.

KILLED_WRITING_REPORT = """
import os, signal, sys
from pathlib import Path
from remediate.report import registry
from remediate.report.reporter import Reporter
from remediate.rules.findings import Status
from tests.test_history import NOW, make_run

def half_then_killed(run, path, context):
    path.write_bytes(b'{"format": "remediate.run/1", "run_id": "' + run.run_id.encode() + b'"')
    os.kill(os.getpid(), signal.SIGKILL)

output = Path(sys.argv[1])
hosts = {"ex1": Status.COMPLIANT}
registry.write_reports(make_run("first", NOW, hosts), ("json",), output, "i", "t")
registry.REPORTERS["json"] = Reporter("json", "json", half_then_killed)
registry.write_reports(make_run("second", NOW, hosts), ("json",), output, "i", "t")
"""


def test_a_report_killed_mid_write_is_not_left_half_written(tmp_path: Path) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITING_REPORT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert check_reports(tmp_path) == {"audit-first.json": "first", "latest.json": "first"}
    assert not (tmp_path / "audit-second.json").exists()


KILLED_RECORDING = """
import os, signal, sys
from datetime import timedelta
from pathlib import Path
from remediate.history import History
from remediate.rules.findings import Status
from tests.test_history import NOW, make_run, record

with History(Path(sys.argv[1])) as store:
    record(store, make_run("first", NOW, {"ex1": Status.COMPLIANT}))
    store._db.create_function("killed", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
    store._db.execute(
        "CREATE TEMP TRIGGER kill_midway AFTER INSERT ON findings "
        "WHEN NEW.host = 'ex2' BEGIN SELECT killed(); END"
    )
    hosts = {f"ex{n}": Status.MISSING_FIX for n in range(1, 4)}
    record(store, make_run("second", NOW + timedelta(hours=1), hosts))
"""


def test_history_killed_mid_record_keeps_whole_runs_only(tmp_path: Path) -> None:
    database = tmp_path / "history.sqlite"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RECORDING, str(database)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert check_history(database) == ["first"]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT DISTINCT run_id FROM findings").fetchall() == [("first",)]
    listing = subprocess.run(
        remediate("history", "--history", str(database)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0 and "first" in listing.stdout, listing.stdout + listing.stderr


def test_an_apply_killed_while_taking_its_lock_does_not_hold_the_host(tmp_path: Path) -> None:
    """Killed between creating the lock file and writing its pid into it, an apply left an
    empty lock, which every later apply took for held (pid 0 answers os.kill: our own process
    group): the host could not be resumed until someone removed the file by hand."""
    from remediate.remediation.apply import _Lock

    (tmp_path / "ex1.lock").write_text("")
    with _Lock(tmp_path, "ex1") as lock:
        assert lock.path.read_text() == str(os.getpid())
        assert [p.name for p in tmp_path.iterdir()] == ["ex1.lock"]  # no temporary left
    assert list(tmp_path.iterdir()) == []
