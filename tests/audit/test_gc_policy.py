"""A run collects garbage less often, and leaves the collector as it found it; a process
that audits leaves its heap to the OS at exit."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from remediate.audit.gc_policy import YOUNG_THRESHOLD, collections_for_a_run
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from tests.conftest import ROOT, AuditRequestFactory


def test_a_run_freezes_what_exists_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with collections_for_a_run():
        assert gc.get_threshold()[0] >= YOUNG_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_overlapping_runs_restore_the_collector_only_when_the_last_ends() -> None:
    before = gc.get_threshold()
    first_inside = threading.Event()
    second_done = threading.Event()
    seen: list[tuple[int, int, int]] = []

    def first() -> None:
        with collections_for_a_run():
            first_inside.set()
            second_done.wait(10)
            seen.append(gc.get_threshold())  # the other run ended: still tuned for this one

    thread = threading.Thread(target=first)
    thread.start()
    first_inside.wait(10)
    with collections_for_a_run():
        pass
    second_done.set()
    thread.join(10)
    assert seen and seen[0][0] >= YOUNG_THRESHOLD
    assert gc.get_threshold() == before


FROZEN_AT_LAST = """
import atexit, gc, sys
atexit.register(lambda: print("frozen" if gc.get_freeze_count() else "collected"))  # runs last
"""


@pytest.mark.parametrize(
    ("code", "end"),
    [
        ("import remediate.audit.gc_policy", "collected"),  # importing it changes nothing
        ("import remediate.audit.workers", "frozen"),  # a run's forkserver
        (
            "import sys\nfrom remediate.cli import main\nsys.argv[1:] = ['version']\nmain()",
            "frozen",
        ),
    ],
)
def test_the_cli_and_the_forkserver_leave_their_heap_to_the_os_at_exit(code: str, end: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_LAST + code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == end


def test_the_summary_is_printed_under_the_runs_collector_settings(
    lab: Lab,
    tmp_path: Path,
    audit_request: AuditRequestFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the defaults back before the summary, its first middle collection walked every
    result of the run (0.2 s at 1,000 hosts)."""
    import remediate.cli.audit as cli_audit

    seen: list[tuple[int, int]] = []
    printed = cli_audit.print_outcome

    def print_outcome(*args: Any, **kwargs: Any) -> None:
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))
        printed(*args, **kwargs)

    monkeypatch.setattr(cli_audit, "print_outcome", print_outcome)
    before = gc.get_threshold()
    inventory = write_inventory(lab, tmp_path / "hosts.ini")
    cli_audit.audit_on_console(audit_request(inventory, tmp_path / "out"))
    assert seen and seen[0][0] >= YOUNG_THRESHOLD and seen[0][1] > 0
    assert gc.get_threshold() == before
