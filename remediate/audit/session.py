"""What `remediate audit` and `remediate demo` share: load, target, audit, record, report.

Kept out of the command line so the demo and the command run one code path. Nothing here
prints: the caller hears of the start and of each host through callbacks and renders the
outcome itself (the CLI's console), so this module knows no terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from remediate.audit.run import AuditOptions, run_audit
from remediate.connect.secrets import Secret
from remediate.connect.targets import ConnectOptions, build_targets
from remediate.errors import InputError
from remediate.history import History, scope_key
from remediate.inventory import hosts_for, load_inventory
from remediate.report.registry import write_reports
from remediate.rules.playbook import load_playbooks
from remediate.rules.results import AuditRun, HostResult
from remediate.rules.waivers import apply_waivers, load_waivers


@dataclass(frozen=True)
class AuditRequest:
    inventory: Path
    playbooks: tuple[Path, ...] = (Path("playbooks"),)
    limit: str | None = None
    since: timedelta = timedelta(days=7)
    forks: int = 50
    timeout: float = 120.0
    formats: tuple[str, ...] = ("json",)
    output: Path = Path("reports")
    waivers: Path | None = None
    fail_percent: float | None = None
    connect: ConnectOptions = field(default_factory=ConnectOptions)
    history: Path | None = None
    generated_by: str = ""


@dataclass(frozen=True)
class AuditStart:
    """What is about to be audited, once the input is known good and before any host is asked."""

    hosts: int
    playbooks: tuple[str, ...]
    forks: int


@dataclass(frozen=True)
class AuditOutcome:
    run: AuditRun
    reports: tuple[Path, ...]
    retry_file: Path | None
    # The passwords in use, so that whoever shows host errors can redact them.
    secrets: tuple[Secret, ...] = field(default=(), repr=False)


def _ignore(_: object) -> None:
    return None


def audit_and_report(
    request: AuditRequest,
    on_start: Callable[[AuditStart], None] = _ignore,
    on_result: Callable[[HostResult], None] = _ignore,
    on_stop: Callable[[int], None] = _ignore,
) -> AuditOutcome:
    """The whole audit as a user runs it; InputError for bad input before any host is asked.

    `on_start` is called once the hosts and playbooks are loaded, `on_result` with each host's
    result as it comes in (in the calling thread, one at a time).
    """
    inventory = load_inventory(request.inventory)
    hosts = hosts_for(inventory, request.limit)
    if not hosts:
        raise InputError(f"{request.inventory}: no hosts to audit")
    playbooks = load_playbooks(list(request.playbooks))
    if not playbooks:
        raise InputError("no playbooks found", hint="give --playbooks DIR or files")
    waivers = load_waivers(request.waivers) if request.waivers else []
    connect = replace(request.connect, timeout=request.timeout)
    targets, secrets = build_targets(hosts, connect)
    options = AuditOptions(request.forks, request.timeout, request.since, request.fail_percent)
    on_start(AuditStart(len(targets), tuple(p.id for p in playbooks), request.forks))
    run = run_audit(targets, playbooks, options, on_result, on_stop=on_stop)
    today = datetime.now(UTC).date()
    for index, result in enumerate(run.results):
        run.results[index] = replace(
            result, findings=tuple(apply_waivers(list(result.findings), waivers, today))
        )
    if request.history is not None:
        with History(request.history) as history:
            scope = scope_key(str(request.inventory), [p.id for p in playbooks])
            run = history.with_drift(run, scope)
            history.record(run, str(request.inventory), scope)
    reports = write_reports(
        run, request.formats, request.output, str(request.inventory), request.generated_by
    )
    retry = _write_retry(run, request.output)
    return AuditOutcome(run, reports, retry, tuple(secrets))


def _write_retry(run: AuditRun, output: Path) -> Path | None:
    path = output / "remediate.retry"
    failed = sorted(run.failed_hosts)
    if not failed:
        path.unlink(missing_ok=True)
        return None
    output.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in failed), encoding="utf-8")
    return path
