"""Remediation plans: what will run on which host, sealed by a hash, approved by a second person.

A plan is JSON. Its content (everything but `hash` and `approval`) is hashed canonically
(sorted keys, no spaces, UTF-8); an approval records who approved which hash, when, and until
when. `apply` refuses a plan whose content no longer matches its hash, one without an
approval, one whose approval is for another hash or has expired, and one approved by the
person who planned it unless the policy allows it (four eyes by default).
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remediate.errors import InputError

PLAN_FORMAT = "remediate.plan/1"
DEFAULT_APPROVAL_TTL = timedelta(hours=24)
StepKind = Literal["windows_component", "service", "reboot", "run", "manual", "verify"]


class PlanError(InputError):
    """A plan that may not be approved or applied; the message says why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# How long the controller waits for a step of each kind when neither the playbook (`timeout:`)
# nor `apply --step-timeout` says otherwise, in seconds. Our choice, not a Microsoft figure:
# - windows_component, run: step.ps1/step.js wait 3600 s for sysocmgr, ocsetup or an installer
#   before they stop it, so the controller waits that long plus STEP_MARGIN for their answer.
#   Service packs and hotfix installers commonly run for many minutes (unverified: no public
#   figure per version was found); the audit's --timeout (120 s) cut them off.
# - service: the step script waits 120 s for the state (`Wait-ServiceState`); the Service
#   Control Manager itself gives a service 30 s to answer a start (ServicesPipeTimeout, KB 922918;
#   unverified here: that page was not found in the search index).
# - reboot: the wait for the host to answer again is `apply --reboot-timeout` (600 s).
# - verify is an audit: it runs under the audit's --timeout. manual waits for an operator.
DEFAULT_STEP_TIMEOUTS: dict[str, int] = {"windows_component": 3600, "run": 3600, "service": 120}
STEP_MARGIN = 60  # seconds the controller waits beyond the script's own limit, for its answer


class FileCopy(_Model):
    """A file a `run` step copies to the host before it runs it, fixed by its SHA-256 when
    planned: the approved hash is the content that may run (the host checks it)."""

    source: str = Field(description="a controller file (absolute) or a share path \\\\s\\f")
    origin: Literal["controller", "share"]
    destination: str = Field(description="where it is written on the host (the program)")
    staged: str = Field(description="where it is assembled and checked before it is moved there")
    size: int | None = Field(default=None, description="bytes (unknown for a share)")
    sha256: str

    def describe(self) -> str:
        size = f"{self.size} bytes, " if self.size is not None else ""
        how = "the host copies" if self.origin == "share" else "copy from the controller"
        return f"{how} {self.source} ({size}sha256 {self.sha256}) to {self.destination}"


class PlannedStep(_Model):
    index: int
    kind: StepKind
    name: str
    display: str = Field(description="what will run, as an operator reads it")
    copy_file: FileCopy | None = Field(default=None, description="run: the file copied first")
    arguments: dict[str, Any] | None = Field(default=None, description="the step script's input")
    instruction: str | None = None
    timeout: int | None = Field(
        default=None, description="seconds the step may take (the playbook's `timeout:`)"
    )
    goal: dict[str, Any] | None = Field(
        default=None,
        description="the state the step leaves (component or service), checked by a resume",
    )

    def wait_seconds(
        self, override: float | None = None, reboot_timeout: float = 600.0
    ) -> float | None:
        """How long the controller waits for this step; None: the audit's --timeout (verify)
        or no limit (manual)."""
        if self.kind in ("manual", "verify"):
            return None
        if override is not None:
            return override
        if self.kind == "reboot":
            return float(self.timeout) if self.timeout is not None else reboot_timeout
        seconds = self.timeout if self.timeout is not None else DEFAULT_STEP_TIMEOUTS[self.kind]
        return float(seconds + STEP_MARGIN)

    def script_arguments(self, override: float | None = None) -> dict[str, Any]:
        """The arguments document sent to the host. Its `timeout` (component, run, service) is
        how long step.ps1/step.js let the program run or wait for the service's state. An
        `apply --step-timeout` longer than that plus STEP_MARGIN raises it, so that the script
        still answers before the controller stops waiting; a shorter one leaves it: the
        controller stops waiting first and journals the step as still running."""
        arguments = dict(self.arguments or {})
        if override is None or self.kind not in DEFAULT_STEP_TIMEOUTS or not arguments:
            return arguments
        limit = arguments.get("timeout", DEFAULT_STEP_TIMEOUTS[self.kind])
        raised = math.floor(override - STEP_MARGIN)
        if raised > int(limit):
            arguments["timeout"] = raised
        return arguments


