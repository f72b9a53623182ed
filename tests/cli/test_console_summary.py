"""The console summary of a large fleet lists the hosts with something to do, not all of them."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from remediate.cli.console import SUMMARY_ROWS, print_summary
from remediate.rules.findings import Finding, Status
from remediate.rules.results import AuditRun, HostResult


def finding(host: str, status: Status) -> Finding:
    return Finding(host=host, playbook="KB840469", status=status, reason="r")


def test_a_large_fleet_shows_the_hosts_with_something_to_do() -> None:
    now = datetime.now(UTC)
    results = [
        HostResult(f"ok{i:03d}", (finding(f"ok{i:03d}", Status.COMPLIANT),)) for i in range(200)
    ]
    results += [
        HostResult(f"bad{i:03d}", (finding(f"bad{i:03d}", Status.MISSING_FIX),)) for i in range(3)
    ]
    run = AuditRun("r1", now, (), now, results=results)
    out = io.StringIO()
    print_summary(run, Console(file=out, width=200))
    text = out.getvalue()
    assert all(f"bad{i:03d}" in text for i in range(3))
    assert "ok000" not in text
    assert "200 more host(s) not shown" in text
    assert f"up to {SUMMARY_ROWS} hosts" in text


def test_a_small_fleet_shows_every_host() -> None:
    now = datetime.now(UTC)
    results = [HostResult(f"h{i}", (finding(f"h{i}", Status.COMPLIANT),)) for i in range(5)]
    out = io.StringIO()
    print_summary(AuditRun("r1", now, (), now, results=results), Console(file=out, width=200))
    assert all(f"h{i}" in out.getvalue() for i in range(5))
    assert "not shown" not in out.getvalue()


def _fleet_run() -> AuditRun:
    """The demo's shape: long names in one domain, eight articles with long ids."""
    from remediate.rules.playbook import load_playbooks
    from tests.conftest import ROOT

    playbooks = tuple(load_playbooks([ROOT / "playbooks"]))
    now = datetime.now(UTC)
    statuses = list(Status)
    results = [
        HostResult(
            host,
            tuple(
                Finding(
                    host=host, playbook=p.id, status=statuses[(i + j) % len(statuses)], reason=""
                )
                for j, p in enumerate(playbooks)
            ),
        )
        for i, host in enumerate(
            f"ex55-q{n}-fixed-events-and-more.lab.local" for n in range(193639, 193649)
        )
    ]
    return AuditRun("r1", now, playbooks, now, results=results)


def test_the_summary_fits_80_columns_with_a_legend() -> None:
    out = io.StringIO()
    print_summary(_fleet_run(), Console(file=out, width=80))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    # One line per host: the shared domain is said once, in the heading.
    assert "(*.lab.local)" in out.getvalue()
    assert sum("ex55-q193639-fixed-events-and-more" in line for line in lines) == 1
    assert not any("193640" in line and "ex55" not in line for line in lines)
    legend = next(line for line in lines if line.startswith("legend:"))
    assert "AFF affected" in legend and "FIX missing_fix" in legend
    assert "articles: 1 CVE-2025-59249" in out.getvalue().replace("\n", " ")


def test_a_wide_console_names_the_articles_and_whole_hosts() -> None:
    out = io.StringIO()
    print_summary(_fleet_run(), Console(file=out, width=160))
    text = out.getvalue()
    assert "CVE-2025-59249" in text.splitlines()[2] + text.splitlines()[3]
    assert "ex55-q193639-fixed-events-and-more.lab.local" in text
    assert "articles:" not in text


def _on_a_terminal(args: list[str], columns: int) -> str:
    """Run the command with stdout on a pseudo-terminal `columns` wide; its output as text."""
    import pty
    import re
    import subprocess

    from tests.conftest import ROOT

    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"}
    process = subprocess.Popen(
        args,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=env,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the command ended and closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(controller)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", text)


def test_the_audit_console_at_80_columns(demo_inventory: object) -> None:
    import sys

    output = Path(str(demo_inventory)).parent / "out80"
    text = _on_a_terminal(
        [sys.executable, "-m", "remediate", "audit", str(demo_inventory), "--no-history",
         "--format", "json", "-o", str(output)],
        columns=80,
    )  # fmt: skip
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("audit "))
    end = next(i for i, line in enumerate(lines) if line.startswith("legend:"))
    table = lines[start:end]
    assert max(len(line) for line in lines[start:]) <= 80
    hosts = [line for line in table if line.startswith((" ex", " w2k"))]
    assert len(hosts) == 27  # one line each, the domain said once in the heading
    assert "(*.lab.local)" in table[2]
