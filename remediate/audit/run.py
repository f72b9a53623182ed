"""The audit: every host in parallel, each under its own timeout, results never lost.

One collector round trip per host gathers what all selected playbooks need; each playbook is
then evaluated on that evidence. A host that fails becomes `error` findings naming why; it
never stops or delays the others beyond its timeout. Ctrl-C stops starting hosts, closes
every open shell, and returns what was finished, the rest marked as not audited.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remediate.audit.host import collect
from remediate.audit.request import collect_request
from remediate.connect.targets import HostTarget
from remediate.errors import HostTimeoutError, TransportError
from remediate.probes.collect import CollectRequest
from remediate.rules.evaluate import error_finding, evaluate
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult
from remediate.transport import Transport


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


def new_run_id(moment: datetime) -> str:
    return f"{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _audit_host(
    target: HostTarget,
    playbooks: Sequence[Playbook],
    request: CollectRequest,
    open_transports: dict[str, Transport],
    lock: threading.Lock,
) -> HostResult:
    started = time.monotonic()
    transport = target.connect()
    with lock:
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


def run_audit(
    targets: Sequence[HostTarget],
    playbooks: Sequence[Playbook],
    options: AuditOptions,
    on_result: Callable[[HostResult], None] = lambda result: None,
    now: datetime | None = None,
) -> AuditRun:
    """Audit every target; Ctrl-C returns the partial run with `interrupted` set."""
    started = now or datetime.now(UTC)
    since = started - options.since
    run = AuditRun(new_run_id(started), started, tuple(playbooks), since)
    request = collect_request(playbooks, since)
    open_transports: dict[str, Transport] = {}
    lock = threading.Lock()
    pending: dict[Future[HostResult], tuple[HostTarget, float]] = {}
    queue = list(targets)
    grace = 5.0
    executor = ThreadPoolExecutor(max_workers=max(1, options.forks), thread_name_prefix="audit")
    try:
        while queue or pending:
            while queue and len(pending) < options.forks and run.aborted is None:
                target = queue.pop(0)
                future = executor.submit(
                    _audit_host, target, playbooks, request, open_transports, lock
                )
                pending[future] = (target, time.monotonic())
            if not pending:
                break
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                target, _ = pending.pop(future)
                result = future.result()
                run.results.append(result)
                on_result(result)
            _expire(
                pending, run, playbooks, options.timeout + grace, on_result, open_transports, lock
            )
            if options.fail_percent is not None and run.aborted is None:
                failed = len(run.failed_hosts)
                if failed * 100 > options.fail_percent * len(targets):
                    run.aborted = (
                        f"{failed} of {len(targets)} hosts failed, above --fail-percent "
                        f"{options.fail_percent:g}"
                    )
            if run.aborted is not None and queue:
                for target in queue:
                    result = _failed(
                        target,
                        playbooks,
                        _NotAudited(f"not audited: {run.aborted}", host=target.name),
                    )
                    run.results.append(result)
                    on_result(result)
                queue.clear()
    except KeyboardInterrupt:
        run.interrupted = True
        for future, (target, _) in pending.items():
            future.cancel()
            result = _failed(
                target, playbooks, _NotAudited("not audited: interrupted", host=target.name)
            )
            run.results.append(result)
        for target in queue:
            run.results.append(
                _failed(
                    target, playbooks, _NotAudited("not audited: interrupted", host=target.name)
                )
            )
    finally:
        _close_all(open_transports, lock)
        executor.shutdown(wait=not run.interrupted, cancel_futures=True)
        run.finished = datetime.now(UTC)
    return run


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
            with contextlib.suppress(Exception):
                transport.abort()
        error = HostTimeoutError(f"no answer within {limit:g} s", host=target.name)
        result = _failed(target, playbooks, error, now - began)
        run.results.append(result)
        on_result(result)


def _close_all(open_transports: dict[str, Transport], lock: threading.Lock) -> None:
    with lock:
        transports = list(open_transports.values())
        open_transports.clear()
    for transport in transports:
        with contextlib.suppress(Exception):
            transport.abort()
