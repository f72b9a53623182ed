"""The `remediate` command line: the typer app assembled from one module per command group.

Each command parses its options, calls the library, renders through `console` and picks the
exit code (`remediate.errors.ExitCode`). A `RemediateError` raised anywhere below becomes
one `error:` line and its exit code in `main()`, never a traceback.

`-v/-vv/-vvv` is the root's option and every command's too: Ansible users type it after the
command (`ansible-playbook site.yml -vvv`), others before; the counts add up.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import sys
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from remediate import __version__
from remediate.audit.gc_policy import freeze_at_exit
from remediate.cli import audit, console, history, inventory, kb, lab, playbook, remediation
from remediate.cli.options import Verbose
from remediate.errors import ExitCode, RemediateError

VERBOSITY = "remediate.verbosity"
"""The `-v` count so far, kept in the root context's `meta`."""


def _more_verbose(ctx: typer.Context, _param: object, count: int | None) -> None:
    meta = ctx.find_root().meta
    meta[VERBOSITY] = meta.get(VERBOSITY, 0) + (count or 0)
    console.set_verbosity(meta[VERBOSITY])


def _share_option(option: Any, commands: Iterable[Any]) -> None:
    """Give `option` to every command and group below, as an option that adds to the root's.

    (Typer's click parameters and commands, duck-typed: typer ships its own copy of click.)
    """
    for command in commands:
        if all(param.name != option.name for param in command.params):
            shared = copy.copy(option)
            shared.expose_value = False  # the commands' functions never see it
            shared.callback = _more_verbose
            command.params.append(shared)
        _share_option(option, (getattr(command, "commands", None) or {}).values())


# `remediate --help` lists the commands in the order a user meets them: try, look, audit,
# read the results, fix, then the tools for playbook authors and the lab.
WORKFLOW = (
    "demo",
    "inventory",
    "audit",
    "report",
    "history",
    "plan",
    "approve",
    "apply",
    "journal",
    "collect",
    "playbook",
    "kb",
    "lab",
    "version",
)

# What --help shows as an option's value, in words (typer's own labels read `<list[Path]>`).
_VALUE_WORDS = {"path": "PATH", "list[Path]": "PATH", "int": "N", "float": "NUMBER"}


def _plain_value_names(commands: Iterable[Any]) -> None:
    """Name each option's value in --help as a word (PATH, N, TEXT), a flag's not at all."""
    for command in commands:
        _plain_help_option(command)
        for param in command.params:
            if getattr(param, "param_type_name", "") == "argument":
                # Its name says what it is (INVENTORY, PLAN_FILE): no type column beside it.
                param.display_type_rich = lambda ctx: None
                if param.metavar is None and param.name:
                    param.metavar = param.name.upper()
                continue
            if getattr(param, "param_type_name", "") != "option" or param.metavar is not None:
                continue
            if param.is_flag or param.count:
                param.metavar = ""
                continue
            with contextlib.suppress(Exception):  # typer's private labels: keep theirs if odd
                label = param.display_type(None).strip("<>").removesuffix(" range")
                param.metavar = _VALUE_WORDS.get(label, "TEXT")
        _plain_value_names((getattr(command, "commands", None) or {}).values())


def _plain_help_option(command: Any) -> None:
    """--help, made by click when help is asked for, shows no value either."""
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None and option.metavar is None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option


class _RootGroup(TyperGroup):
    """The root command group: its `--verbose/-v` is also every command's; --help lists the
    commands in WORKFLOW order and names option values in words."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for param in self.params:
            if param.name == "verbose":
                _share_option(param, self.commands.values())
        _plain_value_names([self, *self.commands.values()])

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: index for index, name in enumerate(WORKFLOW)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))


app = typer.Typer(
    cls=_RootGroup,
    name="remediate",
    help="Agentless audit and remediation of Exchange/Windows fleets from KB articles.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        console.console.print(f"remediate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    verbose: Verbose = 0,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            expose_value=False,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    ctx.meta[VERBOSITY] = 0  # a new run in the same process starts quiet
    _more_verbose(ctx, None, verbose)


@app.command()
def version() -> None:
    """Print the version."""
    console.console.print(f"remediate {__version__}")


# Registered in any order: `remediate --help` lists them in WORKFLOW order.
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
    # `kill`, systemd and CI runners stop a run with SIGTERM: it ends the run as Ctrl-C does
    # (shells closed, results and journal kept, the run's tickets removed), not mid-write.
    signal.signal(signal.SIGTERM, _terminated)
    # The exit leaves the heap to the OS rather than collect it (0.25-0.3 s of CPU, issue 18).
    freeze_at_exit()
    try:
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
    finally:
        _remove_tickets()


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _remove_tickets() -> None:
    """The run's Kerberos tickets go as the command ends (only if Kerberos was used)."""
    tickets = sys.modules.get("remediate.transport.kerberos_auth")
    if tickets is not None:
        tickets.close_all()
