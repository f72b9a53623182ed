"""`remediate history`, `history prune` and `report` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from remediate.history import History
from tests.conftest import ROOT


def test_history_report_and_prune_commands(demo_inventory: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    history = tmp_path / "history.sqlite"
    base = [sys.executable, "-m", "remediate"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)

    audited = cli(
        "audit",
        str(demo_inventory),
        "--limit",
        "ex2003-healthy.lab.local",
        "-o",
        str(tmp_path / "a"),
        "--history",
        str(history),
        "--format",
        "json",
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
    run_id = json.loads((tmp_path / "a" / "latest.json").read_text())["run_id"]
    listing = cli("history", "--history", str(history))
    assert listing.returncode == 0 and run_id in listing.stdout
    again = cli(
        "report",
        run_id,
        "--history",
        str(history),
        "-o",
        str(tmp_path / "b"),
        "--format",
        "html,json,junit,csv",
    )
    assert again.returncode == 0, again.stderr
    for extension in ("html", "json", "xml", "csv"):
        assert (tmp_path / "b" / f"audit-{run_id}.{extension}").exists()
    assert json.loads((tmp_path / "b" / "latest.json").read_text())["run_id"] == run_id
    assert cli("report", "nosuchrun", "--history", str(history)).returncode == 2
    kept = cli("history", "prune", "--keep", "1d", "--history", str(history))
    assert kept.returncode == 0 and "pruned 0 run(s)" in kept.stdout
    with History(history) as store:
        from datetime import UTC, datetime, timedelta

        assert store.prune(timedelta(days=1), datetime.now(UTC) + timedelta(days=2)) == 1
        assert store.runs() == []


def test_runs_written_with_output_are_found_and_latest_stays_the_newest(
    demo_inventory: Path, tmp_path: Path
) -> None:
    """`audit -o DIR` without --history: `history` and `report` run elsewhere find its runs;
    rendering the older run again writes beside the run's reports and leaves latest.* alone."""
    import subprocess
    import sys

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    playbooks = str(ROOT / "playbooks")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "remediate", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=elsewhere,
        )

    out = tmp_path / "out"
    ids = []
    for _ in range(2):
        audited = cli(
            "audit", str(demo_inventory), "--limit", "ex2003-healthy.lab.local", "-o", str(out),
            "--format", "json", "-p", playbooks,
        )  # fmt: skip
        assert audited.returncode == 0, audited.stdout + audited.stderr
        ids.append(json.loads((out / "latest.json").read_text())["run_id"])
    older, newer = ids
    listing = cli("history")
    assert listing.returncode == 0, listing.stderr
    assert older in listing.stdout and newer in listing.stdout
    again = cli("report", older, "--format", "json,md", "-p", playbooks)
    assert again.returncode == 0, again.stderr
    assert (out / f"audit-{older}.md").is_file()
    assert json.loads((out / "latest.json").read_text())["run_id"] == newer
    assert not (out / "latest.md").exists()
    assert "newer run" in again.stdout
    summary = (out / f"audit-{older}.md").read_text(encoding="utf-8")
    assert f"Inventory: {demo_inventory}" in summary and "Run by: " in summary
    assert "Run by: -" not in summary
    newest = cli("report", newer, "--format", "md", "-p", playbooks)
    assert newest.returncode == 0 and (out / "latest.md").is_file()


def test_no_history_hint_names_the_history_option(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = subprocess.run(
        [sys.executable, "-m", "remediate", "history"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert missing.returncode == 2
    assert "--history" in missing.stderr
