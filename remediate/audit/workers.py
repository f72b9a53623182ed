"""The audit over several worker processes: one process's threads share one GIL.

One process spends 13-40 ms of CPU per host (HTTP, NTLM sealing, parsing and judging the
evidence), so a large run is bound by that one core, not by the network.
`audit_in_workers` deals the hosts out to N processes in turn (host i to worker i mod N),
each running `run_audit` (the threaded loop, with its share of --forks, so that the run
still has at most `forks` connections open), and merges their results back in the
inventory's order. The parent hears each result as it comes (`on_result` fires here, in the
parent, one at a time), counts --fail-percent over all hosts and tells every worker to stop
starting hosts; Ctrl-C or SIGTERM in the parent is passed on as a stop message, which the
worker turns into its own Ctrl-C (shells closed, finished results sent). The workers ignore
the SIGINT and SIGTERM sent to the whole group (Ctrl-C, systemd's stop): each stop comes from
the parent, once per Ctrl-C, so a second Ctrl-C still means "stop waiting" as it does in one
process. A worker that dies loses only its unfinished hosts, each `not audited` naming how.

Workers start with 'forkserver' (never plain fork from this threaded process): the server
imports the audit once, then each worker is a fork of that single-threaded server.
The job (the targets, passwords included) goes down the worker's pipe, in memory only:
a `Secret` refuses to be pickled anywhere else, so it cannot land in a file by mistake.
"""

from __future__ import annotations

import _thread
import contextlib
import io
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from remediate.audit.gc_policy import freeze_at_exit
from remediate.audit.run import (
    STOP_SECONDS,
    AuditOptions,
    fail_percent_reason,
    in_inventory_order,
    new_run,
    not_audited,
    run_audit,
)
from remediate.connect.host_target import HostTarget, SkippedHost
from remediate.connect.secrets import Secret, redact
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun, HostResult
from remediate.transport import kerberos_auth
from remediate.transport.connection_log import SECRETS_FIELD, Hidden
from remediate.transport.kerberos_auth import TicketCache

WORKERS_THRESHOLD = 100
"""Runs of at most this many hosts stay in this process (today's path, no start-up cost).

Measured on 2 cores: the forkserver starts and imports the audit in 0.8 s (0.6-1.3 s of CPU;
spawn: 1.1 s for two workers, each importing it), a further worker forks in 0.02 s, and each
result crosses the pipe for about 1 ms of CPU (12 KB). One process spends 13-16 ms of CPU per
NTLM host, so a second core pays back that start from some 100 hosts on; below that the
network, not the CPU, is what a run waits for."""

START_METHOD = "forkserver"
LOG_LOGGER = "remediate.transport"  # the transports' logs that -v shows (remediate.cli.console)

freeze_at_exit()  # the forkserver imports this module and nothing else of ours: its exit too


def worker_count(requested: int, hosts: int, forks: int) -> int:
    """How many processes audit `hosts`: 1 for small runs, never more than forks or hosts."""
    if requested <= 1 or hosts <= WORKERS_THRESHOLD:
        return 1
    return min(requested, forks, hosts)


def default_workers() -> int:
    return os.cpu_count() or 1


def audit_in_workers(
    targets: Sequence[HostTarget],
    playbooks: Sequence[Playbook],
    options: AuditOptions,
    workers: int,
    on_result: Callable[[HostResult], None] = lambda result: None,
    now: datetime | None = None,
    on_stop: Callable[[int], None] = lambda open_connections: None,
    skipped: Sequence[SkippedHost] = (),
) -> AuditRun:
    """`run_audit` spread over `workers` processes (see the module's docstring); the same
    run, in the same order, as one process makes."""
    count = worker_count(workers, len(targets), options.forks)
    if count == 1:
        return run_audit(targets, playbooks, options, on_result, now, on_stop, skipped)
    return _Parent(targets, playbooks, options, count, on_result, on_stop).run(now, skipped)


# --- the pipe ---------------------------------------------------------------------------------


