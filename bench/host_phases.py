"""Where one host's CPU goes: the audit run with its hosts one after another, each phase timed.

    python bench/host_phases.py [--hosts 100] [--auth ntlm|basic]

The lab (a child process, as in bench/audit.py) serves N Exchange 5.5 hosts with no added
latency; `remediate audit` then runs in this process with its hosts one at a time in this
thread (no pool, so no thread contention), and each phase's CPU time (`time.process_time`)
is summed around the functions that do it: the WinRM exchange (`WinRMTransport.run`, then
`close`: the shell's Delete), reading the collector's output (`parse_evidence`), judging each
playbook (`evaluate`), loading the playbooks and writing the reports. Per host means the sum
over the run divided by N; the rest of a host's `_audit_host` (its target's transport, the
result) is "other". What is not under `_audit_host` is the run's fixed cost, spread over N.

Unlike a profiler this adds almost nothing to what it measures, so the figures add up to the
process's own CPU; unlike bench/audit.py it shows no contention between threads (run that at
forks 20 and 100 to see it). Results: bench/results/host-phases-<auth>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.audit import RESULTS, ROOT, compiled, fleet_yaml, running_lab, set_transport

PHASES = (
    ("remediate.audit.run", "_audit_host", "host (all of it)"),
    ("remediate.transport.winrm", "WinRMTransport.run", "WinRM exchange"),
    ("remediate.transport.winrm", "WinRMTransport.close", "shell Delete and close"),
    ("remediate.audit.host", "parse_evidence", "read the collector's output"),
    ("remediate.audit.run", "evaluate", "judge the playbooks"),
    ("remediate.audit.session", "load_playbook_set", "load the playbooks (fixed)"),
    ("remediate.audit.session", "write_reports", "write the reports"),
)


def _timed(owner: Any, name: str, label: str, spent: Counter[str]) -> None:
    """Wrap owner.name so that its CPU time adds to spent[label]."""
    inner: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - began

    setattr(owner, name, timed)


def _in_this_thread(function: Callable[..., Any], *args: object) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_running_or_notify_cancel()
    try:
        future.set_result(function(*args))
    except BaseException as exc:  # as the audit's own thread hands it over
        future.set_exception(exc)
    return future


def measure(hosts: int, auth: str) -> dict[str, Any]:
    import importlib

    import remediate.audit.run as run
    from remediate.cli import main as remediate_main

    spent: Counter[str] = Counter()
    for module_name, qualified, label in PHASES:
        owner: Any = importlib.import_module(module_name)
        *path, name = qualified.split(".")
        for part in path:
            owner = getattr(owner, part)
        _timed(owner, name, label, spent)
    run._start = _in_this_thread  # type: ignore[assignment]
    work = Path(tempfile.mkdtemp(prefix="bench-phases-"))
    with running_lab(fleet_yaml(hosts, 1000, 0), work):
        set_transport(work / "hosts.ini", auth)
        arguments = [
            "audit",
            str(work / "hosts.ini"),
            "-o",
            str(work / "out"),
            "--forks",
            "1",
            "--workers",
            "1",
            "--no-history",
            "--format",
            "json",
            *(["--allow-insecure"] if auth == "basic" else []),
        ]
        saved = sys.argv
        sys.argv = ["remediate", *arguments]
        began = time.process_time()
        try:
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                remediate_main()
        except SystemExit:
            pass
        finally:
            sys.argv = saved
        total = time.process_time() - began
    host = spent["host (all of it)"]
    inside = sum(
        spent[label]
        for label in ("WinRM exchange", "shell Delete and close", "read the collector's output")
    )
    per_host = {label: round(spent[label] / hosts * 1000, 2) for _, _, label in PHASES}
    per_host["other, per host"] = round(
        (host - inside - spent["judge the playbooks"]) / hosts * 1000, 2
    )
    per_host["fixed (outside the hosts), spread"] = round((total - host) / hosts * 1000, 2)
    return {"hosts": hosts, "auth": auth, "cpu_seconds": round(total, 3), "ms_per_host": per_host}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--auth", choices=("ntlm", "basic"), default="ntlm")
    args = parser.parse_args()
    compiled(ROOT)
    result = measure(args.hosts, args.auth)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"host-phases-{args.auth}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.hosts} {args.auth} hosts, one at a time: {result['cpu_seconds']} s of CPU")
    for label, value in result["ms_per_host"].items():
        print(f"  {label:38s} {value:7.2f} ms/host")


if __name__ == "__main__":
    main()
