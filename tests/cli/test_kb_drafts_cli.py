"""Drafts a reviewer can trust, as a user meets them: `kb import` writes to playbooks/drafts/,
which `audit` leaves alone unless named; `playbook lint` and `audit` name each draft; a
reviewed playbook wins over a draft of its id. The article and playbooks are our own words."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from remediate.cli.kb import merge_duplicate_rows

REMEDIATE = [sys.executable, "-m", "remediate"]
TITLE = "XCON: Message Transfer Agent Stalls When a Peer Link Resets"
# One event logged in SYMPTOMS and again in CAUSE, two IDs of one source with the same code,
# and a file the table lists twice.
ARTICLE = f"""{TITLE} (Q412345)

The information in this article applies to:

- Microsoft Exchange Server 5.5

SYMPTOMS

After a peer link resets, queued messages stay in the MTA queue and the
following events appear in the Application log:

Event Type: Error
Event Source: MSExchangeMTA
Event Category: Interface
Event ID: 9311
Description:
The association to the peer could not be reopened. Error code 7733.

Event Type: Warning
Event Source: MSExchangeMTA
Event Category: Interface
Event ID: 9312
Description:
The association to the peer could not be reopened. Error code 7733.

CAUSE

The MTA keeps the stale association open. When it retries, it logs again:

Event Type: Error
Event Source: MSExchangeMTA
Event Category: Interface
Event ID: 9311
Description:
The association to the peer could not be reopened. Error code 7733.

RESOLUTION

To resolve this problem, obtain the latest service pack for Exchange Server 5.5.
The English version of this fix has the following file attributes or later:

   Date         Time   Version      Size       File name
   --------------------------------------------------------
   02-Feb-2000  09:41  5.5.2701.3   612,112    Emsmta.exe
   02-Feb-2000  09:41  5.5.2701.3   81,920     Mtamsg.dll
   02-Feb-2000  09:41  5.5.2701.3   612,112    Emsmta.exe

STATUS

Microsoft has confirmed that this is a problem in Exchange Server 5.5. This
problem was first corrected in Exchange Server 5.5 Service Pack 4.
"""
REVIEWED = """id: Q412345
title: The MTA stalls after a peer link reset (checked)
review: done
applies_to: {products: [{version: "5.5"}]}
fix: {fixed_in: {version: "5.5", service_pack: 4}}
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*REMEDIATE, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_import_writes_a_titled_draft_without_repeats_to_playbooks_drafts(tmp_path: Path) -> None:
    (tmp_path / "Q412345.txt").write_text(ARTICLE, encoding="utf-8")
    result = run(tmp_path, "kb", "import", "Q412345.txt")
    assert result.returncode == 0, result.stderr
    draft_file = tmp_path / "playbooks" / "drafts" / "Q412345.yml"
    assert "draft written to playbooks/drafts/Q412345.yml" in result.stderr
    assert "review: required" in result.stderr
    draft = yaml.safe_load(draft_file.read_text(encoding="utf-8"))
    assert draft["title"] == TITLE and draft["review"] == "required"
    files = [row["file"] for row in draft["fix"]["files"]]
    assert sorted(files) == ["Emsmta.exe", "Mtamsg.dll"]
    ids = [i for s in draft["symptoms"]["selections"].values() for i in s["event_ids"]]
    assert sorted(ids) == [9311, 9312]
    assert len(draft["symptoms"]["selections"]) == 1  # one source, one code: one symptom


