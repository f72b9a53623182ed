"""`remediate kb import`: KB articles in, draft playbooks (or their facts as JSON) out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from remediate.cli.console import console, errors
from remediate.cli.options import DEFAULT_PLAYBOOKS
from remediate.errors import ExitCode, InputError, RemediateError

group = typer.Typer(help="Knowledge Base articles: turn them into draft playbooks.")


@group.command("import")
def kb_import(
    articles: Annotated[
        list[Path], typer.Argument(help="Article files: text, markdown or saved HTML.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for draft playbooks.")
    ] = DEFAULT_PLAYBOOKS,
    output_format: Annotated[
        str, typer.Option("--format", help="yaml: write draft playbooks; json: print the facts.")
    ] = "yaml",
    article_id: Annotated[
        str | None, typer.Option("--id", help="Article number when the text does not name itself.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing playbook file.")] = False,
) -> None:
    """Read KB articles and write draft playbooks marked `review: required`.

    What was found and what was unsure goes to stderr; with --format json one JSON object per
    article goes to stdout (article, title, products, events, fix_files, fixed_in).
    """
    import json

    from remediate.kb.draft import draft_playbook, facts_json, playbook_yaml
    from remediate.kb.extract import extract
    from remediate.kb.read import read_article
    from remediate.outputs import OutputError, check_folder, describe

    if output_format not in ("yaml", "json"):
        raise InputError(f"--format must be yaml or json, not {output_format!r}")
    if output_format == "yaml":
        # Before any article is read: a folder that cannot take the drafts is one clear error.
        check_folder(output, "playbook folder")
    failures = 0
    for path in articles:
        # One bad article is reported and the others still go through.
        try:
            facts = extract(read_article(path), str(path))
            if output_format == "json":
                console.out(json.dumps(facts_json(facts), ensure_ascii=False))
            else:
                draft = draft_playbook(facts, article_id if len(articles) == 1 else None)
                target = output / f"{draft['id']}.yml"
                if target.exists() and not force:
                    raise InputError(
                        f"{target} exists", file=str(path), hint="use --force or another --output"
                    )
                try:
                    output.mkdir(parents=True, exist_ok=True)
                    target.write_text(playbook_yaml(draft), encoding="utf-8")
                except OSError as exc:
                    raise OutputError(f"{target}: cannot write: {describe(exc)}") from None
                errors.print(f"{path}: draft written to {target}", markup=False)
            events = ", ".join(str(e.event_id) for e in facts.events) or "none"
            errors.print(
                f"{path}: {len(facts.events)} event(s) ({events}), "
                f"{len(facts.fix_files)} fix file(s), fixed in {facts.fixed_in or '-'}",
                markup=False,
            )
            for warning in facts.warnings:
                errors.print(f"{path}: unsure: {warning}", markup=False)
        except RemediateError as exc:
            failures += 1
            errors.print(f"error: {exc}", markup=False)
    raise typer.Exit(ExitCode.USAGE if failures else ExitCode.OK)
