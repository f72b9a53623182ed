"""`remediate history [prune]` and `remediate report`: past runs, listed, pruned, rendered again."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from remediate.cli.console import console, literal
from remediate.cli.options import (
    DEFAULT_HISTORY,
    DEFAULT_PLAYBOOKS,
    DEFAULT_REPORTS,
    HistoryDatabase,
    PlaybookPaths,
    ReportFolder,
    ReportFormats,
    duration,
    who,
)
from remediate.errors import InputError

group = typer.Typer(
    help="Past runs: list them, prune them.", invoke_without_command=True, no_args_is_help=False
)


@group.callback()
def history_list(
    context: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many runs, newest first.")] = 20,
    database: HistoryDatabase = DEFAULT_HISTORY,
) -> None:
    """List recorded runs, newest first."""
    if context.invoked_subcommand is not None:
        return
    from remediate.history import History

    try:
        missing = not database.exists()
    except OSError as exc:  # too long a name (Python 3.11's exists() raises for it)
        raise InputError(f"{database}: {exc.strerror or exc}", hint="give --history PATH") from None
    if missing:
        raise InputError(f"{database}: no history yet", hint="run `remediate audit`")
    with History(database) as store:
        rows = store.runs(limit)
    table = Table(title=literal(f"runs in {database}"))
    for column in ("run id", "started", "inventory", "hosts", "exit", "summary"):
        table.add_column(column, overflow="fold")
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


def report(
    run_id: Annotated[str, typer.Argument(help="Run id (or its unique beginning).")],
    report_format: ReportFormats = "html,json",
    output: ReportFolder = DEFAULT_REPORTS,
    database: HistoryDatabase = DEFAULT_HISTORY,
    playbooks: PlaybookPaths = None,
) -> None:
    """Render a past run again from the history database.

    Exit codes: 0 written; 2 bad input (an unknown run, a --output that cannot be written,
    found before anything is rendered); 4 the disk failed while writing (the run stays in
    the history).
    """
    from remediate.history import History
    from remediate.outputs import check_folder
    from remediate.report.document import run_from_document
    from remediate.report.registry import parse_formats, write_reports
    from remediate.rules.playbook import load_playbooks

    formats = parse_formats(report_format)
    try:
        missing = not database.is_file()
    except OSError as exc:  # too long a name (Python 3.11's is_file() raises for it)
        raise InputError(f"{database}: {exc.strerror or exc}", hint="give --history PATH") from None
    if missing:
        raise InputError(f"{database}: no history database there", hint="give --history PATH")
    check_folder(output, "report folder")
    with History(database) as store:
        document = store.document(run_id)
    run = run_from_document(document, load_playbooks(playbooks or [DEFAULT_PLAYBOOKS]))
    paths = write_reports(run, formats, output, "(from history)", who())
    for path in paths:
        console.print(literal(f"report: {path}"))
