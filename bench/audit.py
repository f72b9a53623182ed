"""Audit benchmark: `remediate audit` against a lab fleet, measured, with its round-trip bound.

    python bench/audit.py --hosts 1000 --latency-ms 50 --events 1000 --forks 100 --auth basic \
        [--baseline] [--baseline-hosts K] [--profile | --yappi]

The lab runs in a child process (its CPU and memory are its own) with N hosts carrying the
five seed playbooks' files, E event records each and L ms added to every request. The audit
runs as `python -m remediate audit` in its own process; its CPU time and peak RSS come from
`os.wait4` on that process and the processes it started (its forkserver and workers), not
the lab's. Requests per host come from the lab's counters (admin endpoint `/totals`, before
and after). The bound is `ceil(N/F) x requests_per_host x L`.
With `--baseline`, bench/naive_baseline.py (pywinrm `run_ps`, one call per query) runs on
the same fleet. Results go to bench/results/audit-<params>.json; one summary line to stdout.
`--yappi` profiles the audit in this process instead (every thread, CPU clock) and writes
bench/results/audit-<params>-yappi.txt, to see where a host's CPU goes.
`--against REF` measures an earlier version in the same run: REF (a commit or tag) is checked
out in a temporary git worktree, and its audit and ours run alternately on the same fleet,
`--rounds` times each; medians and the CPU-per-host ratio go into the result (`against`).
Ours runs with `--workers` (default 1, so that both are one process) unless set.
Both trees are byte-compiled first (`compiled`), as installing a package does: a checkout run
with PYTHONDONTWRITEBYTECODE set, as on the development machine, would otherwise compile some
70 modules from source in every run (0.25 s of CPU, counted against each host).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import math
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

INSTALL_ROOT = "C:\\exchsrvr"
USER, PASSWORD = "LAB\\Administrator", "Lab-Passw0rd!"


def seed_files() -> list[tuple[str, str | None]]:
    """Every file the seed playbooks ask about, as (absolute path, installed version)."""
    from remediate.rules.playbook import load_playbooks

    files: dict[str, str | None] = {}
    for playbook in load_playbooks([ROOT / "playbooks"]):
        for row in playbook.fix.files if playbook.fix else ():
            root, relative = row.location()
            path = f"{INSTALL_ROOT}\\{relative}" if root == "exchange" else relative
            # SP2-era builds: older than every fixed version, so the audit has work to report
            files.setdefault(path.lower(), "5.5.2448.0" if row.version else None)
    return sorted(files.items())


def fleet_yaml(
    hosts: int,
    events: int,
    latency_ms: int,
    symptom_share: float = 0.01,
    allow_unencrypted: bool = True,
) -> str:
    """N Exchange 5.5 SP2 hosts; E events each, `symptom_share` of them playbook symptoms.

    The symptoms (MTA 4284 and 4287) come every 30 s, so every host is `affected` and returns
    event samples (up to each filter's cap); the rest is MSExchangeIS noise every 10 s.
    `allow_unencrypted=False` is Windows' default: plain HTTP then takes sealed messages only.
    """
    symptom = round(events * symptom_share)
    sealed_only = "" if allow_unencrypted else ", allow_unencrypted: false"
    lines = [
        "name: bench",
        "address_base: 127.40.0.1",
        "defaults:",
        "  exchange: {version: '5.5', build: 5.5.2448.0, service_pack: 2,",
        f"             install_root: '{INSTALL_ROOT}'}}",
        f"  endpoints: {{https: false, ssh: false{sealed_only}}}",
        f"  faults: {{latency_ms: {latency_ms}}}",
        "  files:",
    ]
    for path, version in seed_files():
        shown = f", version: {version}" if version else ""
        lines.append(f"    - {{path: '{path}'{shown}}}")
    lines += [
        "  event_logs:",
        "    generators:",
        f"      - {{source: MSExchangeMTA, event_id: 4284, count: {symptom // 2},",
        "          every_seconds: 30, message: 'Connection error. Error code=8511'}",
        f"      - {{source: MSExchangeMTA, event_id: 4287, count: {symptom - symptom // 2},",
        "          every_seconds: 30, message: 'Internal MTA error. Error code=8640'}",
        "      - {source: MSExchangeIS, event_id: 1221, type: information,",
        f"          count: {events - symptom}, every_seconds: 10}}",
        "hosts:",
    ]
    lines += [f"  - name: bench{i:05d}.lab.local" for i in range(hosts)]
    return "\n".join(lines) + "\n"


def serve(fleet_text: str, work: str, ready: Any, stop: Any) -> None:
    """Child process: run the lab, write hosts.ini and the naive host list, wait for stop."""
    from remediate.lab.fleet import parse_fleet
    from remediate.lab.inventory_writer import write_inventory
    from remediate.lab.server import Lab

    started = time.monotonic()
    with Lab(parse_fleet(fleet_text, "bench.yml"), port_mode="ephemeral") as lab:
        write_inventory(lab, Path(work) / "hosts.ini")
        targets = [f"{e.address}:{e.http_port}" for e in lab.endpoints()]
        (Path(work) / "targets.txt").write_text("\n".join(targets) + "\n")
        ready.put({"admin_url": lab.admin_url, "start_seconds": time.monotonic() - started})
        stop.wait()
        ready.put({"shells_open": lab.open_shells()})


@contextlib.contextmanager
def running_lab(fleet: str, work: Path) -> Iterator[dict[str, Any]]:
    """The lab in a child process for the block: yields its admin URL, start time and pid.

    After a block that ends normally, the dict also holds `shells_open` (shells the clients
    left open); the lab is stopped (terminated if it does not stop) however the block ends.
    """
    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    stop = context.Event()
    lab = context.Process(target=serve, args=(fleet, str(work), ready, stop), daemon=True)
    lab.start()
    try:
        started = ready.get(timeout=1800)
        started["pid"] = lab.pid
        yield started
        stop.set()
        started.update(ready.get(timeout=120))
    finally:
        stop.set()
        lab.join(timeout=60)
        if lab.is_alive():
            lab.terminate()


def totals(admin_url: str) -> dict[str, int]:
    """The lab's counters summed over every host."""
    with urllib.request.urlopen(f"{admin_url}/totals", timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def set_transport(inventory: Path, auth: str) -> None:
    """Point the lab inventory at `auth` (basic or ntlm) over HTTP."""
    text = inventory.read_text()
    text = re.sub(r"(?m)^ansible_winrm_transport=.*$", f"ansible_winrm_transport={auth}", text)
    inventory.write_text(text)


def compiled(tree: Path) -> None:
    """Byte-compile the `remediate` package of `tree`, as `pip install` does for a wheel."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "remediate")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_measured(
    command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> dict[str, Any]:
    """Run a process to completion; its wall time, CPU seconds and peak RSS (wait4).

    CPU counts the process and every process it started: wait4 includes the children it
    reaped, and the ones it left to others (the audit's forkserver, which reaps the workers)
    are adopted here (Linux's child subreaper) and reaped with wait4 too; without that, a
    run of over 100 hosts would show only its parent's share. Peak RSS is the largest of those
    processes, not their sum. `env` replaces the environment.
    """
    adopting = _become_subreaper()
    ours = {child.pid for child in psutil.Process().children()}
    began = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200"} if env is None else env,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - began
    usages = [usage, *(_reap_adopted(ours) if adopting else [])]
    user = sum(u.ru_utime for u in usages)
    system = sum(u.ru_stime for u in usages)
    return {
        "wall_seconds": wall,
        "cpu_seconds": user + system,
        "user_seconds": user,
        "system_seconds": system,
        "peak_rss_mb": max(u.ru_maxrss for u in usages) / 1024,
        "exit_code": process.returncode,
    }


def _become_subreaper() -> bool:
    """Adopt the orphans of the processes started here (prctl PR_SET_CHILD_SUBREAPER)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap_adopted(ours: set[int], patience: float = 60.0) -> list[Any]:
    """wait4 on every child not in `ours` (orphans adopted), as they end, for `patience` s."""
    usages: list[Any] = []
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        adopted = [c.pid for c in psutil.Process().children() if c.pid not in ours]
        if not adopted:
            break
        for pid in adopted:
            with contextlib.suppress(ChildProcessError):
                reaped, _, usage = os.wait4(pid, os.WNOHANG)
                if reaped:
                    usages.append(usage)
        time.sleep(0.05)
    return usages


def audit_command(args: argparse.Namespace, work: Path) -> list[str]:
    prefix = [sys.executable]
    if args.profile:
        prefix += ["-m", "pyinstrument", "-r", "text", "-o", str(work / "profile.txt"), "-m"]
    else:
        prefix += ["-m"]
    workers = [] if getattr(args, "workers", None) is None else ["--workers", str(args.workers)]
    return [*prefix, "remediate", *audit_arguments(args, work), *workers]


def against(args: argparse.Namespace, work: Path, first: dict[str, Any]) -> dict[str, Any]:
    """REF's audit and ours, alternately, `args.rounds` times on the running fleet (ours
    already ran once: `first`); medians of each, and REF's CPU per host over ours."""
    checkout = work / "against"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(checkout), args.against],
        cwd=ROOT,
        check=True,
    )
    try:
        compiled(checkout)
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=checkout,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        environment = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(checkout)}
        theirs: list[dict[str, Any]] = []
        ours: list[dict[str, Any]] = [first]
        command = [sys.executable, "-m", "remediate", *audit_arguments(args, work)]
        for round_number in range(args.rounds):
            log = work / f"against-{round_number}.log"
            theirs.append(run_measured(command, log, environment, cwd=checkout))
            if round_number:  # the first of ours ran before, in main()
                ours.append(run_measured(audit_command(args, work), work / "audit.log"))
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False
        )
    theirs_median, ours_median = _median_run(theirs), _median_run(ours)
    return {
        "ref": args.against,
        "commit": commit,
        "rounds": args.rounds,
        "theirs": theirs,
        "ours": ours,
        "theirs_median": theirs_median,
        "ours_median": ours_median,
        "cpu_ratio": round(theirs_median["cpu_seconds"] / ours_median["cpu_seconds"], 2),
        "wall_ratio": round(theirs_median["wall_seconds"] / ours_median["wall_seconds"], 2),
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median CPU time (a real run, so its numbers belong together)."""
    ordered = sorted(runs, key=lambda run: run["cpu_seconds"])
    return ordered[len(ordered) // 2]


def audit_arguments(args: argparse.Namespace, work: Path) -> list[str]:
    """`remediate`'s arguments for the audit of the lab's inventory in `work`."""
    command = [
        "audit",
        str(work / "hosts.ini"),
        "-o",
        str(work / "out"),
        "--forks",
        str(args.forks),
        "--timeout",
        "600",
        "--no-history",
        "--format",
        "json",
    ]
    return command + (["--allow-insecure"] if args.auth == "basic" else [])


def result_name(args: argparse.Namespace) -> str:
    return f"audit-n{args.hosts}-l{args.latency_ms}-e{args.events}-f{args.forks}-{args.auth}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--forks", type=int, default=100)
    parser.add_argument("--auth", choices=["basic", "ntlm"], default="basic")
    parser.add_argument("--baseline", action="store_true", help="also run the naive script")
    parser.add_argument(
        "--baseline-hosts", type=int, default=0, help="naive script on the first K hosts only"
    )
    parser.add_argument(
        "--symptom-share", type=float, default=0.01, help="share of events that are symptoms"
    )
    parser.add_argument("--profile", action="store_true", help="run the audit under pyinstrument")
    parser.add_argument(
        "--yappi",
        action="store_true",
        help="run the audit in this process (--workers 1) under yappi (CPU clock, all "
        "threads); writes its top functions, not the result JSON",
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="our audit's --workers (default: its own)"
    )
    parser.add_argument(
        "--against", metavar="REF", help="also run the audit of git REF, alternating with ours"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --against")
    parser.add_argument("--quiet", action="store_true", help="no summary line")
    args = parser.parse_args(argv)
    if args.against and args.workers is None:
        args.workers = 1
    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    compiled(ROOT)
    fleet = fleet_yaml(args.hosts, args.events, args.latency_ms, args.symptom_share)
    result: dict[str, Any] = {
        "hosts": args.hosts,
        "latency_ms": args.latency_ms,
        "events_per_host": args.events,
        "forks": args.forks,
        "auth": args.auth,
        "symptom_share": args.symptom_share,
    }
    with running_lab(fleet, work) as lab:
        result["lab_start_seconds"] = round(lab["start_seconds"], 2)
        admin = lab["admin_url"]
        set_transport(work / "hosts.ini", args.auth)
        lab_process = psutil.Process(lab["pid"])
        before, lab_cpu = totals(admin), sum(lab_process.cpu_times()[:2])
        if args.yappi:  # one process: yappi sees no worker process's functions
            arguments = [*audit_arguments(args, work), "--workers", "1"]
            audit = run_under_yappi(arguments, work / "audit.log")
        else:
            audit = run_measured(audit_command(args, work), work / "audit.log")
        after, lab_cpu = totals(admin), sum(lab_process.cpu_times()[:2]) - lab_cpu
        if args.against:
            result["against"] = against(args, work, audit)
            audit = result["against"]["ours_median"]
        result.update(summarise(args, audit, before, after, lab_cpu, work))
        if args.profile:
            result["profile"] = str(work / "profile.txt")
        if args.baseline:
            result["baseline"] = baseline(args, work)
            # throughput ratio: equals the wall ratio when the baseline runs on all N hosts
            result["baseline_ratio"] = round(
                result["hosts_per_second"] / result["baseline"]["hosts_per_second"], 1
            )
    result["shells_open"] = lab["shells_open"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.yappi:
        write_yappi_report(RESULTS / f"{result_name(args)}-yappi.txt", result)
        if not args.quiet:
            print(summary_line(result) + " (under yappi)")
        return result
    (RESULTS / f"{result_name(args)}.json").write_text(json.dumps(result, indent=2) + "\n")
    if not args.quiet:
        print(summary_line(result))
    return result


def run_under_yappi(arguments: list[str], log: Path) -> dict[str, Any]:
    """`remediate <arguments>` in this process under yappi's CPU clock, every thread profiled.

    The numbers are this process's own (the lab is a child): wall, CPU and peak RSS as
    `run_measured` gives them, inflated by the profiler; the profile stays in yappi for
    `write_yappi_report`.
    """
    import yappi

    from remediate.cli import main as remediate_main

    yappi.set_clock_type("cpu")
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.monotonic()
    saved_argv, exit_code = sys.argv, 0
    sys.argv = ["remediate", *arguments]
    yappi.start(builtins=False, profile_threads=True)
    try:
        with log.open("w") as out, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            remediate_main()
    except SystemExit as exc:
        exit_code = exc.code if isinstance(exc.code, int) else 1
    finally:
        yappi.stop()
        sys.argv = saved_argv
    usage = resource.getrusage(resource.RUSAGE_SELF)
    user = usage.ru_utime - usage_before.ru_utime
    system = usage.ru_stime - usage_before.ru_stime
    return {
        "wall_seconds": time.monotonic() - began,
        "cpu_seconds": user + system,
        "user_seconds": user,
        "system_seconds": system,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "exit_code": exit_code,
    }


def write_yappi_report(path: Path, result: dict[str, Any], lines: int = 40) -> None:
    """The top functions by total (inclusive) CPU time, then CPU time per thread."""
    import yappi

    functions = yappi.get_func_stats().sort("ttot", "desc")
    text = [
        summary_line(result),
        f"top {lines} functions by total CPU seconds (yappi, all threads):",
        f"{'ttot':>9} {'tsub':>9} {'calls':>9}  function",
    ]
    for stat in list(functions)[:lines]:
        text.append(f"{stat.ttot:9.3f} {stat.tsub:9.3f} {stat.ncall:9d}  {stat.full_name}")
    threads = list(yappi.get_thread_stats().sort("ttot", "desc"))
    busiest = min(len(threads), 10)
    text += [
        "",
        f"CPU seconds of {len(threads)} threads: {sum(t.ttot for t in threads):.3f}; "
        f"the {busiest} busiest:",
    ]
    for thread in threads[:busiest]:
        text.append(
            f"{thread.ttot:9.3f}  {thread.name} (id {thread.id}, {thread.sched_count} runs)"
        )
    path.write_text("\n".join(text) + "\n")


def summarise(
    args: argparse.Namespace,
    audit: dict[str, Any],
    before: dict[str, int],
    after: dict[str, int],
    lab_cpu: float,
    work: Path,
) -> dict[str, Any]:
    """The audit's numbers against the round-trip bound."""
    hosts, wall = args.hosts, audit["wall_seconds"]
    per_host = (after["requests"] - before["requests"]) / hosts
    bound = math.ceil(hosts / args.forks) * per_host * args.latency_ms / 1000
    errors = None
    latest = work / "out" / "latest.json"
    if latest.exists():
        errors = sum(1 for h in json.loads(latest.read_text())["hosts"] if h["error"])
    return {
        "wall_seconds": round(wall, 3),
        "hosts_per_second": round(hosts / wall, 1),
        "cpu_seconds": round(audit["cpu_seconds"], 2),
        "cpu_ms_per_host": round(1000 * audit["cpu_seconds"] / hosts, 2),
        "user_seconds": round(audit["user_seconds"], 2),
        "system_seconds": round(audit["system_seconds"], 2),
        "peak_rss_mb": round(audit["peak_rss_mb"], 1),
        "requests_per_host": round(per_host, 2),
        "connections_per_host": round((after["connections"] - before["connections"]) / hosts, 2),
        "bound_seconds": round(bound, 3),
        "wall_over_bound": round(wall / bound, 2) if bound else None,
        "lab_cpu_seconds": round(lab_cpu, 2),
        "audit_exit_code": audit["exit_code"],
        "host_errors": errors,
        "shells_left_open_after_audit": after["shells_open"],
    }


def baseline(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The naive pywinrm script on the same fleet (or its first K hosts)."""
    targets = work / "targets.txt"
    if args.baseline_hosts:
        lines = targets.read_text().splitlines()[: args.baseline_hosts]
        targets = work / "targets-baseline.txt"
        targets.write_text("\n".join(lines) + "\n")
    command = [
        sys.executable,
        str(ROOT / "bench" / "naive_baseline.py"),
        str(targets),
        "--user",
        USER,
        "--password",
        PASSWORD,
        "--transport",
        args.auth,
        "--forks",
        str(args.forks),
        "--json",
    ]
    log = work / "baseline.log"
    measured = run_measured(command, log)
    report = json.loads(log.read_text().strip().splitlines()[-1])
    report["cpu_seconds"] = round(measured["cpu_seconds"], 2)
    report["peak_rss_mb"] = round(measured["peak_rss_mb"], 1)
    return report


def summary_line(result: dict[str, Any]) -> str:
    line = (
        f"audit N={result['hosts']} L={result['latency_ms']}ms E={result['events_per_host']} "
        f"F={result['forks']} {result['auth']}: wall {result['wall_seconds']:.2f}s "
        f"({result['hosts_per_second']} hosts/s), bound {result['bound_seconds']:.2f}s "
        f"(x{result['wall_over_bound']}), CPU {result['cpu_ms_per_host']} ms/host, "
        f"RSS {result['peak_rss_mb']} MB, {result['requests_per_host']} req/host, "
        f"errors {result['host_errors']}"
    )
    if "against" in result:
        compared = result["against"]
        theirs = compared["theirs_median"]["cpu_seconds"] * 1000 / result["hosts"]
        line += (
            f"; {compared['ref']} ({compared['commit']}) {theirs:.1f} ms/host: "
            f"CPU/host x{compared['cpu_ratio']}, wall x{compared['wall_ratio']} "
            f"(medians of {compared['rounds']})"
        )
    if "baseline" in result:
        line += (
            f", naive {result['baseline']['wall_seconds']:.1f}s "
            f"on {result['baseline']['hosts']} hosts (x{result['baseline_ratio']})"
        )
    return line


if __name__ == "__main__":
    main()
