"""The report formats: every reporter registered once, found by the name given to `--format`.

A new format is one module declaring a `Reporter` and one line in `REPORTERS`; parsing
`--format`, the error naming the formats and writing the files all follow from this table.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from remediate.errors import InputError
from remediate.outputs import NotWrittenError, describe
from remediate.report import csv_report, html, json_report, junit, markdown
from remediate.report.reporter import HostSteps, ReportContext, Reporter, TrendPoint
from remediate.rules.results import AuditRun

REPORTERS: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in (
        html.REPORTER,
        json_report.REPORTER,
        junit.REPORTER,
        csv_report.REPORTER,
        markdown.REPORTER,
    )
}


def _unknown(named: str) -> InputError:
    return InputError(f"unknown report format {named}; available: {', '.join(REPORTERS)}")


def parse_formats(text: str) -> tuple[str, ...]:
    """`html,json` -> ("html", "json"); InputError naming the known formats otherwise."""
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in REPORTERS]
    if unknown or not formats:
        raise _unknown(", ".join(unknown) or "(none)")
    return formats


def write_reports(
    run: AuditRun,
    formats: tuple[str, ...],
    output: Path,
    inventory: str,
    generated_by: str,
    latest: bool = True,
    trend: Sequence[TrendPoint] = (),
    host_steps: HostSteps | None = None,
) -> tuple[Path, ...]:
    """Each asked format as `audit-<run id>.<ext>`, and `latest.<ext>` beside it.

    `latest=False` for an older run rendered again: `latest.*` keeps showing the newest.
    `trend`: this run and earlier ones of its scope, from the history (`History.trend`);
    `host_steps`: the steps of a playbook made for one host, for the HTML report."""
    unknown = [name for name in formats if name not in REPORTERS]
    if unknown:
        raise _unknown(", ".join(unknown))
    context = ReportContext(
        inventory=inventory, generated_by=generated_by, trend=tuple(trend), host_steps=host_steps
    )
    written: list[Path] = []
    for name in formats:
        reporter = REPORTERS[name]
        path = output / f"audit-{run.run_id}.{reporter.extension}"
        try:
            _write_whole(path, lambda temp, r=reporter: r.write(run, temp, context))
        except OSError as exc:
            # A disk that filled during the run: the caller saves the run elsewhere.
            raise ReportWriteError(
                f"{path}: cannot write the {name} report: {describe(exc)}", tuple(written)
            ) from None
        written.append(path)
        if not latest:
            continue
        newest = output / f"latest.{reporter.extension}"
        try:
            _write_whole(newest, lambda temp, source=path: temp.write_bytes(source.read_bytes()))
        except OSError as exc:
            raise ReportWriteError(
                f"{newest}: cannot write: {describe(exc)}", tuple(written)
            ) from None
    return tuple(written)


class ReportWriteError(NotWrittenError):
    """A report that could not be written; `written` are those that were, before it.

    The folder was checked before the work; this is the disk filling meanwhile."""

    def __init__(self, message: str, written: tuple[Path, ...]) -> None:
        super().__init__(message)
        self.written = written


def _write_whole(path: Path, write: Callable[[Path], None]) -> None:
    """`write` fills a temporary file beside `path`, which then replaces `path` at once: a
    run killed mid-write (SIGKILL, power loss) leaves the old file or none, never half a
    report that a reader takes for whole. The name is this process's own, so two runs into
    one folder do not share it; a crash leaves only a hidden `.*.tmp` behind."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())  # the content is on disk before the name points at it
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def trend_points(rows: Sequence[tuple[str, object, int, int]]) -> tuple[TrendPoint, ...]:
    """`History.trend` rows as the HTML report's trend points."""
    return tuple(TrendPoint(*row) for row in rows)  # type: ignore[arg-type]
