"""`remediate lab up` as a user runs it: a real process, a real inventory, Ctrl-C to stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import SMALL_FLEET, interruptible

REMEDIATE = [sys.executable, "-m", "remediate"]


def start_lab(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    fleet = tmp_path / "small.yml"
    fleet.write_text(SMALL_FLEET)
    inventory = tmp_path / "hosts.ini"
    process = subprocess.Popen(
        [
            *REMEDIATE,
            "lab",
            "up",
            "--fleet",
            str(fleet),
            "--ports",
            "ephemeral",
            "--write-inventory",
            str(inventory),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=interruptible,
    )
    return process, inventory


def wait_for(process: subprocess.Popen[str], marker: str, timeout: float = 60) -> str:
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} never printed; got: {''.join(seen)}")


def test_lab_up_writes_an_ansible_inventory_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process, inventory = start_lab(tmp_path)
    try:
        output = wait_for(process, "serving")
        text = inventory.read_text()
        assert "[winrm]" in text and "[ssh]" in text
        winrm_hosts = text.split("[winrm]")[1].split("[")[0].split()
        assert "ex2003.lab.local" in winrm_hosts
        ssh_section = text.split("[ssh]\n")[1].split("\n\n")[0]
        assert ssh_section.startswith("w2k.lab.local ansible_host=127.21.0.3 ansible_port=")
        assert "ansible_winrm_transport=ntlm" in text
        known_hosts = (tmp_path / "known_hosts").read_text()
        assert known_hosts.startswith("[127.21.0.3]:") and "ssh-ed25519" in known_hosts
        admin = output.split("admin endpoint: ")[1].split()[0]
        with urllib.request.urlopen(admin, timeout=5) as response:  # noqa: S310 - loopback
            snapshot = json.load(response)
        assert snapshot["ex2003.lab.local"]["address"] == "127.21.0.1"
        assert snapshot["ex2003.lab.local"]["counters"]["shells_open"] == 0
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_lab_up_with_a_bad_fleet_names_file_and_line(tmp_path: Path) -> None:
    fleet = tmp_path / "bad.yml"
    fleet.write_text("hosts:\n  - name: a\n    os: {build: many}\n")
    result = subprocess.run(
        [*REMEDIATE, "lab", "up", "--fleet", str(fleet), "--ports", "ephemeral"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{fleet}:3: hosts.0.os.build" in result.stderr
    assert "Traceback" not in result.stderr
