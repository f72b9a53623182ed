"""What `remediate audit` and `remediate demo` share: load, target, audit, record, report.

Kept out of the command line so the demo and the command run one code path. Nothing here
prints: the caller hears of the start and of each host through callbacks and renders the
outcome itself (the CLI's console), so this module knows no terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from remediate.audit.gc_policy import collections_for_a_run
from remediate.audit.run import AuditOptions
from remediate.audit.workers import audit_in_workers
from remediate.connect.secrets import Secret
from remediate.connect.targets import ConnectOptions, SkippedHost, targets_for
from remediate.errors import InputError
from remediate.history import History, HistoryError, scope_key
from remediate.inventory import Host, Inventory, InventorySources, load_sources
from remediate.inventory.patterns import selection_for
from remediate.outputs import OutputError, check_file, check_folder, describe, save_fallback
from remediate.report.document import document_bytes
from remediate.report.registry import ReportWriteError, trend_points, write_reports
from remediate.report.reporter import HostSteps, TrendPoint
from remediate.rules.evidence import Evidence
from remediate.rules.playbook import Playbook, load_playbook_set
from remediate.rules.results import AuditRun, HostResult
from remediate.rules.waivers import apply_waivers, load_waivers

StepLister = Callable[[Host, Playbook, Evidence], Sequence[str]]
"""(host, playbook, its evidence) -> the steps `remediate plan` would make, one line each."""


@dataclass(frozen=True)
class AuditRequest:
    inventory: InventorySources
    playbooks: tuple[Path, ...] = (Path("playbooks"),)
    limit: str | None = None
    since: timedelta = timedelta(days=7)
    forks: int = 50
    timeout: float = 120.0
    workers: int = 1
    """Processes to spread the hosts over (`remediate.audit.workers`); small runs use one."""
    formats: tuple[str, ...] = ("json",)
    output: Path = Path("reports")
    waivers: Path | None = None
    fail_percent: float | None = None
    connect: ConnectOptions = field(default_factory=ConnectOptions)
    history: Path | None = None
    generated_by: str = ""
    step_lister: StepLister | None = None
    """Makes a playbook's steps for one host, for the HTML report (the CLI passes
    remediation's; the audit cannot import remediation, which depends on it)."""


@dataclass(frozen=True)
class Selected:
    """The hosts a run is about, read and selected, before any is contacted.

    `warnings` are the inventory's and the pattern's (a part that matched nothing), and for an
    audit the playbooks' (each draft in use, each draft set aside for a reviewed playbook), for
    the caller to show.
    """

    inventory: Inventory
    hosts: tuple[Host, ...]
    warnings: tuple[str, ...] = ()


def select_for_run(
    sources: InventorySources, limit: str | None, connect: ConnectOptions
) -> Selected:
    """Read the inventory and select the hosts; InputError when none is left.

    What `audit`, `collect`, `plan` and `--list-hosts` share.
    """
    inventory = load_sources(sources, vault_passwords=connect.vault_passwords)
    selection = selection_for(inventory, limit)
    if not selection.hosts:
        raise InputError(f"{inventory.path}: no hosts to audit", hint="the inventory lists no host")
    return Selected(inventory, selection.hosts, inventory.warnings + selection.warnings)


@dataclass(frozen=True)
class AuditStart:
    """What is about to be audited, once the input is known good and before any host is asked.

    `hosts` counts the hosts to contact; the `skipped` ones are left alone.
    """

    hosts: int
    playbooks: tuple[str, ...]
    forks: int
    skipped: tuple[SkippedHost, ...] = ()


@dataclass(frozen=True)
class AuditOutcome:
    run: AuditRun
    reports: tuple[Path, ...]
    retry_file: Path | None
    # The passwords in use, so that whoever shows host errors can redact them.
    secrets: tuple[Secret, ...] = field(default=(), repr=False)
    # What could not be written at the end (reports, retry file, history), each naming its
    # path; when any, the run document went to `fallback` (None: no place took it either,
    # `fallback_failures` says why), so the caller can still hand the result over.
    unwritten: tuple[str, ...] = ()
    fallback: Path | None = None
    fallback_failures: tuple[str, ...] = ()
    # Hosts not contacted for their connection (`local`, `docker`): in the run as skipped.
    skipped: tuple[SkippedHost, ...] = ()


def _ignore(_: object) -> None:
    return None


