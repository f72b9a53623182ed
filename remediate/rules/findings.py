"""Statuses and findings: what the audit decided for one host and one article (data only).

The statuses are a closed set, documented once here and in the README:

- `not_applicable`: the article does not concern this host (product, version, service pack).
- `compliant`: the fix is in place and no symptom appeared after it.
- `missing_fix`: a required file is older or absent (or the service pack is missing), and no
  symptom was seen.
- `affected`: the fix is missing and the symptoms were seen.
- `investigate`: the fix is in place, yet symptoms were seen after the fix's file date.
- `needs_reboot`: the fixed files wait in PendingFileRenameOperations for a restart.
- `waived`: an unexpired waiver covers this host and article.
- `unknown`: evidence needed for the decision could not be obtained on the host.
- `error`: the host could not be audited (unreachable, authentication, timeout, probe
  error...), with the reason named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from remediate.rules.evidence import EventSample


class Status(StrEnum):
    NOT_APPLICABLE = "not_applicable"
    COMPLIANT = "compliant"
    MISSING_FIX = "missing_fix"
    AFFECTED = "affected"
    INVESTIGATE = "investigate"
    NEEDS_REBOOT = "needs_reboot"
    WAIVED = "waived"
    UNKNOWN = "unknown"
    ERROR = "error"


# Statuses that mean "act on this host" (exit code 1) and "we could not tell" (exit code 3).
NON_COMPLIANT = frozenset(
    {Status.MISSING_FIX, Status.AFFECTED, Status.INVESTIGATE, Status.NEEDS_REBOOT}
)
UNDETERMINED = frozenset({Status.ERROR, Status.UNKNOWN})

WORST_FIRST: tuple[Status, ...] = (
    Status.AFFECTED,
    Status.INVESTIGATE,
    Status.MISSING_FIX,
    Status.NEEDS_REBOOT,
    Status.ERROR,
    Status.UNKNOWN,
    Status.WAIVED,
    Status.COMPLIANT,
    Status.NOT_APPLICABLE,
)
"""Statuses from the most urgent: how the reports order summaries and name a host's worst."""


@dataclass(frozen=True)
class FileVerdict:
    """One fix-table row checked on the host."""

    file: str
    path: str
    required: str | None
    found: str | None
    verdict: str  # ok | present | no_version | older | absent | pending | unknown
    modified: datetime | None = None
    note: str = ""

    @property
    def satisfied(self) -> bool:
        return self.verdict in ("ok", "present", "no_version")


@dataclass(frozen=True)
class SymptomResult:
    """One symptom selection checked on the host."""

    name: str
    kind: str  # events | service | component
    matched: bool
    description: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    samples: tuple[EventSample, ...] = ()
    known: bool = True
    capped: bool = False
    """`count` is a floor: it was counted from the newest records the probe sent (at most
    its sample cap, `remediate.audit.request.SAMPLES_FILTERED`), and older ones were left
    on the host. Shown with a plus ("200+"), never as if exact."""

    @property
    def count_text(self) -> str:
        """The count as every report shows it: "200+" when capped, else the number."""
        return f"{self.count}+" if self.capped else str(self.count)


@dataclass(frozen=True)
class RequirementResult:
    description: str
    satisfied: bool | None  # None: could not be checked


@dataclass(frozen=True)
class Finding:
    host: str
    playbook: str
    status: Status
    reason: str
    facts: tuple[tuple[str, str], ...] = ()
    files: tuple[FileVerdict, ...] = ()
    symptoms: tuple[SymptomResult, ...] = ()
    requirements: tuple[RequirementResult, ...] = ()
    error_kind: str | None = None
    hint: str | None = None
    waiver: str | None = None
    waived_status: Status | None = None
    notes: tuple[str, ...] = field(default=())
    drift: str | None = None  # new | resolved | unchanged, against the previous run
    noncompliant_since: datetime | None = None

    @property
    def symptoms_seen(self) -> bool:
        return any(s.matched for s in self.symptoms)
