"""What `remediate audit` and `remediate demo` share: load, target, audit, report, summarise.

Kept out of cli.py so the demo and the command run one code path; cli.py only parses options
and picks the exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from remediate.audit.run import AuditOptions, run_audit
from remediate.cli.render import safe
from remediate.connect.secrets import redact
from remediate.connect.targets import ConnectOptions, build_targets
from remediate.errors import InputError
from remediate.history import History, scope_key
from remediate.inventory import hosts_for, load_inventory
from remediate.report.registry import write_reports
from remediate.rules.findings import Status
from remediate.rules.playbook import load_playbooks
from remediate.rules.results import AuditRun, HostResult
from remediate.rules.waivers import apply_waivers, load_waivers

STATUS_STYLE = {
    Status.COMPLIANT: "green",
    Status.NOT_APPLICABLE: "dim",
    Status.WAIVED: "cyan",
    Status.MISSING_FIX: "yellow",
    Status.AFFECTED: "bold red",
    Status.INVESTIGATE: "magenta",
    Status.NEEDS_REBOOT: "yellow",
    Status.UNKNOWN: "bright_black",
    Status.ERROR: "red",
}


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
class AuditOutcome:
    run: AuditRun
    reports: tuple[Path, ...]
    retry_file: Path | None


def audit_and_report(request: AuditRequest, console: Console) -> AuditOutcome:
    """The whole audit as a user runs it; InputError for bad input before any host is asked."""
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
    console.print(
        f"auditing {len(targets)} host(s) for {len(playbooks)} article(s) "
        f"({', '.join(p.id for p in playbooks)}), {request.forks} at a time"
    )
    with _progress(console, len(targets)) as on_result:
        run = run_audit(targets, playbooks, options, on_result)
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
    _summary(run, console, secrets)
    for path in reports:
        console.print(f"report: {path}")
    if retry is not None:
        console.print(f"retry file: {retry} (use --limit @{retry})")
    return AuditOutcome(run, reports, retry)


class _progress:
    """A progress bar on a terminal; one plain line per host otherwise."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.done = 0
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[HostResult], None]:
        if self.console.is_terminal:
            self.bar = Progress(
                TextColumn("audit"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=self.total)
        return self.advance

    def advance(self, result: HostResult) -> None:
        self.done += 1
        worst = _worst(result)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{result.host}: {worst}")
        else:
            line = f"[{self.done}/{self.total}] {result.host}: {worst}"
            if result.error is not None:
                line += f" ({result.error.reason}: {result.error.message})"
            # Plain text straight to the stream: rich's rendering costs milliseconds a line,
            # which a thousand-host run in cron or CI would spend on its log.
            self.console.file.write(safe(line, 300) + "\n")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


_ORDER = [
    Status.ERROR,
    Status.AFFECTED,
    Status.INVESTIGATE,
    Status.NEEDS_REBOOT,
    Status.MISSING_FIX,
    Status.UNKNOWN,
    Status.WAIVED,
    Status.COMPLIANT,
    Status.NOT_APPLICABLE,
]


def _worst(result: HostResult) -> str:
    statuses = {f.status for f in result.findings}
    return next((s.value for s in _ORDER if s in statuses), "no findings")


SUMMARY_ROWS = 50
QUIET = {Status.COMPLIANT, Status.NOT_APPLICABLE, Status.WAIVED}


def _summary(run: AuditRun, console: Console, secrets: list) -> None:
    """The host x article table; past SUMMARY_ROWS hosts, only those with something to do."""
    results = sorted(run.results, key=lambda r: r.host)
    left_out = 0
    if len(results) > SUMMARY_ROWS:
        noisy = [r for r in results if any(f.status not in QUIET for f in r.findings)]
        left_out = len(results) - min(len(noisy), SUMMARY_ROWS)
        results = noisy[:SUMMARY_ROWS]
    table = Table(title=f"audit {run.run_id}")
    table.add_column("host", overflow="fold")
    for playbook in run.playbooks:
        table.add_column(playbook.id)
    for result in results:
        by_id = {f.playbook: f for f in result.findings}
        cells = []
        for playbook in run.playbooks:
            finding = by_id.get(playbook.id)
            status = finding.status if finding else Status.UNKNOWN
            cells.append(Text(status.value, style=STATUS_STYLE[status]))
        table.add_row(Text(result.host), *cells)
    console.print(table)
    if left_out:
        console.print(
            f"{left_out} more host(s) not shown (the table lists up to {SUMMARY_ROWS} hosts "
            "with something to do); every host is in the reports"
        )
    counts = ", ".join(f"{s.value} {n}" for s, n in run.counts().items() if n)
    console.print(f"findings: {counts}")
    for result in run.results:
        if result.error is not None:
            message = redact(
                f"{result.host}: {result.error.reason}: {result.error.message}", secrets
            )
            hint = f" (hint: {result.error.hint})" if result.error.hint else ""
            console.print(Text(safe(message + hint, 400), style="red"))
    if run.interrupted:
        console.print(
            Text("interrupted: the hosts not finished are marked not audited", style="bold red")
        )
    if run.aborted:
        console.print(Text(f"aborted: {run.aborted}", style="bold red"))


def _write_retry(run: AuditRun, output: Path) -> Path | None:
    path = output / "remediate.retry"
    failed = sorted(run.failed_hosts)
    if not failed:
        path.unlink(missing_ok=True)
        return None
    output.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in failed), encoding="utf-8")
    return path


def stdout_console() -> Console:
    return Console(file=sys.stdout, highlight=False)
