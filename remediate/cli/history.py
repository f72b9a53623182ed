"""`remediate history [prune]` and `remediate report`: past runs, listed, pruned, rendered again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from remediate.cli.console import console, literal
from remediate.cli.options import (
    DEFAULT_HISTORY,
    DEFAULT_PLAYBOOKS,
    DEFAULT_REPORTS,
    HistoryDatabase,
    PlaybookPaths,
    ReportFormats,
    duration,
    who,
)
from remediate.errors import InputError

if TYPE_CHECKING:
    from remediate.history import StoredRun

OptionalHistory = Annotated[
    Path | None,
    typer.Option(
        "--history",
        help="History database (default: reports/history.sqlite and those runs were written "
        "to with `audit -o DIR`).",
        show_default=False,
    ),
]

group = typer.Typer(
    help="Past runs: list them, prune them.", invoke_without_command=True, no_args_is_help=False
)


def _readable(database: Path) -> bool:
    try:
        return database.is_file()
    except OSError as exc:  # too long a name (Python 3.11's is_file() raises for it)
        raise InputError(f"{database}: {exc.strerror or exc}", hint="give --history PATH") from None


def histories(database: Path | None) -> list[Path]:
    """The databases to look in: the one given, else the default one and those runs were
    written to (`remediate.history.known_histories`), each once."""
    from remediate.history import known_histories

    if database is not None:
        if not _readable(database):
            raise InputError(f"{database}: no history database there", hint=_NO_HISTORY)
        return [database]
    found: list[Path] = []
    seen: set[Path] = set()
    for path in (DEFAULT_HISTORY, *known_histories()):
        key = path.resolve()
        if key not in seen and _readable(path):
            seen.add(key)
            found.append(path)
    if not found:
        raise InputError(f"{DEFAULT_HISTORY}: no history yet", hint=_NO_HISTORY)
    return found


_NO_HISTORY = (
    "run `remediate audit`; for runs written with `audit -o DIR`, give --history DIR/history.sqlite"
)


@group.callback()
def history_list(
    context: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    database: OptionalHistory = None,
) -> None:
    """List recorded runs, newest first (each history database in its own table)."""
    if context.invoked_subcommand is not None:
        return
    from remediate.history import History

    for path in histories(database):
        with History(path) as store:
            rows = store.runs(limit)
        table = Table(title=literal(f"runs in {path}"))
        for column in ("run id", "started", "inventory", "hosts", "exit", "summary"):
            # The run id is what `report` takes: never folded, so it can be copied whole.
            table.add_column(column, overflow="fold", no_wrap=column in ("run id", "started"))
        for row in rows:
            summary = ", ".join(f"{k} {v}" for k, v in row.summary.items() if v)
            flag = " (interrupted)" if row.interrupted else ""
            cells = (
                row.run_id,
                f"{row.started:%Y-%m-%d %H:%M}",
                row.inventory,
                str(row.hosts),
                f"{row.exit_code}{flag}",
                summary,
            )
            table.add_row(*(literal(cell) for cell in cells))
        console.print(table)


@group.command("prune")
def history_prune(
    keep: Annotated[str, typer.Option(help="Keep runs this recent: 90d, 12w.")] = "90d",
    database: HistoryDatabase = DEFAULT_HISTORY,
) -> None:
    """Forget runs older than --keep."""
    from datetime import UTC, datetime

    from remediate.history import History

    keep_for = duration("--keep", keep)
    with History(database) as store:
        gone = store.prune(keep_for, datetime.now(UTC))
    console.print(literal(f"pruned {gone} run(s) older than {keep} from {database}"))


def find_run(run_id: str, database: Path | None) -> tuple[Path, StoredRun]:
    """The run `run_id` names and the database holding it: the one given, else the first of
    `histories` that knows it (the error of the first one when none does)."""
    from remediate.history import History, HistoryError

    first: HistoryError | None = None
    for path in histories(database):
        with History(path) as store:
            try:
                return path, store.stored(run_id)
            except HistoryError as exc:
                first = first or exc
    assert first is not None  # histories() returns at least one database
    raise first


def report(
    run_id: Annotated[str, typer.Argument(help="Run id (or its unique beginning).")],
    report_format: ReportFormats = "html,json",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Report folder (default: the one the run wrote to, else reports).",
            show_default=False,
        ),
    ] = None,
    database: OptionalHistory = None,
    playbooks: PlaybookPaths = None,
) -> None:
    """Render a past run again from the history database.

    `latest.*` is rewritten only when the run is the newest in its history, so it always
    shows the newest run. Exit codes: 0 written; 2 bad input (an unknown run, a --output that
    cannot be written, found before anything is rendered); 4 the disk failed while writing
    (the run stays in the history).
    """
    from remediate.history import History
    from remediate.outputs import check_folder
    from remediate.report.document import run_from_document
    from remediate.report.registry import parse_formats, trend_points, write_reports
    from remediate.rules.playbook import load_playbooks

    formats = parse_formats(report_format)
    if output is not None:  # a folder given is checked before anything else is read
        check_folder(output, "report folder")
    where, stored = find_run(run_id, database)
    folder = output or (Path(stored.report_folder) if stored.report_folder else DEFAULT_REPORTS)
    if output is None:
        check_folder(folder, "report folder")
    run = run_from_document(stored.document, load_playbooks(playbooks or [DEFAULT_PLAYBOOKS]))
    with History(where) as store:
        trend = trend_points(store.trend(run.run_id))
    paths = write_reports(
        run,
        formats,
        folder,
        stored.inventory or "(not recorded)",
        stored.run_by or who(),
        latest=stored.newest,
        trend=trend,
    )
    for path in paths:
        console.print(literal(f"report: {path}"))
    if not stored.newest:
        console.print(literal(f"latest.* in {folder} left as they were: a newer run exists"))
