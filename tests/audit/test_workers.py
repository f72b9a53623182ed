"""The audit spread over worker processes (remediate.audit.workers), over real sockets.

Runs of at most WORKERS_THRESHOLD hosts stay in one process, so each fleet here is larger.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from remediate.audit.session import AuditRequest, audit_and_report
from remediate.audit.workers import WORKERS_THRESHOLD, worker_count
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.rules.results import AuditRun, HostResult
from tests.conftest import PASSWORD, PLAYBOOKS, ROOT, AuditRequestFactory, interruptible

HOSTS = WORKERS_THRESHOLD + 10


def fleet(kind: Callable[[int], str], hosts: int = HOSTS, base: str = "127.46.0.1") -> str:
    """`hosts` lab hosts, host i's extra YAML lines given by `kind(i)`."""
    lines = [f"name: workers\naddress_base: {base}\nhosts:\n"]
    for i in range(hosts):
        lines.append(f"  - name: h{i:03d}.lab.local\n{kind(i)}")
    return "".join(lines)


EXCHANGE_2003 = "    exchange: {version: '6.5', build: 6.5.7638.1}\n"
SLOW = "    faults: {slow_probe_seconds: 30}\n"


def mixed(i: int) -> str:
    """Compliant, affected, unreachable, refused, unusable output, Windows 2000 over SSH."""
    if i % 17 == 3:
        return "    faults: {wrong_password: true}\n"
    if i % 23 == 5:
        return "    faults: {corrupt_output: true}\n"
    if i % 29 == 7:
        return (
            "    os: {caption: Microsoft Windows 2000 Server, version: 5.0.2195, build: 2195,"
            " service_pack: 4, powershell: null, winrm: false}\n"
        )
    return EXCHANGE_2003 if i % 2 else ""


@pytest.fixture(scope="module")
def mixed_inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with Lab(parse_fleet(fleet(mixed), "mixed.yml"), port_mode="ephemeral") as lab:
        yield write_inventory(lab, tmp_path_factory.mktemp("mixed") / "hosts.ini")


def comparable(result: HostResult) -> tuple[Any, ...]:
    """What two runs of the same fleet share: all but timings and the host's clock."""
    error = result.error
    why = None if error is None else (type(error), error.reason, error.message, error.hint)
    evidence = result.evidence
    if evidence is not None:
        evidence = replace(evidence, os=replace(evidence.os, time_utc=None))
    return result.host, result.findings, evidence, why, result.dialect, result.transport


def descendants_command_lines() -> list[str]:
    """The command lines of every process below this one (the forkserver, the workers)."""
    parents: dict[int, int] = {}
    lines: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
                lines[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
    ours, grew = {os.getpid()}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in ours}
        grew = not below <= ours
        ours |= below
    return [lines.get(pid, "") for pid in ours - {os.getpid()}]


def audit(request: AuditRequest) -> tuple[AuditRun, list[str], set[str]]:
    """The run, the hosts `on_result` heard of (in this process), the workers seen meanwhile.

    No process this one started may carry the lab's password on its command line."""
    heard: list[str] = []
    workers: set[str] = set()

    def on_result(result: HostResult) -> None:
        heard.append(result.host)
        workers.update(child.name for child in multiprocessing.active_children())
        if len(heard) % 25 == 1:
            assert all(PASSWORD not in line for line in descendants_command_lines())

    return audit_and_report(request, on_result=on_result).run, heard, workers


def test_small_runs_and_one_worker_stay_in_this_process() -> None:
    assert worker_count(8, WORKERS_THRESHOLD, 50) == 1
    assert worker_count(1, 1000, 50) == 1
    assert worker_count(8, 1000, 50) == 8
    assert worker_count(8, 1000, 3) == 3  # each worker needs a fork of its own


