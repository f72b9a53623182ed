"""How big a fleet one lab process holds: start time, memory, and an audit of all of it.

    python bench/lab_scale.py --hosts 1000 --events 10000 [--forks 100] [--no-audit]

Starts the lab in a child process (so its memory is its own), writes the inventory, audits
every host with the shipped playbooks, and reports: lab start time, lab peak RSS, audit wall
time, hosts per second, and shells left open. Results go to bench/results/lab_scale.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def fleet_yaml(hosts: int, events: int, all_endpoints: bool) -> str:
    endpoints = "{}" if all_endpoints else "{https: false, ssh: false}"
    lines = [
        "name: scale",
        "address_base: 127.30.0.1",
        "defaults:",
        "  exchange: {version: '5.5', build: 5.5.2448.0, service_pack: 2,",
        "             install_root: 'C:\\exchsrvr'}",
        f"  endpoints: {endpoints}",
        "  files:",
        "    - {path: 'C:\\exchsrvr\\bin\\emsmta.exe', version: 5.5.2448.0}",
        "  event_logs:",
        "    generators:",
        f"      - {{source: MSExchangeMTA, event_id: 4284, count: {events // 2},",
        "          every_seconds: 60, message: 'Connection error. Error code=8511'}",
        "      - {source: MSExchangeIS, event_id: 1221, type: information,",
        f"          count: {events - events // 2}}}",
        "hosts:",
    ]
    lines += [f"  - name: scale{i:05d}.lab.local" for i in range(hosts)]
    return "\n".join(lines) + "\n"


def serve(
    fleet_text: str, inventory: str, ready: multiprocessing.Queue, stop: multiprocessing.Event
) -> None:
    from remediate.lab.fleet import parse_fleet
    from remediate.lab.inventory_writer import write_inventory
    from remediate.lab.server import Lab

    started = time.monotonic()
    fleet = parse_fleet(fleet_text, "scale.yml")
    with Lab(fleet, port_mode="ephemeral") as lab:
        write_inventory(lab, Path(inventory))
        ready.put(
            {
                "start_seconds": time.monotonic() - started,
                "rss_after_start_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
        stop.wait()
        ready.put(
            {
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "shells_open": lab.open_shells(),
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--forks", type=int, default=100)
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument(
        "--all-endpoints", action="store_true", help="also HTTPS and SSH listeners per host"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lab-scale-"))
    inventory = work / "hosts.ini"
    ready: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    child = multiprocessing.Process(
        target=serve,
        args=(fleet_yaml(args.hosts, args.events, args.all_endpoints), str(inventory), ready, stop),
    )
    child.start()
    result = {
        "hosts": args.hosts,
        "events_per_host": args.events,
        "forks": args.forks,
        "all_endpoints": args.all_endpoints,
    }
    result.update(ready.get(timeout=600))
    if not args.no_audit:
        began = time.monotonic()
        audit = subprocess.run(
            [
                sys.executable,
                "-m",
                "remediate",
                "audit",
                str(inventory),
                "-o",
                str(work / "out"),
                "--forks",
                str(args.forks),
                "--timeout",
                "300",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        wall = time.monotonic() - began
        document = json.loads((work / "out" / "latest.json").read_text())
        errors = sum(1 for h in document["hosts"] if h["error"])
        result.update(
            {
                "audit_wall_seconds": round(wall, 2),
                "hosts_per_second": round(args.hosts / wall, 1),
                "audit_exit_code": audit.returncode,
                "host_errors": errors,
            }
        )
    stop.set()
    result.update(ready.get(timeout=120))
    child.join(timeout=60)
    out = ROOT / "bench" / "results" / "lab_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
