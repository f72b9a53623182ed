"""Drafts next to reviewed playbooks: which one `load_playbook_set` uses, and what it says.

The playbooks here are our own (made-up article numbers and builds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediate.rules.playbook import (
    PlaybookError,
    load_playbook_set,
    load_playbooks,
    parse_playbook,
    playbook_files,
)


def playbook_text(ident: str, title: str, review: str | None = None) -> str:
    """A small valid playbook; `review` as a draft (required) or a reviewed one writes it."""
    lines = [f"id: {ident}", f"title: {title}"]
    if review is not None:
        lines.append(f"review: {review}")
    lines += [
        "applies_to:",
        "  products:",
        '    - {version: "5.5"}',
        "fix:",
        "  files:",
        "    - {file: Peerlink.dll, version: 5.5.2701.3, folder: bin}",
    ]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_is_draft_only_for_review_required() -> None:
    assert parse_playbook(playbook_text("Q412345", "t", "required"), "a.yml").is_draft
    assert not parse_playbook(playbook_text("Q412345", "t", "done"), "a.yml").is_draft
    assert not parse_playbook(playbook_text("Q412345", "t"), "a.yml").is_draft


def test_a_folder_does_not_read_its_drafts_subfolder(tmp_path: Path) -> None:
    """`audit` reads playbooks/ by default; drafts/ below it stays out unless named."""
    reviewed = write(tmp_path / "playbooks" / "Q412345.yml", playbook_text("Q412345", "kept"))
    write(
        tmp_path / "playbooks" / "drafts" / "Q498765.yml", playbook_text("Q498765", "d", "required")
    )
    assert playbook_files([tmp_path / "playbooks"]) == [reviewed]
    loaded = load_playbook_set([tmp_path / "playbooks"])
    assert [p.id for p in loaded.playbooks] == ["Q412345"] and loaded.notes == ()


@pytest.mark.parametrize("draft_first", [True, False])
def test_the_reviewed_playbook_wins_with_a_note_naming_both(
    tmp_path: Path, draft_first: bool
) -> None:
    reviewed = write(tmp_path / "playbooks" / "Q412345.yml", playbook_text("Q412345", "checked"))
    draft = write(
        tmp_path / "playbooks" / "drafts" / "Q412345.yml",
        playbook_text("Q412345", "imported", "required"),
    )
    folders = [reviewed.parent, draft.parent]
    loaded = load_playbook_set(folders[::-1] if draft_first else folders)
    assert [p.title for p in loaded.playbooks] == ["checked"]
    (note,) = loaded.notes
    assert str(reviewed) in note and str(draft) in note and "reviewed" in note
    assert [p.title for p in load_playbooks(folders)] == ["checked"]


def test_a_draft_in_use_is_noted_with_its_file(tmp_path: Path) -> None:
    draft = write(tmp_path / "Q498765.yml", playbook_text("Q498765", "imported", "required"))
    write(tmp_path / "Q412345.yml", playbook_text("Q412345", "checked", "done"))
    loaded = load_playbook_set([tmp_path])
    assert [p.id for p in loaded.playbooks] == ["Q412345", "Q498765"]
    (note,) = loaded.notes
    assert note.startswith(f"{draft}: Q498765 is a draft") and "review: done" in note


@pytest.mark.parametrize("review", ["required", None])
def test_two_of_a_kind_with_one_id_are_still_an_error(tmp_path: Path, review: str | None) -> None:
    first = write(tmp_path / "a" / "Q412345.yml", playbook_text("Q412345", "one", review))
    write(tmp_path / "b" / "Q412345.yml", playbook_text("Q412345", "two", review))
    with pytest.raises(PlaybookError, match=f"already used by {first}"):
        load_playbook_set([tmp_path / "a", tmp_path / "b"])


def test_a_second_draft_behind_a_reviewed_one_is_set_aside_too(tmp_path: Path) -> None:
    write(tmp_path / "a" / "Q412345.yml", playbook_text("Q412345", "checked"))
    write(tmp_path / "b" / "Q412345.yml", playbook_text("Q412345", "d1", "required"))
    write(tmp_path / "c" / "Q412345.yml", playbook_text("Q412345", "d2", "required"))
    loaded = load_playbook_set([tmp_path / "a", tmp_path / "b", tmp_path / "c"])
    assert [p.title for p in loaded.playbooks] == ["checked"] and len(loaded.notes) == 2
