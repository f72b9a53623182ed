"""`make bench`: the audit scaling series, the target point and the naive baseline.

    python bench/run_all.py [--long] [--baseline-hosts 100]

Series: N = 10, 100, 1,000 (and 10,000 with --long) x E = 1,000 and 100,000, at L = 50 ms,
F = 100, Basic. Target point: N = 1,000, L = 50, F = 100, E = 1,000 with Basic (the series
point) and NTLM with encryption, the Basic one with the naive pywinrm baseline on its first
`--baseline-hosts` hosts (throughput ratio). One benchmark runs at a time. Writes
bench/results/summary.json and prints a table and the targets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit

TARGETS = {
    "wall_over_bound": 1.5,
    "cpu_ms_per_host_basic": 15.0,
    "cpu_ms_per_host_ntlm": 30.0,
    "peak_rss_mb": 500.0,
    "baseline_ratio_min": 10.0,
}
COLUMNS = [
    ("hosts", "N"),
    ("events_per_host", "E"),
    ("auth", "auth"),
    ("wall_seconds", "wall s"),
    ("bound_seconds", "bound s"),
    ("wall_over_bound", "wall/bound"),
    ("hosts_per_second", "hosts/s"),
    ("cpu_ms_per_host", "CPU ms/host"),
    ("peak_rss_mb", "RSS MB"),
    ("requests_per_host", "req/host"),
    ("host_errors", "errors"),
]


def run(hosts: int, events: int, auth: str, extra: list[str] | None = None) -> dict[str, Any]:
    argv = [
        "--hosts",
        str(hosts),
        "--events",
        str(events),
        "--latency-ms",
        "50",
        "--forks",
        "100",
        "--auth",
        auth,
        "--quiet",
        *(extra or []),
    ]
    result = audit.main(argv)
    print(audit.summary_line(result), flush=True)
    return result


def table(rows: list[dict[str, Any]]) -> str:
    cells = [[h for _, h in COLUMNS]]
    cells += [[str(row.get(key)) for key, _ in COLUMNS] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdicts(basic: dict[str, Any], ntlm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with the measured value and whether it is met."""
    measured = {
        "wall_over_bound": (max(basic["wall_over_bound"], ntlm["wall_over_bound"]), "max"),
        "cpu_ms_per_host_basic": (basic["cpu_ms_per_host"], "max"),
        "cpu_ms_per_host_ntlm": (ntlm["cpu_ms_per_host"], "max"),
        "peak_rss_mb": (max(basic["peak_rss_mb"], ntlm["peak_rss_mb"]), "max"),
        "baseline_ratio_min": (basic.get("baseline_ratio"), "min"),
    }
    out = {}
    for name, (value, kind) in measured.items():
        limit = TARGETS[name]
        met = value is not None and (value <= limit if kind == "max" else value >= limit)
        out[name] = {"target": limit, "measured": value, "met": met}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="add N = 10,000")
    parser.add_argument("--baseline-hosts", type=int, default=100)
    args = parser.parse_args()
    began = time.monotonic()
    sizes = [10, 100, 1000] + ([10000] if args.long else [])
    series: list[dict[str, Any]] = []
    target_basic: dict[str, Any] | None = None
    for events in (1000, 100000):
        for hosts in sizes:
            target = hosts == 1000 and events == 1000
            extra = ["--baseline", "--baseline-hosts", str(args.baseline_hosts)] if target else []
            result = run(hosts, events, "basic", extra)
            series.append(result)
            if target:
                target_basic = result
    assert target_basic is not None
    target_ntlm = run(1000, 1000, "ntlm")
    summary = {
        "series": series,
        "target": {"basic": target_basic, "ntlm": target_ntlm},
        "targets": verdicts(target_basic, target_ntlm),
        "total_seconds": round(time.monotonic() - began, 1),
    }
    (audit.RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print()
    print(table([*series, target_ntlm]))
    print()
    baseline = target_basic["baseline"]
    print(
        f"naive baseline ({baseline['run_ps_per_host']} run_ps/host, {baseline['hosts']} hosts): "
        f"{baseline['hosts_per_second']} hosts/s; audit {target_basic['hosts_per_second']} "
        f"hosts/s: x{target_basic['baseline_ratio']}"
    )
    for name, verdict in summary["targets"].items():
        mark = "met" if verdict["met"] else "MISSED"
        print(f"{name}: {verdict['measured']} (target {verdict['target']}): {mark}")
    print(f"results: {audit.RESULTS / 'summary.json'} ({summary['total_seconds']} s)")


if __name__ == "__main__":
    main()