class _JobPickler(pickle.Pickler):
    """Pickles a worker's job for its pipe: a Secret as its value (in memory only), a run's
    Kerberos ticket cache as a new, empty one (each worker asks for its own tickets)."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Secret):
            return Secret, (obj.reveal(), obj.user)
        if isinstance(obj, TicketCache):
            return TicketCache, ()
        return NotImplemented


def _job_bytes(job: _Job) -> bytes:
    buffer = io.BytesIO()
    _JobPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(job)
    return buffer.getvalue()


def _receive_from(conn: Connection) -> Any:
    """One message from the other end of an unnamed pipe between this run's own processes
    (no one else can write to it, so its pickles are ours)."""
    return pickle.loads(conn.recv_bytes())  # noqa: S301


@dataclass(frozen=True)
class _Job:
    targets: tuple[HostTarget, ...]
    playbooks: tuple[Playbook, ...]
    options: AuditOptions
    now: datetime
    log_level: int


# Messages: parent -> worker: _Job, then STOP (a Ctrl-C) or (ABORT, reason); worker ->
# parent: (RESULT, HostResult), (LOG, LogRecord), then (DONE, [the results not yet sent]) or
# (FAILED, what went wrong in the worker itself).
STOP, ABORT, RESULT, LOG, DONE, FAILED = "stop", "abort", "result", "log", "done", "failed"


# --- the parent --------------------------------------------------------------------------------


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    hosts: tuple[HostTarget, ...]
    forks: int
    received: int = 0
    done: bool = False
    lost: str | None = None  # why it ended without its results


class _Parent:
    def __init__(
        self,
        targets: Sequence[HostTarget],
        playbooks: Sequence[Playbook],
        options: AuditOptions,
        count: int,
        on_result: Callable[[HostResult], None],
        on_stop: Callable[[int], None],
    ) -> None:
        self.targets = tuple(targets)
        self.playbooks = tuple(playbooks)
        self.options = options
        self.count = count
        self.on_result = on_result
        self.on_stop = on_stop
        self.workers: list[_Worker] = []
        self.seen: set[str] = set()
        self.failed = 0

    def run(self, now: datetime | None, skipped: Sequence[SkippedHost]) -> AuditRun:
        run = new_run(self.playbooks, self.options, now, skipped)
        try:
            self._start(run.started)
            while any(not w.done for w in self.workers):
                self._receive(run, 0.2)
                if run.aborted is None:
                    run.aborted = fail_percent_reason(self.options, self.failed, len(self.targets))
                    if run.aborted is not None:
                        self._tell((ABORT, run.aborted))
        except KeyboardInterrupt:
            run.interrupted = True
            with contextlib.suppress(Exception, KeyboardInterrupt):
                self.on_stop(self._in_flight())
            self._stop(run)
        finally:
            self._end(run)
        return run

    def _start(self, started: datetime) -> None:
        context = multiprocessing.get_context(START_METHOD)
        if START_METHOD == "forkserver":
            # What the run's connections import on first use (transports, pyspnego for
            # NTLM): imported once in the server, not by each worker (0.15-0.5 s of CPU each).
            used = {module for target in self.targets for module in target.modules}
            context.set_forkserver_preload([__name__, *sorted(used)])
        level = logging.getLogger(LOG_LOGGER).getEffectiveLevel()
        for index in range(self.count):
            hosts = self.targets[index :: self.count]
            forks = self.options.forks // self.count + (index < self.options.forks % self.count)
            options = replace(self.options, forks=forks, fail_percent=None)
            mine, theirs = context.Pipe()
            process = context.Process(target=_work, args=(theirs,), name=f"audit-{index + 1}")
            worker = _Worker(process, mine, hosts, forks)
            self.workers.append(worker)
            try:
                process.start()
                theirs.close()
                mine.send_bytes(_job_bytes(_Job(hosts, self.playbooks, options, started, level)))
            except (OSError, ValueError) as exc:
                worker.done, worker.lost = True, f"its worker process did not start: {exc}"

    def _receive(self, run: AuditRun, timeout: float) -> None:
        """Take in what the workers sent within `timeout`; note the workers that ended.

        A worker's end is the end of its pipe, which only it holds. Not its sentinel: that is
        the forkserver's report, gone for good (always ready) if the forkserver is killed."""
        live = {w.conn: w for w in self.workers if not w.done}
        for conn in wait(list(live), timeout):
            worker = live[conn]
            try:
                while not worker.done and worker.conn.poll():
                    self._take(run, worker, _receive_from(worker.conn))
            except (EOFError, OSError):
                worker.done, worker.lost = True, self._why_ended(worker)

    def _take(self, run: AuditRun, worker: _Worker, message: tuple[str, Any]) -> None:
        kind, body = message
        if kind == LOG:
            logging.getLogger(body.name).handle(body)
            return
        if kind == FAILED:
            worker.done, worker.lost = True, f"worker process {worker.process.pid} failed: {body}"
            return
        results = [body] if kind == RESULT else body
        for result in results:
            worker.received += 1
            if result.host in self.seen:
                continue
            self.seen.add(result.host)
            self.failed += result.failed
            run.results.append(result)
            if kind == RESULT:
                self.on_result(result)
        if kind == DONE:
            worker.done = True

    def _why_ended(self, worker: _Worker) -> str:
        worker.process.join(1.0)
        code = worker.process.exitcode
        pid = worker.process.pid
        if code is None:
            return f"worker process {pid} closed its pipe"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"worker process {pid} was killed by {signal.Signals(-code).name}"
        return f"worker process {pid} ended with exit code {code}"

    def _in_flight(self) -> int:
        """The connections open now, as near as the parent knows: each worker's share of
        forks, or fewer when it has fewer hosts left."""
        return sum(min(w.forks, len(w.hosts) - w.received) for w in self.workers if not w.done)

    def _tell(self, message: object) -> None:
        data = pickle.dumps(message)
        for worker in self.workers:
            if not worker.done:
                with contextlib.suppress(OSError):
                    worker.conn.send_bytes(data)

    def _stop(self, run: AuditRun) -> None:
        """After Ctrl-C: every worker stops as one process would; their results are kept.
        A second Ctrl-C is passed on too (the workers stop waiting for their shells)."""
        self._tell(STOP)
        deadline = time.monotonic() + STOP_SECONDS + 2.0
        while any(not w.done for w in self.workers):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                self._receive(run, min(left, 0.2))
            except KeyboardInterrupt:
                self._tell(STOP)
                deadline = min(deadline, time.monotonic() + 2.0)

    def _end(self, run: AuditRun) -> None:
        """Workers gone, every host in the run exactly once, in the inventory's order."""
        for worker in self.workers:
            worker.conn.close()
            worker.process.join(1.0 if worker.done else 0.1)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)
        for worker in self.workers:
            for target in worker.hosts:
                if target.name in self.seen:
                    continue
                self.seen.add(target.name)
                sent_none = f"worker process {worker.process.pid} sent no result for it"
                why = worker.lost or ("interrupted" if run.interrupted else sent_none)
                run.results.append(not_audited(target, self.playbooks, why))
        in_inventory_order(run, self.targets)
        run.finished = datetime.now(UTC)


