"""What a reporter is: a format name, a file extension and one way to write a run.

Each format's module declares its `REPORTER`; `registry.py` lists them. Kept apart from the
registry so that a reporter module imports this and the registry imports the reporters,
without a cycle between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from remediate.rules.results import AuditRun


@dataclass(frozen=True)
class ReportContext:
    """What a report may say beyond the run itself: where the hosts came from, who asked."""

    inventory: str
    generated_by: str


WriteReport = Callable[[AuditRun, Path, ReportContext], None]
"""Writes the run (as it is, or read back from its stored document) as one file at `path`."""


@dataclass(frozen=True)
class Reporter:
    name: str
    """As given to `--format`."""
    extension: str
    """Of the file written, without the dot."""
    write: WriteReport
