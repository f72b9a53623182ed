"""What a reporter is: a format name, a file extension and one way to write a run.

Each format's module declares its `REPORTER`; `registry.py` lists them. Kept apart from the
registry so that a reporter module imports this and the registry imports the reporters,
without a cycle between them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from remediate.rules.evidence import Evidence
from remediate.rules.playbook import Playbook
from remediate.rules.results import AuditRun


@dataclass(frozen=True)
class TrendPoint:
    """One earlier (or this) run as the trend chart shows it: servers needing action of all."""

    run_id: str
    started: datetime
    needs_action: int
    hosts: int


HostSteps = Callable[[Playbook, Evidence], Sequence[str]]
"""The playbook's steps made concrete for one host, one line each (as `remediate plan` shows
them). The caller passes it: making steps is remediation's work, and remediation depends on
the audit, which writes reports, so the report cannot import it."""


@dataclass(frozen=True)
class ReportContext:
    """What a report may say beyond the run itself: where the hosts came from, who asked,
    the earlier runs of its scope (from the history) and the steps per host (from the CLI)."""

    inventory: str
    generated_by: str
    trend: tuple[TrendPoint, ...] = ()
    host_steps: HostSteps | None = None


WriteReport = Callable[[AuditRun, Path, ReportContext], None]
"""Writes the run (as it is, or read back from its stored document) as one file at `path`."""


@dataclass(frozen=True)
class Reporter:
    name: str
    """As given to `--format`."""
    extension: str
    """Of the file written, without the dot."""
    write: WriteReport
