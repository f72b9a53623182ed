"""`remediate playbook lint|show`: check playbooks and read one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from remediate.cli.console import console, errors, literal, playbook_text
from remediate.cli.inventory_options import print_warnings
from remediate.cli.options import DEFAULT_DRAFTS, DEFAULT_PLAYBOOKS, PlaybookFolder
from remediate.errors import ExitCode, InputError

if TYPE_CHECKING:
    from remediate.rules.playbook import Playbook

group = typer.Typer(help="Check and read playbooks (one YAML file per KB article).")


@group.command("lint")
def playbook_lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Playbook files or folders (default: playbooks/ and its drafts/)."),
    ] = None,
) -> None:
    """Validate playbooks; every problem names the file, the line and the YAML path.

    A draft (`review: required`) is valid but named in a warning, as is a draft set aside for
    a reviewed playbook of the same id (the one `audit` would use).
    """
    from remediate.rules.playbook import PlaybookError, draft_note, load_playbook, playbook_files

    files = playbook_files(paths or default_lint_paths())
    problems = 0
    loaded = []
    for path in files:
        try:
            playbook = load_playbook(path)
        except PlaybookError as exc:
            problems += 1
            errors.print(Text("FAIL", style="red"), Text(str(exc)), soft_wrap=True)
            continue
        loaded.append(playbook)
        state = "draft" if playbook.is_draft else "ok  "
        console.print(literal(f"{state} {path} ({playbook.id})"))
    print_warnings([draft_note(p) for p in loaded if p.is_draft] + precedence_notes(loaded))
    console.print(f"{len(files) - problems} of {len(files)} playbooks valid")
    raise typer.Exit(ExitCode.USAGE if problems else ExitCode.OK)


def default_lint_paths() -> list[Path]:
    """playbooks/ and playbooks/drafts/, those that hold playbooks: drafts are what most need
    linting, although `audit` does not read them by default. Neither: playbooks/, whose
    error says so."""
    holding = [p for p in (DEFAULT_PLAYBOOKS, DEFAULT_DRAFTS) if _holds_playbooks(p)]
    return holding or [DEFAULT_PLAYBOOKS]


def _holds_playbooks(folder: Path) -> bool:
    try:
        return folder.is_dir() and any(
            p.suffix.lower() in (".yml", ".yaml") for p in folder.iterdir()
        )
    except OSError:  # unreadable: named, so that playbook_files says why
        return True


def precedence_notes(playbooks: list[Playbook]) -> list[str]:
    """For each id used by a draft and a reviewed playbook, which one `audit` uses."""
    from remediate.rules.playbook import precedence_note

    reviewed = {p.id: p for p in playbooks if not p.is_draft}
    return [
        precedence_note(reviewed[p.id], p) for p in playbooks if p.is_draft and p.id in reviewed
    ]


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
