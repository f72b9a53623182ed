"""What event collection costs on a big log: collect.js on the fake WSH, before and after.

    python bench/events.py [--records 100000] [--before COMMIT]

One Exchange 2003 host whose Application log holds `--records` records (a noisy source plus
the kinds the shipped playbooks look for) and a System log of 10,000; the audit request of
every shipped playbook, 30 days back. collect.js runs under tests/probes/js_harness/wsh_host.js,
which records per WQL query the rows of its log it scanned and the rows it returned. "after"
is the script of this checkout; "before" the script at `--before` (default: the commit before
issue 13's event work), run on a copy of the fake that accepts SELECT * (the fake refuses it
for tests; the copy lives in a temporary directory). Reports queries, rows scanned, rows
returned (each crossing COM with its Message formatted) and wall time; results go to
bench/results/events.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from remediate.audit.request import collect_request  # noqa: E402
from remediate.lab.fleet import HostSpec  # noqa: E402
from remediate.probes.assemble import build_script  # noqa: E402
from remediate.probes.protocol import jscript_arguments_line  # noqa: E402
from remediate.probes.shipped import _INCLUDE  # noqa: E402
from remediate.rules.playbook import load_playbooks  # noqa: E402
from remediate.transport import WSH_BOOTSTRAP  # noqa: E402
from tests.probes.test_collect_js import fake_host  # noqa: E402

HARNESS = ROOT / "tests" / "probes" / "js_harness" / "wsh_host.js"
BEFORE = "ff42c8e"  # the last commit before the event collection rework


def host(records: int) -> HostSpec:
    now = datetime.now(UTC)
    return HostSpec.model_validate(
        {
            "name": "big.lab.local",
            "os": {"powershell": None},
            "exchange": {},
            "event_logs": {
                "generators": [
                    {
                        "source": "Noisy App",
                        "event_id": 1000,
                        "type": "information",
                        "count": records - 200,
                        "every_seconds": 60,
                        "end": now.isoformat(),
                    },
                    {
                        "source": "MSExchangeMTA",
                        "event_id": 9405,
                        "qualifiers": 0xC000,
                        "message": "error -2147219168",
                        "count": 100,
                        "every_seconds": 3600,
                        "end": now.isoformat(),
                    },
                    {
                        "source": "MSExchangeIS",
                        "event_id": 9548,
                        "count": 100,
                        "every_seconds": 3600,
                        "end": now.isoformat(),
                    },
                    {
                        "log": "System",
                        "source": "EventLog",
                        "event_id": 6005,
                        "type": "information",
                        "count": 10_000,
                        "every_seconds": 300,
                        "end": now.isoformat(),
                    },
                ]
            },
        }
    )


def _git_show(commit: str, path: str) -> str:
    return subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def script_at(commit: str | None, arguments: dict[str, object]) -> str:
    """The collector as sent, from this checkout or from `commit`'s collect.js/common.js."""
    if commit is None:
        return build_script("collect", 1, "wsh", arguments)
    common = _git_show(commit, "remediate/probes/common.js").rstrip("\n")
    source = _INCLUDE.sub(lambda _: common, _git_show(commit, "remediate/probes/collect.js"))
    return (
        "\r\n".join(["// remediate-script: collect v1", jscript_arguments_line(arguments), source])
        + "\r\n"
    )


def run(script: str, description: dict[str, object], permissive: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        harness = Path(scratch) / "wsh_host.js"
        text = HARNESS.read_text(encoding="utf-8")
        if permissive:  # the old script's SELECT *: measured, not refused
            text = text.replace(
                'if (className === "Win32_NTLogEvent" && fields === null) {',
                "if (false) {",
            )
        harness.write_text(text, encoding="utf-8")
        path = Path(scratch) / "host.json"
        path.write_text(json.dumps(description), encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run(
            ["node", "--max-old-space-size=4096", str(harness), str(path), WSH_BOOTSTRAP],
            input=script.encode("utf-8"),
            capture_output=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode("utf-8", "replace")[-2000:])
    report = json.loads(done.stderr.decode().splitlines()[-1])
    reads = report["reads"]
    return {
        "event_queries": len(reads),
        "select_star": sum(1 for r in reads if r["fields"] is None),
        "unbounded": sum(1 for r in reads if r["since"] is None),
        "rows_scanned": sum(r["scanned"] for r in reads),
        "rows_returned": sum(r["returned"] for r in reads),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--before", default=BEFORE)
    options = parser.parse_args()
    spec = host(options.records)
    description = fake_host(spec)
    request = collect_request(
        load_playbooks([ROOT / "playbooks"]), datetime.now(UTC) - timedelta(days=30)
    )
    arguments = request.arguments()
    results = {
        "records": options.records,
        "filters": len(request.events),
        "after": run(script_at(None, arguments), description, permissive=False),
        "before": run(script_at(options.before, arguments), description, permissive=True),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "events.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
