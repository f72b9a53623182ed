"""The console summary of a large fleet lists the hosts with something to do, not all of them."""

from __future__ import annotations

import io
from datetime import UTC, datetime

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
