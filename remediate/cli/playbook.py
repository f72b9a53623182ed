"""`remediate playbook lint|show`: check playbooks and read one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from remediate.cli.console import console, errors, literal, playbook_text
from remediate.cli.options import DEFAULT_PLAYBOOKS, PlaybookFolder
from remediate.errors import ExitCode, InputError

group = typer.Typer(help="Check and read playbooks (one YAML file per KB article).")


@group.command("lint")
def playbook_lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Playbook files or folders (default: playbooks/).")
    ] = None,
) -> None:
    """Validate playbooks; every problem names the file, the line and the YAML path."""
    from remediate.rules.playbook import PlaybookError, load_playbook, playbook_files

    files = playbook_files(paths or [DEFAULT_PLAYBOOKS])
    problems = 0
    for path in files:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            problems += 1
            errors.print(Text("FAIL", style="red"), Text(str(exc)), soft_wrap=True)
            continue
        console.print(literal(f"ok   {path} ({playbook.id})"))
    console.print(f"{len(files) - problems} of {len(files)} playbooks valid")
    raise typer.Exit(ExitCode.USAGE if problems else ExitCode.OK)


@group.command("show")
def playbook_show(
    playbook_id: Annotated[str, typer.Argument(help="Article id, e.g. KB840469 or Q232602.")],
    playbooks: PlaybookFolder = DEFAULT_PLAYBOOKS,
) -> None:
    """Print one playbook readably: applicability, symptoms, fix table, remediation."""
    from remediate.rules.playbook import load_playbooks

    found = {p.id.lower(): p for p in load_playbooks([playbooks])}
    playbook = found.get(playbook_id.lower())
    if playbook is None:
        known = ", ".join(sorted(p.id for p in found.values()))
        raise InputError(f"no playbook {playbook_id!r} in {playbooks} (known: {known})")
    for renderable in playbook_text(playbook):
        console.print(renderable)
