"""The findings of one run, by host: what reports, history and the exit code are made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from remediate.errors import ExitCode, TransportError
from remediate.rules.evidence import Evidence
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, Finding, Status
from remediate.rules.playbook import Playbook


@dataclass(frozen=True)
class HostResult:
    host: str
    findings: tuple[Finding, ...]
    evidence: Evidence | None = None
    error: TransportError | None = None
    dialect: str | None = None
    transport: str = ""
    address: str = ""
    elapsed: float = 0.0
    round_trips: int = 0

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class AuditRun:
    run_id: str
    started: datetime
    playbooks: tuple[Playbook, ...]
    since: datetime
    results: list[HostResult] = field(default_factory=list)
    finished: datetime | None = None
    interrupted: bool = False
    aborted: str | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def counts(self) -> dict[Status, int]:
        counts = {status: 0 for status in Status}
        for finding in self.findings:
            counts[finding.status] += 1
        return counts

    @property
    def failed_hosts(self) -> list[str]:
        return [r.host for r in self.results if r.failed]

    def exit_code(self) -> ExitCode:
        """OK all fine; NEEDS_ACTION something to fix; HOST_ERRORS something could not be
        decided (and nothing to fix)."""
        statuses = {f.status for f in self.findings}
        if statuses & NON_COMPLIANT:
            return ExitCode.NEEDS_ACTION
        if statuses & UNDETERMINED:
            return ExitCode.HOST_ERRORS
        return ExitCode.OK
