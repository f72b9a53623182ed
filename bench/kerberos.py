"""Kerberos benchmark: the controller's CPU per host for a Kerberos audit next to an NTLM one.

    python bench/kerberos.py --hosts 100 --forks 25 --events 200

A real MIT realm (tests/kerberos_realm.py: needs Debian's krb5-kdc, krb5-admin-server and
krb5-user, the `kerberos` extra, and pytest for that module's import) and a lab whose hosts are
domain members accepting both NTLM and Kerberos. The same fleet is audited twice over HTTP with
message encryption, each time by `python -m remediate audit` in its own process whose CPU time
comes from `os.wait4`: once with NTLM, once with Kerberos in managed mode (one AS exchange for
the run, then a service ticket, AP exchange and Kerberos sealing per host). Results go to
bench/results/kerberos-<params>.json; one summary line to stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from bench.audit import fleet_yaml, run_measured, totals  # noqa: E402

USER, SECRET = "svc-bench", "Bench-Krb-Passw0rd!"


def kerberos_fleet(hosts: int, events: int) -> str:
    """bench/audit.py's fleet on its own addresses, NTLM and Kerberos both accepted."""
    text = fleet_yaml(hosts, events, 0).replace(
        "address_base: 127.40.0.1", "address_base: 127.45.0.1"
    )
    text = text.replace("name: bench\n", "name: bench-kerberos\n")
    return text.replace(
        "  endpoints: {https: false, ssh: false}",
        "  endpoints: {https: false, ssh: false, ntlm: true, kerberos: true,"
        " allow_unencrypted: false}\n"
        f"  credentials: {{username: {USER}, password: '{SECRET}'}}",
    )


def serve(fleet_text: str, keytab: str, work: str, ready: Any, stop: Any) -> None:
    """Child process: the lab as domain members; writes both inventories; waits for stop."""
    from remediate.lab.fleet import KerberosSettings, parse_fleet
    from remediate.lab.server import Lab

    fleet = parse_fleet(fleet_text, "bench-kerberos.yml")
    settings = KerberosSettings(realm="LAB.LOCAL", keytab=Path(keytab))
    with Lab(fleet, port_mode="ephemeral", kerberos=settings) as lab:
        common = [
            "[windows:vars]",
            "ansible_winrm_scheme=http",
            "ansible_winrm_operation_timeout_sec=60",
            "ansible_winrm_read_timeout_sec=90",
            f"ansible_password='{SECRET}'",
        ]
        for auth in ("ntlm", "kerberos"):
            lines = ["[windows]"]
            for spec in fleet.hosts:
                endpoint = lab.endpoint(spec.name)
                line = (
                    f"{spec.name} ansible_host={endpoint.address} ansible_port={endpoint.http_port}"
                )
                if auth == "kerberos":
                    line += f" ansible_winrm_kerberos_hostname_override={lab.fqdn(spec.name)}"
                lines.append(line)
            user = f"{USER}@LAB.LOCAL" if auth == "kerberos" else f"LAB\\{USER}"
            lines += [*common, f"ansible_winrm_transport={auth}", f"ansible_user={user}"]
            (Path(work) / f"{auth}.ini").write_text("\n".join(lines) + "\n")
        ready.put({"admin_url": lab.admin_url})
        stop.wait()


def make_realm(directory: Path, fleet_text: str) -> Any:
    """The realm with the bench user and every host's SPNs (one kadmin.local for them all)."""
    from remediate.lab.fleet import parse_fleet
    from tests.kerberos_realm import create_realm, host_fqdn

    realm = create_realm(directory)
    os.environ["KRB5_CONFIG"] = str(realm.krb5_config)
    os.environ["KRB5CCNAME"] = f"FILE:{directory / 'ccache'}"  # never the user's own cache
    realm.add_user(USER, SECRET)
    queries = []
    for spec in parse_fleet(fleet_text, "bench-kerberos.yml").hosts:
        for name in (host_fqdn(spec.hostname), spec.hostname.lower()):
            queries += [
                f"addprinc -randkey HTTP/{name}@LAB.LOCAL",
                f"ktadd -k {realm.keytab} HTTP/{name}@LAB.LOCAL",
            ]
    realm._kadmin("\n".join(queries))
    return realm


def audit_once(work: Path, auth: str, forks: int, admin_url: str) -> dict[str, Any]:
    out = work / f"out-{auth}"
    command = [
        sys.executable,
        "-m",
        "remediate",
        "audit",
        str(work / f"{auth}.ini"),
        "-o",
        str(out),
        "--forks",
        str(forks),
        "--timeout",
        "600",
        "--no-history",
        "--format",
        "json",
    ]
    before = totals(admin_url)
    measured = run_measured(command, work / f"audit-{auth}.log")
    after = totals(admin_url)
    latest = out / "latest.json"
    hosts = json.loads(latest.read_text())["hosts"] if latest.exists() else []
    count = len(hosts) or 1
    return {
        "wall_seconds": round(measured["wall_seconds"], 3),
        "cpu_seconds": round(measured["cpu_seconds"], 2),
        "cpu_ms_per_host": round(1000 * measured["cpu_seconds"] / count, 2),
        "peak_rss_mb": round(measured["peak_rss_mb"], 1),
        "requests_per_host": round((after["requests"] - before["requests"]) / count, 2),
        "host_errors": sum(1 for h in hosts if h["error"]),
        "exit_code": measured["exit_code"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--forks", type=int, default=25)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-kerberos-"))
    fleet = kerberos_fleet(args.hosts, args.events)
    started = time.monotonic()
    (work / "realm").mkdir()
    realm = make_realm(work / "realm", fleet)
    context = multiprocessing.get_context("fork")
    ready, stop = context.Queue(), context.Event()
    lab = context.Process(
        target=serve, args=(fleet, str(realm.keytab), str(work), ready, stop), daemon=True
    )
    lab.start()
    result: dict[str, Any] = {"hosts": args.hosts, "forks": args.forks, "events": args.events}
    try:
        admin = ready.get(timeout=1800)["admin_url"]
        result["setup_seconds"] = round(time.monotonic() - started, 1)
        for auth in ("ntlm", "kerberos"):
            result[auth] = audit_once(work, auth, args.forks, admin)
        result["kerberos_over_ntlm_cpu"] = round(
            result["kerberos"]["cpu_seconds"] / result["ntlm"]["cpu_seconds"], 2
        )
    finally:
        stop.set()
        lab.join(timeout=60)
        if lab.is_alive():
            lab.terminate()
        realm.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"kerberos-n{args.hosts}-f{args.forks}-e{args.events}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    ntlm, kerberos = result["ntlm"], result["kerberos"]
    print(
        (f"{work}: " if args.keep else "") + f"N={args.hosts} F={args.forks} E={args.events}: "
        f"NTLM {ntlm['cpu_ms_per_host']} ms CPU/host ({ntlm['wall_seconds']:.1f}s wall, "
        f"{ntlm['requests_per_host']} req/host, errors {ntlm['host_errors']}); "
        f"Kerberos {kerberos['cpu_ms_per_host']} ms CPU/host ({kerberos['wall_seconds']:.1f}s "
        f"wall, {kerberos['requests_per_host']} req/host, errors {kerberos['host_errors']}); "
        f"ratio x{result['kerberos_over_ntlm_cpu']}"
    )
    return result


if __name__ == "__main__":
    main()
