"""`remediate kb import`: KB articles in, draft playbooks (or their facts as JSON) out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from remediate.cli.console import console, errors
from remediate.cli.options import DEFAULT_DRAFTS, DEFAULT_PLAYBOOKS
from remediate.errors import ExitCode, InputError, RemediateError

group = typer.Typer(help="Knowledge Base articles: turn them into draft playbooks.")


@group.command("import")
def kb_import(
    articles: Annotated[
        list[Path], typer.Argument(help="Article files: text, markdown or saved HTML.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder for draft playbooks (audit reads it only when named with -p).",
        ),
    ] = DEFAULT_DRAFTS,
    output_format: Annotated[
        str, typer.Option("--format", help="yaml: write draft playbooks; json: print the facts.")
    ] = "yaml",
    article_id: Annotated[
        str | None, typer.Option("--id", help="Article number when the text does not name itself.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing playbook file.")] = False,
) -> None:
    """Read KB articles and write draft playbooks marked `review: required`.

    Drafts go to playbooks/drafts/ by default, which `audit` does not read unless named: a
    reviewer checks each draft against its article, sets `review: done` and moves it to
    playbooks/. Events of one source and the same filters become one symptom, and repeated
    fix rows one row.

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
            text = read_article(path)
            facts = extract(text, str(path))
            if output_format == "json":
                console.out(json.dumps(facts_json(facts), ensure_ascii=False))
            else:
                # with the text, a RESOLUTION procedure becomes steps (remediate.kb.procedure)
                draft = draft_playbook(facts, article_id if len(articles) == 1 else None, text=text)
                draft, merged = merge_duplicate_rows(draft)
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
                errors.print(
                    f"{path}: draft written to {target} (review: required; when checked "
                    f"against the article set review: done and move it to {DEFAULT_PLAYBOOKS}/)",
                    markup=False,
                )
                for note in merged:
                    errors.print(f"{path}: {note}", markup=False)
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


def _selection_key(selection: dict[str, Any]) -> tuple[str, ...] | None:
    """What makes two event selections one symptom apart from their IDs; None for a state."""
    if "event_ids" not in selection:
        return None
    return tuple(
        repr(selection.get(key)) for key in ("log", "source", "codes", "data_contains", "message")
    )


def merge_duplicate_rows(draft: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The draft with repeated rows merged, and a note per merge (for stderr).

    Articles name an event in SYMPTOMS and again in CAUSE, and list a file in two tables; a
    reviewer should read each once. Fix rows that are identical become one. Event selections
    that differ only in their IDs become one listing the IDs in order, as hand-written
    playbooks group them, but only under `1 of them`, where that cannot change what matches.
    A file listed with different versions is kept as is and named: which row is right (or for
    which product) is the reviewer's call.
    """
    merged = dict(draft)
    notes: list[str] = []
    fix = dict(merged.get("fix") or {})
    rows: list[dict[str, Any]] = []
    for row in fix.get("files", []):
        if row in rows:
            notes.append(f"fix file {row.get('file')}: listed twice, merged into one row")
        else:
            rows.append(row)
    versions: dict[tuple[str, ...], list[str]] = {}
    for row in rows:
        key = tuple(
            str(row.get(k, "")).lower()
            for k in ("file", "folder", "platform", "component", "exchange_version")
        )
        versions.setdefault(key, []).append(str(row.get("version")))
    for key, found in versions.items():
        if len(found) > 1:
            notes.append(
                f"unsure: fix file {key[0]} is listed with versions {', '.join(found)}; "
                "keep the row of each product, or the right one"
            )
    if "files" in fix:
        fix["files"] = rows
        merged["fix"] = fix
    symptoms = merged.get("symptoms")
    if isinstance(symptoms, dict) and symptoms.get("condition") == "1 of them":
        selections: dict[str, dict[str, Any]] = {}
        first_of: dict[tuple[str, ...], str] = {}
        for name, selection in symptoms.get("selections", {}).items():
            key = _selection_key(selection)
            if key is None or key not in first_of:
                selections[name] = dict(selection)
                if key is not None:
                    first_of[key] = name
                continue
            kept = selections[first_of[key]]
            ids = list(kept["event_ids"])
            added = [i for i in selection["event_ids"] if i not in ids]
            kept["event_ids"] = ids + added
            what = "the same event" if not added else f"event {', '.join(map(str, added))}"
            notes.append(f"symptom {name}: {what}, merged into {first_of[key]}")
        merged["symptoms"] = {**symptoms, "selections": selections}
    return merged, notes
