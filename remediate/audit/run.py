"""The audit: every host in parallel, each under its own timeout, results never lost.

One collector round trip per host gathers what all selected playbooks need; each playbook is
then evaluated on that evidence. A host that fails becomes `error` findings naming why; it
never stops or delays the others beyond its timeout; a host whose settings cannot work fails
the same way at once (its target's `connect` raises the `configuration` error). A host
skipped for its connection (`local`, `docker`) is in the run as `not_applicable` findings
whose `error_kind` is `skipped` and whose reason says why: JUnit shows them skipped, the exit
code and the retry file ignore them, as an administrator expects of hosts not meant for
remediate. Ctrl-C is acknowledged at once
(`on_stop` with the number of open connections), stops starting hosts, closes every open
shell in parallel, and returns what was finished within STOP_SECONDS, the rest marked as not
audited.

Each host runs on a daemon thread of its own (at most `forks` at a time), not in a
ThreadPoolExecutor: the executor's workers are joined when the interpreter exits, so after
Ctrl-C a worker still waiting in a request (a WinRM Receive waits up to the operation
timeout, 20 s by default) held the process that long although its shell was already deleted
and its answer no longer wanted.
"""

from __future__ import annotations

import contextlib
import queue as queues
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remediate.audit.gc_policy import collections_for_a_run
from remediate.audit.host import collect
from remediate.audit.request import collect_request
from remediate.connect.host_target import HostTarget, SkippedHost
from remediate.errors import HostTimeoutError, TransportError
from remediate.probes.collect import CollectRequest
from remediate.rules.evaluate import error_finding, evaluate
from remediate.rules.findings import Finding, Status
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult
from remediate.transport import Transport

# After Ctrl-C, how long the shells may take to close before the partial run is returned. Each
# transport's own Delete is bounded too (WinRM: a few requests of CLEANUP_TIMEOUT each, over a
# new connection); this bounds them all, closed in parallel, well within one operation timeout.
STOP_SECONDS = 8.0
# How often the run looks for hosts past their timeout, and at most how long it waits for a
# result before looking again (Ctrl-C and --fail-percent are noticed within it too).
EXPIRY_EVERY = 0.2


@dataclass(frozen=True)
class AuditOptions:
    forks: int = 50
    timeout: float = 120.0
    since: timedelta = timedelta(days=7)
    fail_percent: float | None = None


class _NotAudited(TransportError):
    reason = "not_audited"


class _Unexpected(TransportError):
    reason = "internal"


SKIPPED = "skipped"
"""The `error_kind` of a skipped host's findings."""


def skipped_result(skip: SkippedHost, playbooks: Sequence[Playbook]) -> HostResult:
    """A host not contacted because remediate cannot use its connection: each article
    `not_applicable`, the reason naming the connection; not a failure."""
    reason = f"skipped: {skip.reason}"
    findings = tuple(
        Finding(skip.name, p.id, Status.NOT_APPLICABLE, reason, error_kind=SKIPPED)
        for p in playbooks
    )
    return HostResult(skip.name, findings, transport=skip.connection)