def describe_seconds(seconds: float) -> str:
    """600 -> 10m, 3660 -> 1h 1m, 45 -> 45s."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return " ".join(p for p in parts if p) or "0s"


def describe_timeout(step: PlannedStep, override: float | None, reboot_timeout: float) -> str:
    """The step's timeout as `plan` and `apply --check` show it."""
    if step.kind == "manual":
        return "no timeout: the operator confirms"
    if step.kind == "verify":
        return "timeout: the audit's --timeout"
    seconds = step.wait_seconds(override, reboot_timeout)
    assert seconds is not None
    source = (
        "--step-timeout"
        if override is not None
        else "playbook"
        if step.timeout is not None
        else "--reboot-timeout"
        if step.kind == "reboot"
        else "default"
    )
    return f"timeout {describe_seconds(seconds)} ({source})"


class HostPlan(_Model):
    host: str
    status_before: str
    reason: str
    os: str
    exchange: str
    steps: list[PlannedStep]


class UnauditedHost(_Model):
    host: str
    reason: str


class Approval(_Model):
    by: str
    at: datetime
    expires: datetime
    hash: str
    comment: str | None = None
    recorded_by: str | None = Field(default=None, description="the account that ran approve")


class Plan(_Model):
    format: Literal["remediate.plan/1"] = PLAN_FORMAT
    playbook: str
    title: str
    inventory: str
    playbooks: list[str]
    created: datetime
    planned_by: str
    hosts: list[HostPlan]
    not_audited: list[UnauditedHost] = Field(
        default_factory=list, description="hosts left out: they could not be audited"
    )
    hash: str = ""
    approval: Approval | None = None

    def content_hash(self) -> str:
        """SHA-256 of the canonical content (without hash and approval)."""
        content = self.model_dump(mode="json", exclude={"hash", "approval"})
        for host in content["hosts"]:
            for step in host["steps"]:
                # Fields added later are hashed only when set: older plans keep their hash.
                for key in ("timeout", "goal"):
                    if step.get(key) is None:
                        step.pop(key, None)
        for host in content["hosts"]:
            for step in host["steps"]:
                if step.get("copy_file") is None:  # plans made before copies keep their hash
                    step.pop("copy_file", None)
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def sealed(self) -> Plan:
        return self.model_copy(update={"hash": self.content_hash()})


def save_plan(plan: Plan, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def load_plan(path: Path) -> Plan:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanError(f"{path}: not a plan file (not JSON: {exc})") from None
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"{path}: not a valid plan: {where}: {first['msg']}") from None


def same_person(first: str | None, second: str | None) -> bool:
    """Whether two operator names are one account: `CORP\\Alice`, `alice`, `alice@ws01`."""
    if not first or not second:
        return False

    def account(name: str) -> str:
        return name.strip().lower().rsplit("\\", 1)[-1].split("@", 1)[0]

    return account(first) == account(second)


def approve(
    plan: Plan,
    by: str,
    now: datetime,
    comment: str | None = None,
    ttl: timedelta = DEFAULT_APPROVAL_TTL,
    allow_self_approval: bool = False,
    recorded_by: str | None = None,
) -> Plan:
    """The plan with an approval; refuses a tampered plan and, by default, self-approval.

    `recorded_by` is the account running the approval: a planner cannot approve their own
    plan by typing somebody else's name.
    """
    if not by.strip():
        raise PlanError("an approval needs the approver's name (--by)")
    verify_integrity(plan)
    if not allow_self_approval:
        for who in (by, recorded_by):
            if same_person(who, plan.planned_by):
                raise PlanError(
                    f"{who} planned this change and cannot approve it too (four-eyes policy)",
                    hint="ask a second operator, or allow self-approval by policy",
                )
    approval = Approval(
        by=by.strip(),
        at=now,
        expires=now + ttl,
        hash=plan.hash,
        comment=comment,
        recorded_by=recorded_by,
    )
    return plan.model_copy(update={"approval": approval})


def verify_integrity(plan: Plan) -> None:
    if plan.hash != plan.content_hash():
        raise PlanError(
            "the plan's content does not match its hash: it was changed after it was made",
            hint="make a new plan with `remediate plan`",
        )


def check_approved(plan: Plan, now: datetime, allow_self_approval: bool = False) -> Approval:
    """The approval that lets this plan run, or PlanError saying why it may not."""
    verify_integrity(plan)
    approval = plan.approval
    if approval is None:
        raise PlanError("the plan is not approved", hint="`remediate approve PLAN --by NAME`")
    if approval.hash != plan.hash:
        raise PlanError("the approval is for another version of this plan")
    if approval.expires.astimezone(UTC) < now.astimezone(UTC):
        raise PlanError(
            f"the approval by {approval.by} expired at {approval.expires:%Y-%m-%d %H:%M} UTC",
            hint="approve it again",
        )
    same = same_person(approval.by, plan.planned_by) or same_person(
        approval.recorded_by, plan.planned_by
    )
    if same and not allow_self_approval:
        raise PlanError(f"{approval.by} planned and approved this change (four-eyes policy)")
    return approval