@collections_for_a_run()  # the run and its reports
def audit_and_report(
    request: AuditRequest,
    on_start: Callable[[AuditStart], None] = _ignore,
    on_result: Callable[[HostResult], None] = _ignore,
    on_stop: Callable[[int], None] = _ignore,
    on_selected: Callable[[Selected], None] = _ignore,
) -> AuditOutcome:
    """The whole audit as a user runs it; InputError for bad input before any host is asked.

    Bad input includes a report folder that cannot be written and a history database that
    cannot be opened: both are tried before any host is contacted. Should writing still fail
    at the end (a disk that filled meanwhile), the outcome says what was not written and where
    the run document went instead (`unwritten`, `fallback`): the result is never lost.

    `on_selected` is called once the hosts are selected and the playbooks loaded (to show
    the warnings at once: the inventory's, and each draft playbook's naming its file),
    `on_start` once the hosts and playbooks are loaded, `on_result` with each contacted host's
    result as it comes in (in the calling thread, one at a time). A host whose settings
    cannot work is an `error` result (reason `configuration`); one skipped for its
    connection is in the run as skipped (`remediate.audit.run.skipped_result`).
    """
    if not request.generated_by:  # "Run by" is never blank in a report or the history
        request = replace(request, generated_by=run_by())
    selected = select_for_run(request.inventory, request.limit, request.connect)
    loaded = load_playbook_set(list(request.playbooks))
    # The drafts in use and the drafts set aside are shown with the inventory's warnings,
    # before any host is contacted.
    on_selected(replace(selected, warnings=selected.warnings + loaded.notes))
    inventory = selected.inventory
    playbooks = loaded.playbooks
    if not playbooks:
        named = ", ".join(str(p) for p in request.playbooks) or "(none named)"
        raise InputError(f"no playbooks in {named}", hint="give --playbooks DIR or files")
    waivers = load_waivers(request.waivers) if request.waivers else []
    check_destinations(request)
    connect = replace(request.connect, timeout=request.timeout)
    found = targets_for(selected.hosts, connect)
    secrets, skipped = found.secrets, tuple(found.skipped)
    options = AuditOptions(request.forks, request.timeout, request.since, request.fail_percent)
    ids = tuple(p.id for p in playbooks)
    on_start(AuditStart(len(found.targets), ids, request.forks, skipped))
    run = audit_in_workers(
        found.targets,
        playbooks,
        options,
        request.workers,
        on_result,
        on_stop=on_stop,
        skipped=skipped,
    )
    today = datetime.now(UTC).date()
    for index, result in enumerate(run.results):
        run.results[index] = replace(
            result, findings=tuple(apply_waivers(list(result.findings), waivers, today))
        )
    unwritten: list[str] = []
    trend: tuple[TrendPoint, ...] = ()
    if request.history is not None:
        try:
            with History(request.history) as history:
                scope = scope_key(inventory.path, [p.id for p in playbooks])
                run = history.with_drift(run, scope)
                history.record(
                    run,
                    inventory.path,
                    scope,
                    report_folder=str(request.output.resolve()),
                    run_by=request.generated_by,
                )
                trend = trend_points(history.trend(run.run_id))
        except HistoryError as exc:
            unwritten.append(f"run not recorded in the history: {exc}")
        except OSError as exc:
            unwritten.append(f"{request.history}: run not recorded in the history: {describe(exc)}")
    reports: tuple[Path, ...] = ()
    try:
        reports = write_reports(
            run,
            request.formats,
            request.output,
            inventory.path,
            request.generated_by,
            trend=trend,
            host_steps=_host_steps(request, selected.hosts),
        )
    except ReportWriteError as exc:
        reports = exc.written
        unwritten.append(str(exc))
    retry = None
    try:
        retry = _write_retry(run, request.output)
    except OSError as exc:
        unwritten.append(f"{request.output / RETRY_FILE}: cannot write: {describe(exc)}")
    if not unwritten:
        return AuditOutcome(run, reports, retry, tuple(secrets), skipped=skipped)
    fallback, failures = save_fallback(f"run-{run.run_id}", document_bytes(run))
    return AuditOutcome(
        run, reports, retry, tuple(secrets), tuple(unwritten), fallback, tuple(failures), skipped
    )


def check_destinations(request: AuditRequest) -> None:
    """Before any host is contacted: the report folder takes a file, the history opens.

    OutputError or HistoryError (both InputError) naming the path and what failed.
    """
    check_folder(request.output, "report folder", hint="give --output a folder")
    if request.history is not None:
        check_file(request.history, "history database")
        try:
            # Opening creates or migrates it; a damaged or foreign file is refused here.
            with History(request.history):
                pass
        except OSError as exc:
            raise OutputError(
                f"{request.history}: cannot open the history database: {describe(exc)}"
            ) from None


def run_by() -> str:
    """The account running the audit, `user@machine`, as reports and the history name it."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name and no USER/LOGNAME (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


RETRY_FILE = "remediate.retry"


def _write_retry(run: AuditRun, output: Path) -> Path | None:
    path = output / RETRY_FILE
    failed = sorted(run.failed_hosts)
    if not failed:
        path.unlink(missing_ok=True)
        return None
    output.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name}\n" for name in failed), encoding="utf-8")
    return path


def _host_steps(request: AuditRequest, hosts: Sequence[Host]) -> HostSteps | None:
    """The request's step lister, found the inventory host of the evidence it is given."""
    lister = request.step_lister
    if lister is None:
        return None
    by_name = {host.name: host for host in hosts}

    def steps(playbook: Playbook, evidence: Evidence) -> Sequence[str]:
        host = by_name.get(evidence.host)
        if host is None:
            raise InputError(f"{evidence.host}: not in the inventory any more")
        return lister(host, playbook, evidence)

    return steps
