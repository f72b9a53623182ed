"""Ansible's one raw command against `remediate audit`, on the same lab fleet, measured alike.

    python bench/vs_ansible.py [--hosts 200] [--latency-ms 50] [--forks 50] [--rounds 2] \
        [--auth ntlm|basic] [--events 1000]

Why: the issue's claim is that a full audit costs less than Ansible's cheapest possible
contact with a fleet, `ansible all -m raw -a hostname`. One lab (a child process, as in
bench/audit.py) serves both tools; each round runs both, the order swapped every round so
neither always meets a warm or a cold machine, and the medians are reported. Each tool is its
own process measured by `os.wait4`: CPU is user+sys of it and the children it reaped (Ansible's
forks), peak RSS the largest of those processes; the summed RSS of the tool's process tree is
sampled too (an upper bound: forked workers share pages). With NTLM the lab refuses unsealed
messages over HTTP (AllowUnencrypted false, Windows' default), so a host answering at all proves
the tool sealed its messages. Ansible runs with a private HOME and temp dir and an empty
ansible.cfg; a host it did not reach fails the benchmark. Results go to
bench/results/vs-ansible-<params>.json; one summary line to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.audit import (
    RESULTS,
    ROOT,
    audit_command,
    compiled,
    fleet_yaml,
    run_measured,
    running_lab,
    set_transport,
    summarise,
    totals,
)

# the targets: the audit's wall time and CPU per host against Ansible's raw command
WALL_TARGET, CPU_TARGET = 20.0, 50.0
# `ansible -o` prints one line per host: "<host> | CHANGED | rc=0 | (stdout) ..."
ANSIBLE_LINE = re.compile(r"(?m)^(\S+) \| (CHANGED|SUCCESS|FAILED!?|UNREACHABLE!)")


def ansible_inventory(inventory: Path, auth: str) -> None:
    """Make the lab inventory's message protection explicit, for both tools alike."""
    encryption = "always" if auth == "ntlm" else "never"
    text = inventory.read_text().replace(
        "[winrm:vars]\n",
        f"[winrm:vars]\nansible_winrm_message_encryption={encryption}\n"
        "ansible_winrm_server_cert_validation=ignore\n",
        1,
    )
    inventory.write_text(text)


def ansible_environment(work: Path) -> dict[str, str]:
    """No setting of the user's: no ANSIBLE_* variable, an empty ansible.cfg, a private HOME."""
    home = work / "ansible-home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    config = work / "ansible.cfg"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        HOME=str(home),
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="1",
        COLUMNS="200",
    )
    return env


def ansible_command(work: Path, forks: int) -> list[str]:
    ansible = Path(sys.executable).with_name("ansible")
    if not ansible.exists():
        sys.exit(f"no {ansible}: install the bench extra (pip install -e '.[bench]')")
    inventory = str(work / "hosts.ini")
    return [str(ansible), "all", "-i", inventory, "-m", "raw", "-a", "hostname", "-f", str(forks)]


def ansible_outcome(log: Path, hosts: int) -> dict[str, int]:
    """Hosts per outcome in Ansible's one-line output; exits loudly unless all N answered."""
    text = log.read_text(errors="replace")
    outcomes: dict[str, str] = {}
    for match in ANSIBLE_LINE.finditer(text):
        outcomes[match[1]] = match[2].rstrip("!")
    counts = {
        "ok": sum(1 for o in outcomes.values() if o in ("CHANGED", "SUCCESS")),
        "failed": sum(1 for o in outcomes.values() if o == "FAILED"),
        "unreachable": sum(1 for o in outcomes.values() if o == "UNREACHABLE"),
    }
    if counts["ok"] != hosts:
        bad = [line for line in text.splitlines() if "UNREACHABLE" in line or "FAILED" in line]
        sys.exit(
            f"Ansible reached {counts['ok']} of {hosts} hosts ({counts}); log {log}\n"
            + "\n".join(bad[:5])
        )
    return counts


