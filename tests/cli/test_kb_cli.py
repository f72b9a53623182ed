"""`remediate kb import` as a user runs it: drafts, JSON facts, refusals."""

from __future__ import annotations

from pathlib import Path

from tests.kb.test_kb import SEEDS


def test_kb_import_command_writes_a_draft_and_prints_json(tmp_path: Path) -> None:
    import json as json_module
    import subprocess
    import sys

    article = tmp_path / "article.txt"
    article.write_text((SEEDS / "002_3d94ffcb1a7b2bac.txt").read_text())
    base = [sys.executable, "-m", "remediate", "kb", "import", str(article)]
    printed = subprocess.run(
        [*base, "--format", "json"], capture_output=True, text=True, timeout=60
    )
    assert printed.returncode == 0, printed.stderr
    facts = json_module.loads(printed.stdout)
    assert facts["article"] == "Q232602" and [e["event_id"] for e in facts["events"]][:2] == [
        4284,
        4287,
    ]
    assert "unsure" in printed.stderr
    # keys added by issue 19 (nothing renamed): the article's codes, other products, Windows SPs
    assert {"codes", "other_products", "fixed_in_other"} <= facts.keys()
    assert all("product" in row for row in facts["fix_files"])
    written = subprocess.run(
        [*base, "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=60
    )
    assert written.returncode == 0, written.stderr
    assert (tmp_path / "out" / "Q232602.yml").exists()
    again = subprocess.run(
        [*base, "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2 and "exists" in again.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = subprocess.run([*base[:-1], str(empty)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_kb_import_drafts_the_resolution_procedure_as_steps(tmp_path: Path) -> None:
    """The CLI hands the article's text to the drafter: its RESOLUTION becomes steps."""
    import subprocess
    import sys

    import yaml

    sample = Path(__file__).resolve().parents[1] / "kb" / "samples" / "procedure_numbered.txt"
    out = tmp_path / "drafts"
    done = subprocess.run(
        [sys.executable, "-m", "remediate", "kb", "import", str(sample), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (written,) = out.glob("*.yml")
    steps = yaml.safe_load(written.read_text(encoding="utf-8"))["remediation"]
    kinds = [step["step"] for step in steps]
    assert set(kinds) - {"manual", "verify"}, kinds  # not the single manual step of old
    assert kinds[-1] == "verify"
