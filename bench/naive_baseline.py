"""The audit as a user would script it with pywinrm: one `Session.run_ps` per query.

    python bench/naive_baseline.py HOSTS_FILE --user 'LAB\\Administrator' --password ... \
        [--transport basic|ntlm] [--forks 100] [--json]

HOSTS_FILE has one `address:port` per line (WinRM over HTTP). Per host, sequentially: one
run_ps per fact (OS, computer name, pending reboot, Exchange root, build and service pack, each
service and component state), one per file of the playbooks, one per event filter. Hosts run
in a thread pool of `--forks`. The queries are real PowerShell; the lab does not interpret
arbitrary PowerShell and answers each with a quick error, which is enough to time a round trip.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import winrm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXCHANGE_ROOT = "C:\\exchsrvr"  # the fleet's install root, as an admin would hard-code it
EXCHANGE_KEY = r"HKLM:\SYSTEM\CurrentControlSet\Services\MSExchangeSA\Parameters"
FACTS = [
    "Get-WmiObject Win32_OperatingSystem | Select Caption,Version,BuildNumber,"
    "ServicePackMajorVersion | ConvertTo-Json",
    "$env:COMPUTERNAME",
    "Test-Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager"
    "\\PendingFileRenameOperations'",
    f"(Get-ItemProperty '{EXCHANGE_KEY}').ExchangeRoot",
    f"(Get-ItemProperty '{EXCHANGE_KEY}').Build",
    f"(Get-ItemProperty '{EXCHANGE_KEY}').ServicePack",
]


def queries(playbooks: Path, since: timedelta = timedelta(days=7)) -> list[str]:
    """One PowerShell query per fact, service, component, file and event filter."""
    from remediate.audit.request import collect_request
    from remediate.rules.playbook import load_playbooks

    request = collect_request(load_playbooks([playbooks]), datetime.now(UTC) - since)
    found: list[str] = list(FACTS)
    found += [f"(Get-Service '{name}').Status" for name in request.services]
    found += [f"(Get-WindowsFeature '{c.name}').Installed" for c in request.components]
    found += [
        f"(Get-Item '{EXCHANGE_ROOT}\\{f.path}').VersionInfo.FileVersion" for f in request.files
    ]
    after = (datetime.now(UTC) - since).strftime("%Y-%m-%dT%H:%M:%SZ")
    for event in request.events:
        sources = ",".join(f"'{s}'" for s in event.sources) or "$null"
        ids = ",".join(str(i) for i in event.event_ids)
        found.append(
            f"Get-EventLog -LogName {event.log} -Source {sources} -After '{after}' "
            f"| Where-Object {{ @({ids}) -contains $_.EventID }} "
            f"| Select -First {event.max_samples} | ConvertTo-Json"
        )
    return found


def audit_host(
    target: str, user: str, password: str, transport: str, scripts: list[str]
) -> tuple[int, int]:
    """Run every query on one host; (queries answered, queries that failed to connect)."""
    session = winrm.Session(f"http://{target}/wsman", auth=(user, password), transport=transport)
    answered = failed = 0
    for script in scripts:
        try:
            session.run_ps(script)
            answered += 1
        except Exception:  # a user's script counts failures and moves on
            failed += 1
    return answered, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hosts_file", type=Path)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--transport", choices=["basic", "ntlm"], default="basic")
    parser.add_argument("--forks", type=int, default=100)
    parser.add_argument("--playbooks", type=Path, default=ROOT / "playbooks")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    targets = [ln.strip() for ln in args.hosts_file.read_text().splitlines() if ln.strip()]
    scripts = queries(args.playbooks)
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.forks) as pool:
        outcomes = list(
            pool.map(
                lambda t: audit_host(t, args.user, args.password, args.transport, scripts),
                targets,
            )
        )
    wall = time.monotonic() - began
    result = {
        "hosts": len(targets),
        "forks": args.forks,
        "transport": args.transport,
        "run_ps_per_host": len(scripts),
        "wall_seconds": round(wall, 3),
        "hosts_per_second": round(len(targets) / wall, 2),
        "run_ps_answered": sum(a for a, _ in outcomes),
        "run_ps_failed": sum(f for _, f in outcomes),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