def new_run_id(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def new_run(
    playbooks: Sequence[Playbook],
    options: AuditOptions,
    now: datetime | None,
    skipped: Sequence[SkippedHost],
) -> AuditRun:
    """A run starting `now`, the skipped hosts already in it (for `run_audit` and workers)."""
    started = now or datetime.now(UTC)
    run = AuditRun(new_run_id(started), started, tuple(playbooks), started - options.since)
    run.results += [skipped_result(skip, playbooks) for skip in skipped]
    return run


def not_audited(target: HostTarget, playbooks: Sequence[Playbook], why: str) -> HostResult:
    """The result of a host the run did not get to: `not audited: <why>`."""
    return _failed(target, playbooks, _NotAudited(f"not audited: {why}", host=target.name))


def fail_percent_reason(options: AuditOptions, failed: int, hosts: int) -> str | None:
    """Why the run stops starting hosts, once more than --fail-percent of them failed."""
    if options.fail_percent is None or failed * 100 <= options.fail_percent * hosts:
        return None
    return f"{failed} of {hosts} hosts failed, above --fail-percent {options.fail_percent:g}"


def in_inventory_order(run: AuditRun, targets: Sequence[HostTarget]) -> None:
    """Sort the results as the targets came (skipped hosts first), not as they finished: a
    run's reports and findings read the same however many threads or workers audited it."""
    place = {target.name: index for index, target in enumerate(targets)}
    run.results.sort(key=lambda result: place.get(result.host, -1))


def _audit_host(
    target: HostTarget,
    playbooks: Sequence[Playbook],
    request: CollectRequest,
    open_transports: dict[str, Transport],
    lock: threading.Lock,
    stopped: threading.Event,
) -> HostResult:
    started = time.monotonic()
    try:
        transport = target.connect()
    except TransportError as error:  # settings that cannot work: this host's error, not the run's
        return _failed(target, playbooks, error)
    except Exception as exc:  # one host's surprise must not stop the others
        error = _Unexpected(f"unexpected {type(exc).__name__}: {exc}"[:300], host=target.name)
        return _failed(target, playbooks, error)
    with lock:
        if stopped.is_set():  # Ctrl-C came while this host was being started
            return _failed(target, playbooks, _NotAudited("not audited: interrupted"))
        open_transports[target.name] = transport
    try:
        collection = collect(transport, target.name, request, target.shell)
    except TransportError as error:
        return _failed(target, playbooks, error, time.monotonic() - started)
    except Exception as exc:  # one host's surprise must not stop the others
        error = _Unexpected(f"unexpected {type(exc).__name__}: {exc}"[:300], host=target.name)
        return _failed(target, playbooks, error, time.monotonic() - started)
    finally:
        transport.close()
        with lock:
            open_transports.pop(target.name, None)
    evidence = collection.evidence
    findings = tuple(evaluate(p, evidence) for p in playbooks)
    return HostResult(
        target.name,
        findings,
        evidence,
        None,
        collection.dialect,
        target.transport,
        target.address,
        time.monotonic() - started,
        collection.round_trips,
    )


def _failed(
    target: HostTarget, playbooks: Sequence[Playbook], error: TransportError, elapsed: float = 0.0
) -> HostResult:
    findings = tuple(error_finding(target.name, p.id, error) for p in playbooks)
    return HostResult(
        target.name, findings, None, error, None, target.transport, target.address, elapsed
    )


@collections_for_a_run()
def run_audit(
    targets: Sequence[HostTarget],
    playbooks: Sequence[Playbook],
    options: AuditOptions,
    on_result: Callable[[HostResult], None] = lambda result: None,
    now: datetime | None = None,
    on_stop: Callable[[int], None] = lambda open_connections: None,
    skipped: Sequence[SkippedHost] = (),
    stop_starting: Callable[[], str | None] = lambda: None,
) -> AuditRun:
    """Audit every target; Ctrl-C returns the partial run with `interrupted` set.

    `on_stop(n)` is called as soon as Ctrl-C arrives, before the n open connections are
    closed, so that the user hears at once that it was understood. The `skipped` hosts are
    in the run from the start (`skipped_result`), never passed to `on_result`. The results
    are in the targets' order (`in_inventory_order`). `stop_starting()`, asked as results
    come in, returns a reason to stop starting hosts (a worker's parent counting
    --fail-percent over all workers): the hosts not started are `not audited: <reason>`.
    """
    run = new_run(playbooks, options, now, skipped)
    request = collect_request(playbooks, run.since)
    open_transports: dict[str, Transport] = {}
    lock = threading.Lock()
    stopped = threading.Event()
    pending: dict[Future[HostResult], tuple[HostTarget, float]] = {}
    # Finished futures arrive here, each once: taking one in costs the same at 10 forks or
    # 500 (concurrent.futures.wait locks and unlocks every pending future on each call).
    finished: queues.SimpleQueue[Future[HostResult]] = queues.SimpleQueue()
    queue = deque(targets)
    grace = 5.0
    next_expiry = time.monotonic() + EXPIRY_EVERY
    try:
        while queue or pending:
            while queue and len(pending) < options.forks and run.aborted is None:
                target = queue.popleft()
                future = _start(
                    _audit_host, target, playbooks, request, open_transports, lock, stopped
                )
                pending[future] = (target, time.monotonic())
                future.add_done_callback(finished.put)
            if not pending:
                break
            for future in _finished(finished, EXPIRY_EVERY):
                if future not in pending:  # already given up on by _expire
                    continue
                target, _ = pending.pop(future)
                result = future.result()
                run.results.append(result)
                on_result(result)
            if time.monotonic() >= next_expiry:
                next_expiry = time.monotonic() + EXPIRY_EVERY
                _expire(
                    pending,
                    run,
                    playbooks,
                    options.timeout + grace,
                    on_result,
                    open_transports,
                    lock,
                )
            if run.aborted is None and options.fail_percent is not None:
                run.aborted = fail_percent_reason(options, len(run.failed_hosts), len(targets))
            if run.aborted is None:
                run.aborted = stop_starting()
            if run.aborted is not None and queue:
                for target in queue:
                    result = not_audited(target, playbooks, run.aborted)
                    run.results.append(result)
                    on_result(result)
                queue.clear()
    except KeyboardInterrupt:
        run.interrupted = True
        pressed = time.monotonic()
        with lock:
            stopped.set()
            opened = len(open_transports)
        with contextlib.suppress(Exception, KeyboardInterrupt):
            on_stop(opened)
        with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C stops the waiting only
            _close_all(open_transports, lock, STOP_SECONDS)
            # A host whose shell was being created as its transport was aborted deletes it
            # itself (WinRMTransport.abort); give such workers a moment to do so.
            left = min(1.0, pressed + STOP_SECONDS - time.monotonic())
            if pending and left > 0:
                wait(pending, timeout=left)
        _settle_interrupted(run, targets, playbooks, pending)
    finally:
        _close_all(open_transports, lock, STOP_SECONDS)
        in_inventory_order(run, targets)
        run.finished = datetime.now(UTC)
    return run


def _finished(
    finished: queues.SimpleQueue[Future[HostResult]], within: float
) -> list[Future[HostResult]]:
    """The futures finished so far, waiting up to `within` seconds for the first."""
    try:
        taken = [finished.get(timeout=within)]
    except queues.Empty:
        return []
    while True:
        try:
            taken.append(finished.get_nowait())
        except queues.Empty:
            return taken


def _start(function: Callable[..., HostResult], *args: object) -> Future[HostResult]:
    """Run one host's audit on a daemon thread (see the module's docstring for why)."""
    future: Future[HostResult] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # handed to whoever reads the future
            future.set_exception(exc)

    threading.Thread(target=work, name="audit", daemon=True).start()
    return future


def _settle_interrupted(
    run: AuditRun,
    targets: Sequence[HostTarget],
    playbooks: Sequence[Playbook],
    pending: dict[Future[HostResult], tuple[HostTarget, float]],
) -> None:
    """After Ctrl-C: keep what finished meanwhile, mark every other host not audited, so
    that each target is in the run exactly once (even one whose result was being taken in
    when Ctrl-C came)."""
    seen = {result.host for result in run.results}
    for future in pending:
        if future.done() and not future.cancelled() and future.exception() is None:
            result = future.result()
            if result.host not in seen:
                run.results.append(result)
                seen.add(result.host)
        future.cancel()
    for target in targets:
        if target.name not in seen:
            seen.add(target.name)
            run.results.append(not_audited(target, playbooks, "interrupted"))


def _expire(
    pending: dict[Future[HostResult], tuple[HostTarget, float]],
    run: AuditRun,
    playbooks: Sequence[Playbook],
    limit: float,
    on_result: Callable[[HostResult], None],
    open_transports: dict[str, Transport],
    lock: threading.Lock,
) -> None:
    """Give up on hosts past their timeout (the transports' own timeouts should come first)."""
    now = time.monotonic()
    for future, (target, began) in list(pending.items()):
        if now - began <= limit:
            continue
        del pending[future]
        with lock:
            transport = open_transports.pop(target.name, None)
        if transport is not None:
            # In the background: a host past its time may not answer the Delete either, and
            # the others' results are taken in meanwhile.
            threading.Thread(target=_abort, args=(transport,), name="abort", daemon=True).start()
        error = HostTimeoutError(f"no answer within {limit:g} s", host=target.name)
        result = _failed(target, playbooks, error, now - began)
        run.results.append(result)
        on_result(result)


def _abort(transport: Transport) -> None:
    with contextlib.suppress(Exception):
        transport.abort()


def _close_all(open_transports: dict[str, Transport], lock: threading.Lock, within: float) -> None:
    """Abort every open transport, all at once, waiting `within` seconds at most in all."""
    with lock:
        transports = list(open_transports.values())
        open_transports.clear()
    closers = [
        threading.Thread(target=_abort, args=(transport,), name="close", daemon=True)
        for transport in transports
    ]
    for closer in closers:
        closer.start()
    deadline = time.monotonic() + within
    for closer in closers:
        closer.join(max(0.0, deadline - time.monotonic()))
