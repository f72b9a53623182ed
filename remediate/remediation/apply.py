"""Apply an approved plan (made by `remediate.remediation.planning`).

`apply_plan` refuses a plan whose signatures do not verify against the allowed signers (unsigned,
unapproved, expired, tampered, self-approved, too few approvers: `verify_plan`), re-audits each
host first
(skipping those that no longer need it), takes a per-host lock, runs the steps in order with
every one journalled, stops a host at its first failure while the others go on, and resumes
after a crash without repeating a finished step. Each host ends with a `HostStatus`.

Each step is waited for up to its own timeout (`PlannedStep.wait_seconds`: the kind's default,
the playbook's `timeout:`, or `--step-timeout`), not the audit's: installers take many minutes.
When it passes, the command is left running on the host and the journal says so
(`step_still_running`); a resume does not run that step blindly again: the re-audit, or the
state the step sets (component, service), decides whether it is done.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from remediate.audit.host import collect
from remediate.audit.request import collect_request
from remediate.connect.targets import ConnectOptions, HostTarget, build_targets
from remediate.errors import InputError, ProbeError, TransportError
from remediate.inventory import Host, load_sources
from remediate.probes.framing import OutputFormatError
from remediate.probes.step import (
    StepOutcome,
    build_step_script,
    parse_step_result,
    put_file_requests,
)
from remediate.remediation.journal import Journal, digest, journal_path
from remediate.remediation.plan import (
    FileCopy,
    HostPlan,
    Plan,
    PlannedStep,
    Verification,
    describe_timeout,
    verify_plan,
)
from remediate.remediation.signing import AllowedSigners, load_allowed_signers
from remediate.remediation.steps import file_sha256
from remediate.rules.evaluate import evaluate
from remediate.rules.evidence import Evidence
from remediate.rules.findings import Status
from remediate.rules.playbook import Playbook
from remediate.transport import CommandStillRunning, Transport

FIXED = {Status.COMPLIANT, Status.NOT_APPLICABLE, Status.WAIVED}


class HostStatus(StrEnum):
    """How an apply ended on one host; the journal records the value."""

    DONE = "done"
    NO_LONGER_NEEDED = "no_longer_needed"
    CHECKED = "checked"  # --check: printed what would run, changed nothing
    FAILED = "failed"
    WAITING_FOR_OPERATOR = "waiting_for_operator"
    DECLINED = "declined"
    STILL_RUNNING = "still_running"  # a step outlived its timeout; it was left running
    INTERRUPTED = "interrupted"  # Ctrl-C: no new step started; a running one was left running


# The host is not where the plan wants it: someone has to act (the apply exits NEEDS_ACTION).
UNFINISHED = frozenset(
    {
        HostStatus.FAILED,
        HostStatus.WAITING_FOR_OPERATOR,
        HostStatus.DECLINED,
        HostStatus.STILL_RUNNING,
        HostStatus.INTERRUPTED,
    }
)


@dataclass(frozen=True)
class ApplyOptions:
    forks: int = 1
    check: bool = False
    resume: bool = False
    confirm_manual: bool = False
    operator: str = ""
    reboot_timeout: float = 600.0
    # Who may plan and approve (--approvers; None: $REMEDIATE_ALLOWED_SIGNERS or
    # /etc/remediate/allowed_signers) and how many distinct approvers a plan needs.
    allowed_signers: AllowedSigners | None = None
    approvals: int = 1
    step_timeout: float | None = None  # --step-timeout: every step's, over the plan's
    rerun_still_running: bool = False  # a resume runs again a step left running, unchecked


@dataclass(frozen=True)
class HostOutcome:
    host: str
    status: HostStatus
    message: str
    steps_run: int = 0


class _Lock:
    """One apply per host at a time, across processes: an exclusive lock file."""

    def __init__(self, folder: Path, host: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{host}.lock"

    def __enter__(self) -> _Lock:
        # The lock appears with its pid already in it (written aside, then linked in place):
        # an apply killed between creating the lock and writing its pid would otherwise leave
        # an empty lock that no later apply could tell stale (pid 0 is our own group).
        own = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        own.write_text(str(os.getpid()))
        try:
            for _ in range(2):
                try:
                    self._create(own)
                except FileExistsError:
                    if self._stale():
                        self.path.unlink(missing_ok=True)
                        continue
                    raise InputError(
                        f"{self.path.stem}: another apply holds this host ({self.path})",
                        hint="wait for it, or remove the lock file if that apply is gone",
                    ) from None
                return self
        finally:
            own.unlink(missing_ok=True)
        raise InputError(f"{self.path}: cannot take the lock")

    def _create(self, own: Path) -> None:
        """Put the lock in place; FileExistsError when another holds it."""
        try:
            os.link(own, self.path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: create it, then write the pid
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(str(os.getpid()))

    def _stale(self) -> bool:
        try:
            pid = int(self.path.read_text().strip() or "0")
        except (OSError, ValueError):
            return True
        if pid <= 0:
            return True  # an empty lock left by an older version killed while taking it
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


class _HostRun:
    """Applies one host's steps."""

    def __init__(
        self,
        plan: Plan,
        host_plan: HostPlan,
        target: HostTarget,
        probe: Callable[[], Transport],
        playbook: Playbook,
        journal: Journal,
        options: ApplyOptions,
        say: Callable[[str], None],
        ask: Callable[[str], bool] | None,
        stop: threading.Event | None = None,
    ) -> None:
        self.plan, self.host_plan, self.target, self.probe = plan, host_plan, target, probe
        self.playbook, self.journal, self.options = playbook, journal, options
        self.say, self.ask = say, ask
        self.name = host_plan.host
        self.evidence: Evidence | None = None
        self.stop = stop or threading.Event()
        self.current: PlannedStep | None = None  # the step running on the host, for Ctrl-C

    def status_now(self) -> tuple[Status, str]:
        """Audit this article on this host again; returns the status and the dialect."""
        transport = self.target.connect()
        try:
            request = collect_request([self.playbook], datetime.now(UTC) - timedelta(days=7))
            collection = collect(transport, self.name, request, self.target.shell)
        finally:
            transport.close()
        self.evidence = collection.evidence
        return evaluate(self.playbook, collection.evidence).status, collection.dialect

    def wait_seconds(self, step: PlannedStep) -> float | None:
        return step.wait_seconds(self.options.step_timeout, self.options.reboot_timeout)

    def _settle(self, step: PlannedStep, status: Status, left: dict[str, Any]) -> str | None:
        """A step the last apply left running: "done", "rerun", or None (cannot tell yet)."""
        reason = ""
        if status in FIXED:
            reason = f"the re-audit says {status.value}"
        elif step.goal and self.evidence is not None:
            goal = step.goal
            if "component" in goal:
                state = self.evidence.component(str(goal["component"]))
                if state is not None and state.installed is bool(goal["installed"]):
                    reason = f"component {goal['component']} is now as the step sets it"
            elif "service" in goal:
                service = self.evidence.service(str(goal["service"]))
                if service is not None and service.state.lower() == str(goal["state"]):
                    reason = f"service {goal['service']} is now {goal['state']}"
        if reason:
            self.journal.write(
                "step_end",
                self.name,
                step.index,
                status="ok",
                message=f"left running at {left.get('at', 'the last apply')}; {reason}",
            )
            return "done"
        if self.options.rerun_still_running:
            self.journal.write("rerun", self.name, step.index, by=self.options.operator)
            return "rerun"
        return None

    def _still_running(self, step: PlannedStep, seconds: float, message: str) -> HostOutcome:
        self.journal.write(
            "step_still_running",
            self.name,
            step.index,
            kind=step.kind,
            timeout=seconds,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            message=message,
        )
        return HostOutcome(
            self.name,
            HostStatus.STILL_RUNNING,
            f"step {step.index} [{step.kind}] was still running on the host after {seconds:g} s; "
            "it was left running. `apply --resume` checks it before going on",
        )

    def run(self) -> HostOutcome:
        if self.options.check:
            for step in self.host_plan.steps:
                timeout = describe_timeout(
                    step, self.options.step_timeout, self.options.reboot_timeout
                )
                self.say(
                    f"{self.name}: would run step {step.index} [{step.kind}] {step.display}"
                    f"  ({timeout})"
                )
                if step.copy_file is not None and step.copy_file.origin == "controller":
                    changed = _changed_since_plan(step.copy_file)
                    self.say(
                        f"{self.name}:   {step.copy_file.source}: "
                        + (changed or "as planned (size and sha256 match)")
                    )
            return HostOutcome(self.name, HostStatus.CHECKED, "nothing changed (--check)")
        finished = self.journal.finished_steps() if self.options.resume else set()
        left_running = self.journal.still_running_steps(self.name) if self.options.resume else {}
        status, dialect = self.status_now()
        pending = [s for s in self.host_plan.steps if (self.name, s.index) not in finished]
        if status in FIXED and not any(
            (self.name, s.index) in finished for s in self.host_plan.steps
        ):
            self.journal.write("skip", self.name, reason=f"status is now {status.value}")
            return HostOutcome(
                self.name, HostStatus.NO_LONGER_NEEDED, f"status is now {status.value}"
            )
        if self.ask is not None and not self.ask(
            f"{self.name} is {status.value}: run its {len(pending)} remaining step(s)?"
        ):
            self.journal.write("declined", self.name, by=self.options.operator)
            return HostOutcome(self.name, HostStatus.DECLINED, "the operator said no; nothing ran")
        self.journal.write("host_start", self.name, status=status.value, resume=bool(finished))
        started_reboots = self.journal.unfinished_starts(self.name, "reboot") if finished else {}
        ran = 0
        for step in pending:
            if step.index in left_running:
                settled = self._settle(step, status, left_running[step.index])
                if settled == "done":
                    self.say(f"{self.name}: step {step.index} [{step.kind}] had finished since")
                    ran += 1
                    continue
                if settled is None:
                    self.say(f"{self.name}: step {step.index} [{step.kind}] may still be running")
                    self.journal.write("host_end", self.name, status=HostStatus.STILL_RUNNING.value)
                    return HostOutcome(
                        self.name,
                        HostStatus.STILL_RUNNING,
                        f"step {step.index} [{step.kind}] was left running and the host does not "
                        f"show it done yet (status {status.value}): wait and resume again, or "
                        "check the host and resume with --rerun-still-running",
                        ran,
                    )
            before = started_reboots.get(step.index, {}).get("boot_before")
            if before and self._restarted_before_resume(step, before, dialect):
                self.say(f"{self.name}: step {step.index} [reboot] had finished before the resume")
                ran += 1
                continue
            if self.stop.is_set():
                self.journal.write("host_end", self.name, status=HostStatus.INTERRUPTED.value)
                return HostOutcome(
                    self.name,
                    HostStatus.INTERRUPTED,
                    f"stopped (Ctrl-C) before step {step.index}; `apply --resume` goes on",
                    ran,
                )
            self.say(f"{self.name}: step {step.index} [{step.kind}] {step.name}")
            self.current = step
            try:
                outcome = self._step(step, dialect)
            finally:
                self.current = None
            self.say(
                f"{self.name}: step {step.index} " + ("ok" if outcome is None else outcome.status)
            )
            if outcome is not None:
                self.journal.write("host_end", self.name, status=outcome.status.value)
                return HostOutcome(self.name, outcome.status, outcome.message, ran)
            ran += 1
        self.journal.write("host_end", self.name, status=HostStatus.DONE.value)
        return HostOutcome(self.name, HostStatus.DONE, "every step done and verified", ran)

    def _step(self, step: PlannedStep, dialect: str) -> HostOutcome | None:
        """Run one step; a HostOutcome stops the host, None goes on."""
        if step.kind == "manual":
            confirmed = self.options.confirm_manual or (
                self.ask is not None and self.ask(f"{self.name}: {step.instruction} Done?")
            )
            if not confirmed:
                self.journal.write("wait", self.name, step.index, instruction=step.instruction)
                return HostOutcome(
                    self.name,
                    HostStatus.WAITING_FOR_OPERATOR,
                    f"step {step.index}: {step.instruction}",
                )
            self.journal.write("confirm", self.name, step.index, by=self.options.operator)
            return None
        boot_before = None
        if step.kind == "reboot":
            boot_before = self._boot_time(self.target.connect, dialect)
        self.journal.write(
            "step_start",
            self.name,
            step.index,
            kind=step.kind,
            display=step.display,
            **({"boot_before": boot_before} if boot_before else {}),
        )
        started = time.monotonic()
        if step.kind == "verify":
            status, _ = self.status_now()
            good = status not in (Status.MISSING_FIX, Status.AFFECTED)
            self.journal.write(
                "step_end",
                self.name,
                step.index,
                status="ok" if good else "failed",
                audit=status.value,
                seconds=round(time.monotonic() - started, 1),
            )
            return (
                None
                if good
                else HostOutcome(self.name, HostStatus.FAILED, f"verify: still {status.value}")
            )
        if step.copy_file is not None and step.copy_file.origin == "controller":
            refused = self._send_file(step.copy_file, dialect)
            if refused is not None:
                self.journal.write(
                    "step_end",
                    self.name,
                    step.index,
                    status="failed",
                    message=refused,
                    seconds=round(time.monotonic() - started, 1),
                )
                return HostOutcome(self.name, HostStatus.FAILED, f"step {step.index}: {refused}")
        wait = self.wait_seconds(step)
        try:
            outcome, output = self._run_action(
                self.target.connect,
                step.script_arguments(self.options.step_timeout),
                dialect,
                None if step.kind == "reboot" else wait,
            )
        except CommandStillRunning as exc:
            return self._still_running(step, wait or 0.0, exc.message)
        status, message = outcome.status, outcome.message
        if status == "ok" and step.kind == "reboot":
            # A reboot ends only when the host answers with a new boot time: the next step
            # never runs early, and a resume can tell whether the restart already happened.
            status, message = self._wait_for_reboot(
                boot_before or "", dialect, wait or self.options.reboot_timeout
            )
        self.journal.write(
            "step_end",
            self.name,
            step.index,
            status=status,
            exit_code=outcome.exit_code,
            changed=outcome.changed,
            command=outcome.command,
            message=message,
            output=digest(output),
            seconds=round(time.monotonic() - started, 1),
        )
        if status != "ok":
            return HostOutcome(self.name, HostStatus.FAILED, f"step {step.index}: {message}")
        return None

    def _run_action(
        self,
        connect: Callable[[], Transport],
        arguments: dict[str, Any],
        dialect: str,
        timeout: float | None = None,
    ) -> tuple[StepOutcome, bytes]:
        """Send one step script; its outcome and everything it printed.

        `timeout` is the step's own (None: the audit's); past it CommandStillRunning.
        """
        transport = connect()
        try:
            script = build_step_script(arguments, dialect)
            result = (
                transport.run(script, dialect)
                if timeout is None
                else transport.run(script, dialect, timeout=timeout)
            )
        finally:
            transport.close()
        try:
            return parse_step_result(result.stdout), result.stdout + result.stderr
        except OutputFormatError as exc:
            raise ProbeError(f"the step's output is unreadable: {exc}", host=self.name) from None

    def _send_file(self, copy: FileCopy, dialect: str) -> str | None:
        """Send a controller file to the host in put_file chunks, through one connection;
        None when every chunk was written, else why not. A file changed since the plan was
        approved is not sent: the approved hash is the content that may run."""
        changed = _changed_since_plan(copy)
        if changed is not None:
            return f"{copy.source}: {changed}; nothing was copied or run"
        content = Path(copy.source).read_bytes()
        transport = self.target.connect()
        try:
            for request in put_file_requests(copy.staged, content):
                result = transport.run(build_step_script(request, dialect), dialect)
                try:
                    outcome = parse_step_result(result.stdout)
                except OutputFormatError as exc:
                    raise ProbeError(
                        f"the step's output is unreadable: {exc}", host=self.name
                    ) from None
                if outcome.status != "ok":
                    return f"{outcome.command}: {outcome.message}"
        finally:
            transport.close()
        return None

    def _boot_time(self, connect: Callable[[], Transport], dialect: str) -> str:
        """When the host last started (WMI's LastBootUpTime text; only ever compared)."""
        outcome, _ = self._run_action(connect, {"action": "boot_time"}, dialect)
        if outcome.status != "ok" or not outcome.message:
            raise ProbeError(f"cannot read the boot time: {outcome.message}", host=self.name)
        return outcome.message

    def rebooted_since(self, boot_before: str, dialect: str) -> bool:
        """Whether the host answers now with another boot time than `boot_before`."""
        try:
            return self._boot_time(self.probe, dialect) != boot_before
        except (TransportError, ProbeError):
            return False

    def _restarted_before_resume(self, step: PlannedStep, boot_before: str, dialect: str) -> bool:
        """A reboot step the crash interrupted: done if the host came back since it began."""
        deadline = time.monotonic() + self.options.reboot_timeout
        while time.monotonic() < deadline:
            try:
                restarted = self._boot_time(self.probe, dialect) != boot_before
            except (TransportError, ProbeError):
                time.sleep(1.0)
                continue
            if restarted:
                self.journal.write(
                    "step_end",
                    self.name,
                    step.index,
                    status="ok",
                    message="the host had restarted before the resume",
                )
            return restarted
        return False

    def _wait_for_reboot(self, boot_before: str, dialect: str, seconds: float) -> tuple[str, str]:
        """Wait until the host answers with a new boot time; (status, message)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(1.0)
            if self.rebooted_since(boot_before, dialect):
                return "ok", "the host restarted and answers again"
        return "failed", f"the host did not come back within {seconds:g} s"


def _changed_since_plan(copy: FileCopy) -> str | None:
    """Why a controller file is no longer the one planned (missing, other size or hash)."""
    try:
        size, sha256 = file_sha256(Path(copy.source))
    except OSError as exc:
        return f"cannot read it any more ({exc.strerror})"
    if (size, sha256) != (copy.size, copy.sha256):
        return (
            f"changed since the plan was made: sha256 {sha256} ({size} bytes), "
            f"the plan approved {copy.sha256} ({copy.size} bytes)"
        )
    return None


def verify_for_apply(plan: Plan, options: ApplyOptions, now: datetime) -> Verification:
    """The plan's signatures checked against the configured allowed signers and the approvals
    policy of `options` (never the plan's): PlanError naming what failed."""
    allowed = options.allowed_signers or load_allowed_signers()
    return verify_plan(plan, allowed, now, options.approvals)


def apply_plan(
    plan_path: Path,
    plan: Plan,
    playbook: Playbook,
    options: ApplyOptions,
    connect: ConnectOptions,
    say: Callable[[str], None] = lambda text: None,
    ask: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> list[HostOutcome]:
    """Apply an approved plan; PlanError before anything runs when it may not."""
    verification = None
    if not options.check:
        verification = verify_for_apply(plan, options, now or datetime.now(UTC))
    sources = plan.inventories or [plan.inventory]  # plans before -i had one inventory
    inventory = load_sources(sources, vault_passwords=connect.vault_passwords)
    for warning in inventory.warnings:  # what Ansible would warn about (a duplicate key...)
        say(f"warning: {warning}")
    hosts: list[Host] = [h for h in inventory.hosts if h.name in {p.host for p in plan.hosts}]
    targets = {t.name: t for t in build_targets(hosts, connect)[0]}
    probes = {t.name: t.connect for t in build_targets(hosts, connect, probe=True)[0]}
    journal = Journal(journal_path(plan_path))
    if not options.check:
        journal.write(
            "apply",
            plan=plan.hash,
            planned_by=verification.planner if verification else None,
            approved_by=[a.principal for a in verification.approvers] if verification else None,
            operator=options.operator,
            resume=options.resume,
        )
    locks = plan_path.with_name(plan_path.name + ".locks")
    asking = threading.Lock()

    def ask_alone(question: str) -> bool:
        assert ask is not None
        with asking:  # with several forks, one question at a time
            return ask(question)

    stop = threading.Event()
    running: dict[str, _HostRun] = {}

    def one(host_plan: HostPlan) -> HostOutcome:
        target = targets.get(host_plan.host)
        if target is None:
            return HostOutcome(
                host_plan.host, HostStatus.FAILED, "the host is no longer in the inventory"
            )
        try:
            with contextlib.ExitStack() as stack:
                if not options.check:
                    stack.enter_context(_Lock(locks, host_plan.host))
                run = _HostRun(
                    plan,
                    host_plan,
                    target,
                    probes[host_plan.host],
                    playbook,
                    journal,
                    options,
                    say,
                    ask_alone if ask is not None else None,
                    stop,
                )
                running[host_plan.host] = run
                return run.run()
        except TransportError as exc:
            journal.write(
                "host_end",
                host_plan.host,
                status=HostStatus.FAILED.value,
                error=exc.reason,
                message=exc.message,
            )
            return HostOutcome(host_plan.host, HostStatus.FAILED, f"{exc.reason}: {exc.message}")
        except InputError as exc:
            return HostOutcome(host_plan.host, HostStatus.FAILED, str(exc))

    def stopping() -> None:
        # Ctrl-C: no new step starts. A step already running on a host goes on there (killing
        # sysocmgr or an installer halfway is worse), so it is journalled as left running and
        # `apply --resume` settles it from the host's state instead of running it again.
        left = [(name, run.current) for name, run in running.items() if run.current is not None]
        say(f"stopping: no new step starts; {len(left)} step(s) left running on their hosts")
        for name, step in left:
            if step is not None:
                journal.write(
                    "step_still_running",
                    name,
                    step.index,
                    kind=step.kind,
                    at=datetime.now(UTC).isoformat(timespec="seconds"),
                    message="interrupted (Ctrl-C) while the step ran; left running on the host",
                )

    return _each_host(list(plan.hosts), options.forks, one, stop, stopping)


def _each_host(
    host_plans: list[HostPlan],
    forks: int,
    work: Callable[[HostPlan], HostOutcome],
    stop: threading.Event,
    stopping: Callable[[], None],
) -> list[HostOutcome]:
    """`work` for every host, `forks` at a time, outcomes in plan order.

    Workers are daemon threads and the caller waits in short slices, so Ctrl-C is handled at
    once: `stop` is set, `stopping` journals what is left running, and KeyboardInterrupt goes
    on up (exit 130) without waiting for a step that may run for an hour.
    """
    todo: queue.SimpleQueue[tuple[int, HostPlan]] = queue.SimpleQueue()
    for item in enumerate(host_plans):
        todo.put(item)
    done: queue.SimpleQueue[tuple[int, HostOutcome | BaseException]] = queue.SimpleQueue()

    def worker() -> None:
        while not stop.is_set():
            try:
                index, host_plan = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((index, work(host_plan)))
            except BaseException as exc:  # handed to the caller, raised there
                done.put((index, exc))

    for number in range(min(max(1, forks), len(host_plans))):
        threading.Thread(target=worker, name=f"apply-{number}", daemon=True).start()
    outcomes: dict[int, HostOutcome] = {}
    try:
        while len(outcomes) < len(host_plans):
            try:
                index, outcome = done.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            outcomes[index] = outcome
    except KeyboardInterrupt:
        stop.set()
        stopping()
        raise
    return [outcomes[index] for index in range(len(host_plans))]