# --- a worker ----------------------------------------------------------------------------------


class _Control:
    """A worker's side of its pipe: sends one message at a time, and turns the parent's
    stop messages into Ctrl-C in the worker's main thread (never the terminal's SIGINT)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.send_lock = threading.Lock()
        self.requested = 0  # stops asked by the parent (written by the reader thread only)
        self.honoured = 0  # stops raised in the main thread (written there only)
        self.sending = False  # the main thread is writing a message
        self.deferred = False  # a stop came while it was
        self.abort_reason: str | None = None

    def on_sigint(self, signum: int, frame: object) -> None:
        if self.honoured >= self.requested:
            return  # the terminal's Ctrl-C: the parent passes it on as a stop message
        self.honoured += 1
        if self.sending:
            self.deferred = True
            return
        raise KeyboardInterrupt

    def read(self) -> None:
        """The reader thread: the parent's stop and abort messages; its end is a stop too."""
        while True:
            try:
                message = _receive_from(self.conn)
            except (EOFError, OSError):
                message = None
            if isinstance(message, tuple) and message[0] == ABORT:
                self.abort_reason = message[1]
                continue
            self.requested += 1
            _thread.interrupt_main(signal.SIGINT)
            if message != STOP:
                return

    def send(self, message: tuple[str, Any]) -> None:
        """One whole message: a stop arriving meanwhile is raised once it is written."""
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        main = threading.current_thread() is threading.main_thread()
        with self.send_lock:
            self.sending = main
            try:
                self.conn.send_bytes(data)
            finally:
                self.sending = False
        if main and self.deferred:
            self.deferred = False
            raise KeyboardInterrupt


def _send_result(control: _Control, result: HostResult) -> None:
    try:
        control.send((RESULT, result))
    except (pickle.PicklingError, TypeError, AttributeError):
        # Anything in a result that cannot be pickled must not cost the host: its findings
        # without the evidence and error objects (the DONE message retries nothing).
        control.send((RESULT, replace(result, evidence=None, error=None)))


class _PipeLogHandler(logging.Handler):
    """The transports' log records (-v), passwords taken out here, shown by the parent."""

    def __init__(self, control: _Control) -> None:
        super().__init__()
        self.control = control

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            text = record.getMessage()
            hidden = getattr(record, SECRETS_FIELD, None)
            if isinstance(hidden, Hidden):
                text = redact(text, hidden.values, hidden.users)
            record.__dict__.pop(SECRETS_FIELD, None)
            record.msg, record.args = text, ()
            record.exc_info = record.exc_text = record.stack_info = None
            self.control.send((LOG, record))


def _work(conn: Connection) -> None:
    """A worker process: audit the job's hosts, each result to the parent as it comes."""
    control = _Control(conn)
    # Ctrl-C signals the whole process group, systemd's stop SIGTERMs the whole unit: the
    # parent hears of it too and stops this worker with a message (once per Ctrl-C).
    signal.signal(signal.SIGINT, control.on_sigint)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sent: set[str] = set()
    try:
        job: _Job = _receive_from(conn)
        threading.Thread(target=control.read, name="control", daemon=True).start()
        if job.log_level < logging.WARNING:
            logger = logging.getLogger(LOG_LOGGER)
            logger.setLevel(job.log_level)
            logger.addHandler(_PipeLogHandler(control))

        def on_result(result: HostResult) -> None:
            _send_result(control, result)
            sent.add(result.host)

        run = run_audit(
            job.targets,
            job.playbooks,
            job.options,
            on_result,
            job.now,
            stop_starting=lambda: control.abort_reason,
        )
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the DONE message is sent whole
        control.send((DONE, [r for r in run.results if r.host not in sent]))
    except (KeyboardInterrupt, EOFError, OSError):
        # Stopped before the audit began, or the parent is gone: it settles what is missing.
        with contextlib.suppress(Exception):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            control.send((DONE, []))
    except Exception as exc:  # a fault of the worker itself: its hosts say what it was
        with contextlib.suppress(Exception):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            control.send((FAILED, f"unexpected {type(exc).__name__}: {exc}"[:300]))
    finally:
        kerberos_auth.close_all()  # this worker's own tickets
