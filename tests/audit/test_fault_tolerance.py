"""A fleet with 30 % faulty hosts: the audit finishes in time, names every failure, loses
nothing, and leaves no shell open; a rebooting host is reported, not hung on."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from remediate.audit.session import audit_and_report
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.rules.findings import Status
from tests.conftest import AuditRequestFactory

HOST_TIMEOUT = 6.0
FORKS = 50

FAULTS = {  # fault -> (fault YAML, number of hosts, expected error kind)
    "down": ("{down: true}", 5, "unreachable"),
    "blackhole": ("{blackhole: true}", 5, "timeout"),
    "flapping": ("{flapping: 1.0}", 4, "protocol"),  # answers cut mid-way
    "slow": ("{slow_probe_seconds: 60}", 4, "timeout"),
    "wrongpass": ("{wrong_password: true}", 4, "authentication"),
    "quota": ("{shell_quota_full: true}", 4, "protocol"),
    "corrupt": ("{corrupt_output: true}", 4, "probe_error"),
}


def fleet_text() -> str:
    lines = [
        "address_base: 127.25.0.1",
        "defaults:",
        "  exchange: {version: '6.5', build: 6.5.7638.1, service_pack: 2}",
        "  services: [{name: MSExchangeMTA, state: running}]",
        "  components: {iis_smtp: true}",
        "hosts:",
    ]
    for i in range(70):
        lines.append(f"  - name: ok{i:02d}.lab.local")
    for fault, (yaml, count, _) in FAULTS.items():
        for i in range(count):
            lines += [f"  - name: {fault}{i}.lab.local", f"    faults: {yaml}"]
    return "\n".join(lines) + "\n"


def test_thirty_percent_faulty_fleet(tmp_path: Path, audit_request: AuditRequestFactory) -> None:
    fleet = parse_fleet(fleet_text(), "faulty.yml")
    assert len(fleet.hosts) == 100
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        request = audit_request(inventory, tmp_path / "out", timeout=HOST_TIMEOUT, forks=FORKS)
        started = time.monotonic()
        run = audit_and_report(request).run
        wall = time.monotonic() - started
        time.sleep(0.5)
        assert lab.open_shells() == 0
    waves = math.ceil(100 / FORKS)
    assert wall < waves * HOST_TIMEOUT + 30, f"audit took {wall:.1f} s"
    by_host = {r.host: r for r in run.results}
    assert len(by_host) == 100
    for fault, (_, count, kind) in FAULTS.items():
        for i in range(count):
            result = by_host[f"{fault}{i}.lab.local"]
            assert result.error is not None, fault
            assert result.error.reason == kind, (fault, result.error.reason, result.error.message)
            assert all(f.status is Status.ERROR for f in result.findings)
    for i in range(70):
        result = by_host[f"ok{i:02d}.lab.local"]
        assert result.error is None, result.error
        kb = next(f for f in result.findings if f.playbook == "KB840469")
        assert kb.status is Status.COMPLIANT
    retry = (tmp_path / "out" / "remediate.retry").read_text().split()
    assert sorted(retry) == sorted(h for h, r in by_host.items() if r.error is not None)
    assert len(retry) == 30


def test_a_host_rebooting_during_the_audit_is_reported(
    tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    fleet = parse_fleet(
        "address_base: 127.26.0.1\nhosts:\n"
        "  - name: reboots.lab.local\n    faults: {reboot_seconds: 30, slow_probe_seconds: 4}\n"
        "  - name: steady.lab.local\n",
        "reboot.yml",
    )
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        request = audit_request(inventory, tmp_path / "out", timeout=HOST_TIMEOUT)
        import threading

        threading.Timer(1.0, lab.reboot, args=("reboots.lab.local",)).start()
        started = time.monotonic()
        run = audit_and_report(request).run
        assert time.monotonic() - started < HOST_TIMEOUT + 10
    by_host = {r.host: r for r in run.results}
    assert by_host["steady.lab.local"].error is None
    error = by_host["reboots.lab.local"].error
    assert error is not None and error.reason in ("unreachable", "timeout", "protocol")


@pytest.mark.parametrize(
    "hostile", ["a'b", 'c"d', "$(Remove-Item C:\\)", "`whoami`", "x; exit 3", "l1\nl2"]
)
def test_playbook_patterns_reach_the_host_as_data(
    tmp_path: Path, hostile: str, audit_request: AuditRequestFactory
) -> None:
    playbook = {
        "id": "Q999999",
        "title": "hostile patterns",
        "applies_to": {"products": [{"version": "6.5"}]},
        "symptoms": {
            "selections": {
                "ev": {"source": [hostile], "event_ids": [1]},
                "svc": {"service": hostile, "state": "stopped"},
            },
            "condition": "ev or svc",
        },
        "fix": {
            "files": [
                {
                    "file": f"x{hostile.replace(chr(92), '')}.dll".replace("\n", ""),
                    "version": "1.0",
                    "folder": "system32",
                }
            ]
        },
    }
    (tmp_path / "Q999999.yml").write_text(json.dumps(playbook))
    fleet = parse_fleet(
        "address_base: 127.27.0.1\nhosts:\n  - name: target.lab.local\n"
        "    exchange: {version: '6.5', build: 6.5.7638.1}\n",
        "t.yml",
    )
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        request = audit_request(
            inventory,
            tmp_path / "out",
            playbooks=(tmp_path / "Q999999.yml",),
            timeout=HOST_TIMEOUT,
        )
        run = audit_and_report(request).run
        received = lab.host("target.lab.local").received[-1].arguments
    assert run.results[0].error is None
    assert received["services"] == [hostile]
    assert received["events"][0]["sources"] == [hostile]
    assert run.findings[0].status is Status.MISSING_FIX


def test_hosts_dying_mid_command_leave_no_shell_open(
    tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    """A host that drops the connection while the collector runs keeps its shell, bound to no
    connection, until its idle timeout (2 h) uses up the user's shell quota: the audit
    deletes each over a new connection, as Ctrl-C does."""
    fleet = parse_fleet(
        "address_base: 127.29.0.1\nhosts:\n"
        + "".join(
            f"  - name: dies{i}.lab.local\n    faults: {{drop_mid_command: true}}\n"
            for i in range(3)
        )
        + "  - name: steady.lab.local\n",
        "dying.yml",
    )
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        run = audit_and_report(audit_request(inventory, tmp_path / "out", timeout=HOST_TIMEOUT)).run
        assert lab.open_shells() == 0
        for i in range(3):
            counters = lab.counters(f"dies{i}.lab.local")
            assert counters["shells_created"] >= 1
            assert counters["shells_deleted_after_break"] == counters["shells_created"]
    by_host = {r.host: r for r in run.results}
    assert by_host["steady.lab.local"].error is None
    for i in range(3):
        error = by_host[f"dies{i}.lab.local"].error
        assert error is not None and error.reason == "unreachable", error


def test_a_host_whose_settings_cannot_work_is_its_own_error(
    tmp_path: Path, audit_request: AuditRequestFactory
) -> None:
    """No user for NTLM (pywinrm refuses before any request): that host gets `configuration`
    findings with a hint, the others are audited; no traceback ends the run."""
    fleet = parse_fleet(
        "address_base: 127.24.9.1\nhosts:\n  - name: good.lab.local\n  - name: nouser.lab.local\n",
        "two.yml",
    )
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        text = inventory.read_text()
        inventory.write_text(
            text.replace("nouser.lab.local ", "nouser.lab.local ansible_user='' ", 1)
        )
        outcome = audit_and_report(audit_request(inventory, tmp_path / "out"))
    by_host = {result.host: result for result in outcome.run.results}
    assert by_host["good.lab.local"].error is None
    error = by_host["nouser.lab.local"].error
    assert error is not None and error.reason == "configuration"
    assert "ansible_user" in (error.hint or "")
    assert {f.status for f in by_host["nouser.lab.local"].findings} == {Status.ERROR}