def test_two_workers_give_the_findings_of_one_in_the_same_order(
    mixed_inventory: Path, tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    one, heard_one, _ = audit(audit_request(mixed_inventory, tmp_path / "one", workers=1))
    two, heard_two, workers = audit(audit_request(mixed_inventory, tmp_path / "two", workers=2))
    assert workers == {"audit-1", "audit-2"}
    assert [comparable(r) for r in two.results] == [comparable(r) for r in one.results]
    listed = [line.partition(" ")[0] for line in mixed_inventory.read_text().splitlines()]
    in_inventory = dict.fromkeys(name for name in listed if name.startswith("h"))  # first place
    assert [r.host for r in two.results] == list(in_inventory)
    assert sorted(heard_two) == sorted(heard_one) == sorted(r.host for r in one.results)
    kinds = {r.error.reason for r in two.results if r.error is not None}
    assert kinds == {"authentication", "probe_error"}  # the errors made the trip too
    assert {r.transport for r in two.results} == {"winrm", "ssh"}
    assert two.exit_code() == one.exit_code() and not two.interrupted


def killed_worker_fleet(i: int) -> str:
    """Worker 1 (even hosts) has slow hosts from 60 on; worker 2's hosts are all quick."""
    return "    faults: {slow_probe_seconds: 120}\n" if i % 2 == 0 and i >= 60 else EXCHANGE_2003


def test_a_killed_workers_hosts_are_errors_and_the_others_results_are_kept(
    tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    quick_of_worker_1 = {f"h{i:03d}.lab.local" for i in range(0, 60, 2)}
    heard: list[str] = []
    killed: list[int] = []

    def on_result(result: HostResult) -> None:
        """Once worker 1 has sent all its quick hosts, it is killed on its slow ones."""
        heard.append(result.host)
        if killed or not quick_of_worker_1 <= set(heard):
            return
        for child in multiprocessing.active_children():
            if child.name == "audit-1" and child.pid is not None:
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    with Lab(parse_fleet(fleet(killed_worker_fleet), "k.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        started = time.monotonic()
        request = audit_request(inventory, tmp_path / "out", workers=2, forks=6, timeout=150.0)
        run = audit_and_report(request, on_result=on_result).run
        elapsed = time.monotonic() - started
    assert killed, "worker 1 was not found to kill"
    assert elapsed < 60, f"the run waited {elapsed:.0f} s for hosts of a dead worker"
    assert [r.host for r in run.results] == [f"h{i:03d}.lab.local" for i in range(HOSTS)]
    for i, result in enumerate(run.results):
        if i % 2 or i < 60:  # the quick hosts: all audited, whichever worker had them
            assert result.error is None, (result.host, result.error)
        else:
            assert result.error is not None, result.host
            assert result.error.reason == "not_audited"
            assert result.error.message == (
                f"not audited: worker process {killed[0]} was killed by SIGKILL"
            )
    assert len(heard) == len(set(heard)) and not run.interrupted


def fail_percent_fleet(i: int) -> str:
    return "    faults: {wrong_password: true}\n" if i < 30 else EXCHANGE_2003


def test_fail_percent_counts_the_failures_of_every_worker(
    tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    with Lab(parse_fleet(fleet(fail_percent_fleet), "f.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        request = audit_request(inventory, tmp_path / "out", workers=2, forks=4, fail_percent=10)
        run, heard, workers = audit(request)
    assert workers == {"audit-1", "audit-2"}
    # Each worker alone saw 15 failures of its 55 hosts; only the sum is above 10 % of 110.
    assert run.aborted is not None and run.aborted.endswith("above --fail-percent 10")
    stopped = [r for r in run.results if r.error is not None and r.error.reason == "not_audited"]
    assert stopped and all(r.error.message.startswith("not audited: ") for r in stopped)  # type: ignore[union-attr]
    assert all("hosts failed, above --fail-percent 10" in r.error.message for r in stopped)  # type: ignore[union-attr]
    numbers = {int(r.host[1:4]) for r in stopped}
    assert {n % 2 for n in numbers} == {0, 1}  # both workers stopped starting hosts
    assert sorted(heard) == sorted(r.host for r in run.results)  # each host once, heard here
    assert len(run.results) == HOSTS


def interrupt_fleet(i: int) -> str:
    """The first 90 hosts quick, the last 20 slow: each worker has 10 slow ones left."""
    return SLOW if i >= 90 else EXCHANGE_2003


@pytest.mark.parametrize(
    "signal_sent", ["SIGINT to the group", "SIGTERM to the parent", "SIGTERM to the group"]
)
def test_ctrl_c_stops_every_worker_and_keeps_what_finished(
    tmp_path: Path, signal_sent: str
) -> None:
    """Ctrl-C signals the whole process group, as systemd's stop does with SIGTERM; `kill`
    and CI runners stop the parent only, which must then stop its workers itself."""
    with Lab(parse_fleet(fleet(interrupt_fleet), "i.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "remediate", "audit", str(inventory)),
                *("-o", str(tmp_path / "out"), "--forks", "8", "--workers", "2"),
                *("--playbooks", str(PLAYBOOKS), "--format", "json"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=interruptible,
            start_new_session=True,  # its own process group, which Ctrl-C signals as a whole
        )
        lines: list[tuple[float, str]] = []
        reader = threading.Thread(
            target=lambda: lines.extend((time.monotonic(), line) for line in process.stdout),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()

        def heard() -> int:  # the progress lines, one per host as the parent hears of it
            return sum(line.startswith("[") for _, line in list(lines))

        deadline = time.monotonic() + 90
        while (heard() < 90 or lab.open_shells() < 8) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert heard() == 90  # the quick hosts, each heard of as it finished
        assert lab.open_shells() == 8  # every fork on a slow host, in both workers
        pressed = time.monotonic()
        if signal_sent == "SIGINT to the group":
            os.killpg(process.pid, signal.SIGINT)
        elif signal_sent == "SIGTERM to the group":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        elapsed = time.monotonic() - pressed
        err = process.stderr.read()  # type: ignore[union-attr]
        reader.join(5)
        out = "".join(line for _, line in lines)
        assert process.returncode == 130, out + err
        assert "Traceback" not in err, err
        said = [moment for moment, line in lines if "stopping: closing 8 shells" in line]
        assert said and said[0] - pressed < 1.5, out
        assert elapsed < 15, f"exited {elapsed:.1f} s after Ctrl-C"
        assert lab.open_shells() == 0
    (report,) = (tmp_path / "out").glob("audit-*.json")
    document = json.loads(report.read_text())
    assert document["interrupted"] is True
    hosts = [host["name"] for host in document["hosts"]]
    assert hosts == [f"h{i:03d}.lab.local" for i in range(HOSTS)]  # each host once
    for i, host in enumerate(document["hosts"]):
        error = host["error"]
        if i < 90:
            assert error is None, (host["name"], error)
        else:
            assert error == {
                "kind": "not_audited",
                "message": "not audited: interrupted",
                "hint": None,
            }, host["name"]


def test_the_workers_connection_logs_show_with_v_as_one_process_shows_them(
    mixed_inventory: Path, tmp_path: Path
) -> None:
    def logged(workers: str) -> list[str]:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "remediate", "audit", str(mixed_inventory), "-v"),
                *("-o", str(tmp_path / workers), "--no-history", "--format", "json"),
                *("--workers", workers, "--playbooks", str(PLAYBOOKS), "--timeout", "20"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert PASSWORD not in done.stdout + done.stderr
        # "HH:MM:SS.mmm winrm host: ..." without the time, in an order threads do not change
        return sorted(line.partition(" ")[2] for line in done.stderr.splitlines())

    one, two = logged("1"), logged("2")
    assert len(two) > HOSTS and any(" h107.lab.local: " in line for line in two)
    assert [line.split(":")[0] for line in two] == [line.split(":")[0] for line in one]
