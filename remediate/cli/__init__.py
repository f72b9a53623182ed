"""The `remediate` command line: the typer app assembled from one module per command group.

Each command parses its options, calls the library, renders through `console` and picks the
exit code (`remediate.errors.ExitCode`). A `RemediateError` raised anywhere below becomes
one `error:` line and its exit code in `main()`, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import sys

import typer

from remediate import __version__
from remediate.cli import audit, console, history, inventory, kb, lab, playbook, remediation
from remediate.errors import ExitCode, RemediateError

app = typer.Typer(
    name="remediate",
    help="Agentless audit and remediation of Exchange/Windows fleets from KB articles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print the version."""
    console.console.print(f"remediate {__version__}")


# Commands first, then groups, in the order `remediate --help` lists them.
app.command()(lab.demo)
app.command()(history.report)
app.command()(remediation.plan)
app.command()(remediation.approve)
app.command()(remediation.apply)
app.command()(remediation.journal)
app.command()(audit.audit)
app.command()(inventory.inventory)
app.command()(audit.collect)
app.add_typer(lab.group, name="lab")
app.add_typer(playbook.group, name="playbook")
app.add_typer(kb.group, name="kb")
app.add_typer(history.group, name="history")


def main() -> None:
    """Console entry point: the one place a RemediateError becomes a message and exit code."""
    for stream in (sys.stdout, sys.stderr):
        # A path from argv that is not UTF-8 holds lone surrogates; a UTF-8 locale's stdout is
        # 'strict' and would raise UnicodeEncodeError printing it (C/POSIX locales escape it).
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    if os.environ.get("REMEDIATE_DEBUG"):
        app()
        return
    try:
        app()
    except RemediateError as exc:
        console.print_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.errors.print("interrupted", markup=False)
        sys.exit(ExitCode.INTERRUPTED)