class TreeRss:
    """The summed RSS of this process's children, sampled, the lab's process excluded."""

    def __init__(self, exclude: int, every: float = 0.25) -> None:
        self.exclude, self.every, self.peak = exclude, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self.every):
            total = 0
            for child in me.children(recursive=True):
                try:
                    if child.pid != self.exclude and child.ppid() != self.exclude:
                        total += child.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)


def measured_run(
    command: list[str],
    log: Path,
    admin: str,
    lab_pid: int,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, int], dict[str, int], float]:
    """One run: its wait4 numbers with the sampled tree RSS, lab counters before and after,
    and the lab's CPU seconds meanwhile."""
    lab = psutil.Process(lab_pid)
    before, lab_cpu = totals(admin), sum(lab.cpu_times()[:2])
    with TreeRss(exclude=lab_pid) as tree:
        run = run_measured(command, log, env)
    after, lab_cpu = totals(admin), sum(lab.cpu_times()[:2]) - lab_cpu
    run["peak_tree_rss_mb"] = tree.peak / 2**20
    return run, before, after, lab_cpu


def per_host(before: dict[str, int], after: dict[str, int], hosts: int, key: str) -> float:
    return round((after[key] - before[key]) / hosts, 2)


def ansible_round(args: argparse.Namespace, work: Path, lab: dict[str, Any]) -> dict[str, Any]:
    log = work / "ansible.log"
    run, before, after, lab_cpu = measured_run(
        ansible_command(work, args.forks), log, lab["admin_url"], lab["pid"], args.environment
    )
    outcome = ansible_outcome(log, args.hosts)
    return {
        "wall_seconds": round(run["wall_seconds"], 3),
        "cpu_seconds": round(run["cpu_seconds"], 2),
        "cpu_ms_per_host": round(1000 * run["cpu_seconds"] / args.hosts, 2),
        "user_seconds": round(run["user_seconds"], 2),
        "system_seconds": round(run["system_seconds"], 2),
        "peak_rss_mb": round(run["peak_rss_mb"], 1),
        "peak_tree_rss_mb": round(run["peak_tree_rss_mb"], 1),
        "exit_code": run["exit_code"],
        **outcome,
        "requests_per_host": per_host(before, after, args.hosts, "requests"),
        "connections_per_host": per_host(before, after, args.hosts, "connections"),
        "auth_failures": after["auth_failures"] - before["auth_failures"],
        "lab_cpu_seconds": round(lab_cpu, 2),
    }