def test_audit_reads_drafts_only_when_named_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "Q412345.txt").write_text(ARTICLE, encoding="utf-8")
    assert run(tmp_path, "kb", "import", "Q412345.txt").returncode == 0
    (tmp_path / "playbooks" / "Q401234.yml").write_text(
        REVIEWED.replace("Q412345", "Q401234"), encoding="utf-8"
    )
    # A host remediate skips (local connection): the audit runs without contacting anyone.
    (tmp_path / "hosts.ini").write_text("box1 ansible_connection=local\n", encoding="utf-8")

    default = run(tmp_path, "audit", "hosts.ini", "-o", "r1", "-f", "json", "--no-history")
    assert default.returncode == 0, default.stderr
    document = json.loads((tmp_path / "r1" / "latest.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in document["playbooks"]] == ["Q401234"]
    assert "draft" not in default.stderr

    named = run(tmp_path, "audit", "hosts.ini", "-p", "playbooks", "-p", "playbooks/drafts",
                "-o", "r2", "-f", "json", "--no-history")  # fmt: skip
    assert named.returncode == 0, named.stderr
    assert "warning: playbooks/drafts/Q412345.yml: Q412345 is a draft" in named.stderr
    document = json.loads((tmp_path / "r2" / "latest.json").read_text(encoding="utf-8"))
    assert {p["id"]: p["draft"] for p in document["playbooks"]} == {
        "Q401234": False,
        "Q412345": True,
    }


def test_the_reviewed_playbook_wins_and_lint_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "Q412345.txt").write_text(ARTICLE, encoding="utf-8")
    assert run(tmp_path, "kb", "import", "Q412345.txt").returncode == 0
    (tmp_path / "playbooks" / "Q412345.yml").write_text(REVIEWED, encoding="utf-8")
    (tmp_path / "hosts.ini").write_text("box1 ansible_connection=local\n", encoding="utf-8")
    audit = run(tmp_path, "audit", "hosts.ini", "-p", "playbooks", "-p", "playbooks/drafts",
                "-o", "r", "-f", "json", "--no-history")  # fmt: skip
    assert audit.returncode == 0, audit.stderr
    note = (
        "Q412345: the reviewed playbooks/Q412345.yml is used, not the draft "
        "playbooks/drafts/Q412345.yml"
    )
    assert note in audit.stderr
    document = json.loads((tmp_path / "r" / "latest.json").read_text(encoding="utf-8"))
    assert [(p["title"], p["draft"]) for p in document["playbooks"]] == [
        ("The MTA stalls after a peer link reset (checked)", False)
    ]
    # Lint by default reads playbooks/ and its drafts/: the draft is valid and named.
    lint = run(tmp_path, "playbook", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "draft playbooks/drafts/Q412345.yml (Q412345)" in lint.stdout
    assert "2 of 2 playbooks valid" in lint.stdout
    assert "warning: playbooks/drafts/Q412345.yml: Q412345 is a draft" in lint.stderr
    assert note in lint.stderr


def test_lint_without_drafts_warns_of_nothing(tmp_path: Path) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "Q412345.yml").write_text(REVIEWED, encoding="utf-8")
    lint = run(tmp_path, "playbook", "lint")
    assert lint.returncode == 0 and "1 of 1 playbooks valid" in lint.stdout
    assert "warning" not in lint.stderr


def _draft(**changes: object) -> dict[str, object]:
    draft: dict[str, object] = {
        "id": "Q412345",
        "symptoms": {
            "selections": {
                "a_9311": {"source": ["A"], "event_ids": [9311], "codes": ["7733"]},
                "a_9312": {"source": ["A"], "event_ids": [9312], "codes": ["7733"]},
                "a_9311_2": {"source": ["A"], "event_ids": [9311], "codes": ["7733"]},
                "a_9313": {"source": ["A"], "event_ids": [9313]},
                "b_9311": {"source": ["B"], "event_ids": [9311], "codes": ["7733"]},
                "stopped": {"service": "A", "state": "stopped"},
            },
            "condition": "1 of them",
        },
        "fix": {
            "files": [
                {"file": "Emsmta.exe", "version": "5.5.2701.3", "folder": "bin"},
                {"file": "Emsmta.exe", "version": "5.5.2701.3", "folder": "bin"},
                {"file": "Mtamsg.dll", "version": "5.5.2701.3", "folder": "bin"},
                {"file": "Mtamsg.dll", "version": "5.5.2650.1", "folder": "bin"},
            ]
        },
    }
    draft.update(changes)
    return draft


def test_merge_joins_repeats_and_ids_of_one_symptom_and_names_each() -> None:
    original = _draft()
    merged, notes = merge_duplicate_rows(original)
    selections = merged["symptoms"]["selections"]
    assert list(selections) == ["a_9311", "a_9313", "b_9311", "stopped"]
    assert selections["a_9311"]["event_ids"] == [9311, 9312]
    assert [(r["file"], r["version"]) for r in merged["fix"]["files"]] == [
        ("Emsmta.exe", "5.5.2701.3"),
        ("Mtamsg.dll", "5.5.2701.3"),
        ("Mtamsg.dll", "5.5.2650.1"),  # two versions: the reviewer's call, kept and named
    ]
    assert any("Emsmta.exe: listed twice" in n for n in notes)
    assert any("unsure: fix file mtamsg.dll is listed with versions" in n for n in notes)
    assert any("a_9311_2: the same event, merged into a_9311" in n for n in notes)
    assert original["symptoms"]["selections"]["a_9311"]["event_ids"] == [9311]  # not changed


def test_merge_leaves_symptoms_alone_when_the_condition_names_them() -> None:
    symptoms = dict(_draft()["symptoms"], condition="a_9311 and a_9312")  # type: ignore[arg-type]
    merged, _ = merge_duplicate_rows(_draft(symptoms=symptoms))
    assert len(merged["symptoms"]["selections"]) == 6


def test_merge_of_a_draft_without_repeats_changes_nothing() -> None:
    draft = {"id": "Q412345", "fix": {"fixed_in": {"version": "5.5", "service_pack": 4}}}
    assert merge_duplicate_rows(draft) == (draft, [])
