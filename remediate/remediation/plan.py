"""Remediation plans: what will run on which host, signed by its planner, approved by others.

A plan is JSON (format `remediate.plan/2`). Its content (everything but `hash`, `signature` and
`approvals`) is serialised canonically (sorted keys, no spaces, UTF-8): the planner signs those
bytes with an SSH key (namespace PLAN_NAMESPACE), and each approver signs an approval statement
(the content's SHA-256, the planner's key, the approver's principal, time, expiry, comment) with
theirs (APPROVAL_NAMESPACE); see `signing` for the OpenSSH SSHSIG format. `verify_plan` checks
every signature against an allowed-signers file that comes from configuration, never from the
plan, and the four-eyes rule on the keys' principals: a file anyone can edit cannot approve.
Plans of the unsigned format `remediate.plan/1` are refused with the way to re-plan.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remediate.errors import InputError
from remediate.remediation.signing import (
    AllowedSigners,
    Key,
    SignatureError,
    Signer,
    matches,
    sign,
    verify,
)

PLAN_FORMAT = "remediate.plan/2"
OLD_FORMATS = ("remediate.plan/1",)
# SSHSIG namespaces (PROTOCOL.sshsig: they keep a signature made for one use from passing for
# another): the planner's signature of the content, and an approver's of the statement.
PLAN_NAMESPACE = "remediate-plan@remediate"
APPROVAL_NAMESPACE = "remediate-approval@remediate"
APPROVAL_TYPE = "remediate.approval/1"
CLOCK_SKEW = timedelta(minutes=5)  # an approval signed later than now + this is refused
MAX_PLAN_BYTES = 64 * 1024 * 1024
MAX_STATEMENT = 16 * 1024
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


class ApprovalStatement(_Model):
    """What an approver signs: this content (its SHA-256), as signed by that planner key, is
    approved by this principal from `at` until `expires`."""

    type: Literal["remediate.approval/1"] = APPROVAL_TYPE
    plan: str = Field(description="SHA-256 of the plan's canonical content")
    planner_key: str = Field(description="fingerprint of the key that signed the plan")
    approver: str = Field(description="the approver's principal in the allowed signers")
    at: datetime
    expires: datetime
    comment: str | None = Field(default=None, description="change ticket, remarks")

    def text(self) -> str:
        return _canonical(self.model_dump(mode="json"))


class SignedApproval(_Model):
    statement: str = Field(description="the ApprovalStatement exactly as signed (JSON)")
    signature: str = Field(description="the approver's SSH signature of `statement`")


class Plan(_Model):
    format: Literal["remediate.plan/2"] = PLAN_FORMAT
    id: str = Field(
        default_factory=lambda: secrets.token_hex(16),
        description="random: two plans of the same steps are still two plans",
    )
    playbook: str
    title: str
    inventory: str = Field(description="the inventory sources, as shown")
    inventories: list[str] = Field(
        default_factory=list, description="every inventory source (-i), in order"
    )
    playbooks: list[str]
    created: datetime
    planned_by: str = Field(description="the planner's principal in the allowed signers")
    hosts: list[HostPlan]
    not_audited: list[UnauditedHost] = Field(
        default_factory=list, description="hosts left out: they could not be audited"
    )
    hash: str = Field(default="", description="SHA-256 of the content (a label: not trusted)")
    signature: str | None = Field(default=None, description="the planner's SSH signature")
    approvals: list[SignedApproval] = Field(default_factory=list)

    def content(self) -> bytes:
        """The canonical content the planner signs (everything but hash and signatures)."""
        content = self.model_dump(mode="json", exclude={"hash", "signature", "approvals"})
        return _canonical(content).encode("utf-8")

    def content_hash(self) -> str:
        return hashlib.sha256(self.content()).hexdigest()

    def sealed(self) -> Plan:
        return self.model_copy(update={"hash": self.content_hash()})


def _canonical(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def save_plan(plan: Plan, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


REPLAN = (
    "make it again: `remediate plan INVENTORY --playbook ID --key YOUR_KEY`, then "
    "`remediate approve PLAN --key APPROVER_KEY` (see README, remediation)"
)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_plan(path: Path) -> Plan:
    """A plan file, strictly; PlanError naming the file and what is wrong, never another
    exception. The unsigned format of earlier versions is refused with the way to re-plan."""
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_PLAN_BYTES:
            raise PlanError(f"{path}: too large for a plan ({len(raw)} bytes)")
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PlanError(f"{path}: not a plan file (not JSON: {exc})") from None
    except RecursionError:
        raise PlanError(f"{path}: not a plan file (JSON nested too deeply)") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path}: not a plan file (not a JSON object)")
    found = data.get("format")
    if found in OLD_FORMATS:
        raise PlanError(
            f"{path}: an unsigned plan ({found}); plans must now be signed by their planner "
            "and approvers",
            hint=REPLAN,
        )
    if found != PLAN_FORMAT:
        shown = repr(found)[:40]
        raise PlanError(f"{path}: not a plan file (format {shown}, expected {PLAN_FORMAT})")
    try:
        plan = Plan.model_validate(data)
        plan.content()  # every plan that loads can be hashed and verified
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"{path}: not a valid plan: {where}: {first['msg']}") from None
    except (ValueError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise PlanError(f"{path}: not a valid plan: {message}") from None
    return plan


def sign_plan(plan: Plan, signer: Signer, principal: str) -> Plan:
    """The plan as `principal` signs it with their key (any earlier approvals dropped: they
    were for other content)."""
    if not principal.strip():
        raise PlanError("a plan needs its planner's principal (--signer)")
    named = plan.model_copy(update={"planned_by": principal.strip(), "approvals": []}).sealed()
    return named.model_copy(update={"signature": sign(signer, PLAN_NAMESPACE, named.content())})


def planner_key(plan: Plan) -> Key:
    """The key whose signature covers the plan's content; PlanError when there is none or it
    does not match (the content was changed after it was signed)."""
    if plan.signature is None:
        raise PlanError("the plan is not signed by its planner", hint=REPLAN)
    if plan.hash != plan.content_hash():
        raise PlanError(
            "the plan's content does not match its hash: it was changed after it was signed",
            hint=REPLAN,
        )
    try:
        return verify(plan.signature, PLAN_NAMESPACE, plan.content(), "the planner's signature")
    except SignatureError as exc:
        raise PlanError(
            f"{exc.message}: the plan was changed after it was signed, or the signature "
            "was replaced",
            hint=REPLAN,
        ) from None


def approve(
    plan: Plan,
    signer: Signer,
    approver: str,
    now: datetime,
    comment: str | None = None,
    ttl: timedelta = DEFAULT_APPROVAL_TTL,
    allowed: AllowedSigners | None = None,
) -> Plan:
    """The plan with `approver`'s signed approval added (replacing an earlier one by the same
    key). Refuses a plan whose signature does not verify and an approval by the planner's key
    (or, with the allowed signers, by anyone the planner is listed as)."""
    approver = approver.strip()
    if not approver:
        raise PlanError("an approval needs the approver's principal (--by)")
    if ttl <= timedelta(0):
        raise PlanError("an approval must stay valid for some time (--valid-hours)")
    key = planner_key(plan)
    if signer.key == key or (
        allowed is not None and allowed.person(signer.key) & allowed.person(key)
    ):
        raise PlanError(
            f"the key {signer.key.fingerprint} planned this change and cannot approve it too "
            "(four-eyes policy)",
            hint="a second person approves it with their own key",
        )
    if allowed is not None:
        entries = allowed.entries_for(signer.key, APPROVAL_NAMESPACE, now)
        if not entries:
            raise PlanError(
                f"{allowed.source} does not allow the key {signer.key.fingerprint} to approve",
            )
        if not any(matches(approver, e.principals) for e in entries):
            listed = ", ".join(p for e in entries for p in e.principals)
            raise PlanError(
                f"the key {signer.key.fingerprint} is listed as {listed}, not {approver}"
            )
    statement = ApprovalStatement(
        plan=plan.content_hash(),
        planner_key=key.fingerprint,
        approver=approver,
        at=now.astimezone(UTC),
        expires=(now + ttl).astimezone(UTC),
        comment=comment,
    ).text()
    signature = sign(signer, APPROVAL_NAMESPACE, statement.encode("utf-8"))
    kept = []
    for earlier in plan.approvals:
        try:
            same = verify(earlier.signature, APPROVAL_NAMESPACE, earlier.statement.encode())
        except (SignatureError, UnicodeEncodeError):
            same = None
        if same != signer.key:
            kept.append(earlier)
    kept.append(SignedApproval(statement=statement, signature=signature))
    return plan.model_copy(update={"approvals": kept})


@dataclass(frozen=True)
class Approver:
    principal: str
    fingerprint: str
    at: datetime
    expires: datetime
    comment: str | None


@dataclass(frozen=True)
class Verification:
    """What `verify_plan` found: who planned (principal and key) and who approved."""

    planner: str
    planner_key: str
    approvers: tuple[Approver, ...]
    source: str

    def lines(self) -> list[str]:
        out = [
            f"signed by planner {self.planner} ({self.planner_key}), checked against {self.source}"
        ]
        for a in self.approvers:
            ticket = f", {a.comment}" if a.comment else ""
            out.append(
                f"approved by {a.principal} ({a.fingerprint}) at {a.at:%Y-%m-%d %H:%M} UTC, "
                f"valid until {a.expires:%Y-%m-%d %H:%M} UTC{ticket}"
            )
        return out


def _allowed_entries(
    allowed: AllowedSigners, key: Key, namespace: str, now: datetime, role: str
) -> list[Any]:
    entries = allowed.entries_for(key, namespace, now)
    if entries:
        return entries
    listed = [e for e in allowed.entries if e.key == key]
    if not listed:
        reason = f"which {allowed.source} does not list"
    elif not any(e.allows_namespace(namespace) for e in listed):
        reason = f"which {allowed.source} does not allow to sign {namespace}"
    else:
        reason = f"which {allowed.source} allows only at other times (valid-after/valid-before)"
    raise PlanError(f"{role} is by the key {key.fingerprint}, {reason}")


def _statement(approval: SignedApproval, what: str) -> ApprovalStatement:
    if len(approval.statement) > MAX_STATEMENT:
        raise PlanError(f"{what}: the statement is too long")
    try:
        data = json.loads(approval.statement, parse_constant=_no_constants)
        return ApprovalStatement.model_validate(data)
    except (ValueError, RecursionError):  # ValidationError is a ValueError
        raise PlanError(f"{what}: the statement is not an approval statement") from None


def verify_plan(
    plan: Plan, allowed: AllowedSigners, now: datetime, needed: int = 1
) -> Verification:
    """Every signature, against `allowed` (from configuration, never the plan): the planner's
    over the content; each approval's over its statement, the statement naming this content and
    this planner key, not expired at `now` (from the signed times), by a key allowed to approve
    under the principal it names, held by someone other than the planner; at least `needed`
    distinct approvers. PlanError naming the first thing that failed."""
    key = planner_key(plan)
    digest = plan.content_hash()
    entries = _allowed_entries(allowed, key, PLAN_NAMESPACE, now, "the planner's signature")
    if not any(matches(plan.planned_by, e.principals) for e in entries):
        listed = ", ".join(p for e in entries for p in e.principals)
        raise PlanError(
            f"the plan says it was planned by {plan.planned_by[:80]!r}, but its key "
            f"{key.fingerprint} is listed as {listed}"
        )
    planner = allowed.person(key)
    people: list[frozenset[str]] = []
    approvers: list[Approver] = []
    duplicates: list[str] = []
    for number, approval in enumerate(plan.approvals, 1):
        what = f"approval {number}"
        statement = _statement(approval, what)
        what = f"approval {number} (by {statement.approver[:80]!r})"
        try:
            signer = verify(
                approval.signature, APPROVAL_NAMESPACE, approval.statement.encode("utf-8"), what
            )
        except SignatureError as exc:
            raise PlanError(exc.message) from None
        except UnicodeEncodeError:
            raise PlanError(f"{what}: the statement is not text") from None
        if statement.plan != digest:
            raise PlanError(
                f"{what}: approves another plan (sha256 {statement.plan[:16]}...), not this one "
                f"(sha256 {digest[:16]}...): it was copied from another plan, or this plan was "
                "changed since"
            )
        if statement.planner_key != key.fingerprint:
            raise PlanError(f"{what}: approves this content as signed by another planner key")
        person = allowed.person(signer)
        if signer == key or person & planner:
            raise PlanError(
                f"{what}: signed by the planner's own key or by a principal of the planner "
                f"({signer.fingerprint}): four-eyes policy",
                hint="a second person approves it with their own key",
            )
        approver_entries = _allowed_entries(allowed, signer, APPROVAL_NAMESPACE, now, what)
        if not any(matches(statement.approver, e.principals) for e in approver_entries):
            listed = ", ".join(p for e in approver_entries for p in e.principals)
            raise PlanError(f"{what}: signed by the key {signer.fingerprint}, listed as {listed}")
        at, expires = statement.at.astimezone(UTC), statement.expires.astimezone(UTC)
        if expires <= at:
            raise PlanError(f"{what}: expires before it was signed")
        if at > now.astimezone(UTC) + CLOCK_SKEW:
            raise PlanError(f"{what}: signed at {at:%Y-%m-%d %H:%M} UTC, in the future")
        if expires < now.astimezone(UTC):
            raise PlanError(
                f"{what}: expired at {expires:%Y-%m-%d %H:%M} UTC", hint="approve it again"
            )
        if any(person & seen for seen in people):
            duplicates.append(f"approval {number} is by a person who approved already")
            continue
        people.append(person)
        approvers.append(
            Approver(statement.approver, signer.fingerprint, at, expires, statement.comment)
        )
    if len(approvers) < needed:
        have = f"{len(approvers)} valid" + (f" ({'; '.join(duplicates)})" if duplicates else "")
        raise PlanError(
            f"the plan needs {needed} approval(s) by people other than the planner; it has {have}",
            hint="`remediate approve PLAN --key KEY` by each approver",
        )
    return Verification(plan.planned_by, key.fingerprint, tuple(approvers), allowed.source)