def audit_round(args: argparse.Namespace, work: Path, lab: dict[str, Any]) -> dict[str, Any]:
    run, before, after, lab_cpu = measured_run(
        audit_command(args, work), work / "audit.log", lab["admin_url"], lab["pid"]
    )
    result = summarise(args, run, before, after, lab_cpu, work)
    if result["host_errors"] != 0:
        sys.exit(f"the audit failed on {result['host_errors']} hosts; log {work / 'audit.log'}")
    result["peak_tree_rss_mb"] = round(run["peak_tree_rss_mb"], 1)
    result["auth_failures"] = after["auth_failures"] - before["auth_failures"]
    return result


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every numeric field over the rounds."""
    return {
        key: round(statistics.median(r[key] for r in runs), 3)
        for key, value in runs[0].items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def compare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    # Basic over HTTP is plain text: only then may the lab take unsealed messages
    plain = args.auth == "basic"
    fleet = fleet_yaml(args.hosts, args.events, args.latency_ms, allow_unencrypted=plain)
    rounds: list[dict[str, dict[str, Any]]] = []
    with running_lab(fleet, work) as lab:
        set_transport(work / "hosts.ini", args.auth)
        ansible_inventory(work / "hosts.ini", args.auth)
        tools: list[tuple[str, Callable[..., dict[str, Any]]]] = [
            ("ansible", ansible_round),
            ("audit", audit_round),
        ]
        for number in range(args.rounds):
            order = tools if number % 2 == 0 else tools[::-1]
            rounds.append({name: run(args, work, lab) for name, run in order})
            if not args.quiet:
                print(round_line(number, rounds[-1]), file=sys.stderr)
    ansible = medians([r["ansible"] for r in rounds])
    audit = medians([r["audit"] for r in rounds])
    wall_ratio = ansible["wall_seconds"] / audit["wall_seconds"]
    cpu_ratio = ansible["cpu_ms_per_host"] / audit["cpu_ms_per_host"]
    return {
        "hosts": args.hosts,
        "latency_ms": args.latency_ms,
        "events_per_host": args.events,
        "forks": args.forks,
        "auth": args.auth,
        "message_encryption": args.auth == "ntlm",
        "lab_refuses_unsealed_http": args.auth == "ntlm",
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "ansible_command": "ansible all -i hosts.ini -m raw -a hostname -f F",
        "wall_ratio": round(wall_ratio, 2),
        "cpu_per_host_ratio": round(cpu_ratio, 2),
        "wall_target": WALL_TARGET,
        "cpu_per_host_target": CPU_TARGET,
        "wall_target_met": wall_ratio >= WALL_TARGET,
        "cpu_per_host_target_met": cpu_ratio >= CPU_TARGET,
        "ansible_median": ansible,
        "audit_median": audit,
        "runs": rounds,
        "shells_left_open_at_end": lab["shells_open"],
    }


def round_line(number: int, runs: dict[str, dict[str, Any]]) -> str:
    parts = [
        f"{name} {r['wall_seconds']:.2f}s wall, {r['cpu_ms_per_host']} ms CPU/host"
        for name, r in runs.items()
    ]
    return f"round {number + 1}: " + "; ".join(parts)


def summary_line(result: dict[str, Any]) -> str:
    ansible, audit = result["ansible_median"], result["audit_median"]
    return (
        f"vs ansible N={result['hosts']} L={result['latency_ms']}ms E={result['events_per_host']} "
        f"F={result['forks']} {result['auth']} (median of {result['rounds']}): "
        f"ansible raw {ansible['wall_seconds']:.2f}s {ansible['cpu_ms_per_host']} ms CPU/host "
        f"RSS {ansible['peak_rss_mb']} MB (tree {ansible['peak_tree_rss_mb']} MB); "
        f"audit {audit['wall_seconds']:.2f}s {audit['cpu_ms_per_host']} ms CPU/host "
        f"RSS {audit['peak_rss_mb']} MB; wall x{result['wall_ratio']} "
        f"(target {WALL_TARGET:g}: {'met' if result['wall_target_met'] else 'NOT met'}), "
        f"CPU/host x{result['cpu_per_host_ratio']} "
        f"(target {CPU_TARGET:g}: {'met' if result['cpu_per_host_target_met'] else 'NOT met'})"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="alternations; medians reported")
    parser.add_argument("--auth", choices=["ntlm", "basic"], default="ntlm")
    parser.add_argument("--events", type=int, default=1000, help="event records per host")
    parser.add_argument(
        "--workers", type=int, help="our audit's --workers (default: its own, one per core)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress or summary line")
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.forks < 1 or args.rounds < 1:
        parser.error("--hosts, --forks and --rounds must be at least 1")
    args.profile = False  # what bench/audit.py's audit_command reads
    work = Path(tempfile.mkdtemp(prefix="bench-vs-ansible-"))
    compiled(ROOT)  # as installed, like ansible-core from its wheel
    args.environment = ansible_environment(work)
    result = compare(args, work)
    result["workers"] = args.workers  # None: the audit's own default
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"vs-ansible-n{args.hosts}-l{args.latency_ms}-e{args.events}-f{args.forks}-{args.auth}"
    name += f"-w{args.workers}" if args.workers else ""
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if not args.quiet:
        print(summary_line(result))
    return result


if __name__ == "__main__":
    main()
