"""The command line's own pieces: the error line, the audit progress, the shared options, and
typer's help and usage errors for every command of the assembled app."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from rich.console import Console

from remediate.audit.session import AuditStart
from remediate.cli import app, console
from remediate.cli.options import duration
from remediate.errors import ConnectError, ExitCode, InputError
from remediate.rules.findings import Finding, Status
from remediate.rules.results import HostResult
from tests.conftest import ROOT

REMEDIATE = [sys.executable, "-m", "remediate"]


def test_the_error_line_shows_brackets_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(console, "errors", Console(file=out, width=40, highlight=False))
    text = "hosts.ini:3: [exchange:vars] names no group [bold]x[/bold] " + "y" * 60
    console.print_error(InputError(text, hint="fix it"))
    assert out.getvalue() == f"error: {text} (hint: fix it)\n"  # one line, nothing eaten


def test_progress_without_a_terminal_is_one_plain_line_per_host() -> None:
    out = io.StringIO()
    failed = HostResult(
        "down\x1b[31m.lab", (), error=ConnectError("connection refused", host="down")
    )
    fine = HostResult(
        "ok.lab", (Finding(host="ok.lab", playbook="KB1", status=Status.AFFECTED, reason="r"),)
    )
    with console.AuditProgress(Console(file=out, width=200)) as progress:
        progress.start(AuditStart(hosts=2, playbooks=("KB1", "Q2"), forks=5))
        progress.advance(failed)
        progress.advance(fine)
    assert out.getvalue().splitlines() == [
        "auditing 2 host(s) for 2 article(s) (KB1, Q2), 5 at a time",
        "[1/2] down.lab: no findings (unreachable: connection refused)",
        "[2/2] ok.lab: affected",
    ]


def test_durations_name_their_option() -> None:
    assert duration("--since", "12h") == timedelta(hours=12)
    with pytest.raises(InputError, match=r"^--keep: 'soon'"):
        duration("--keep", "soon")


def test_exit_codes_are_the_documented_numbers() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 130]
    assert InputError("x").exit_code is ExitCode.USAGE
    assert ConnectError("x").exit_code is ExitCode.HOST_ERRORS


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import typer.main

    click_group = typer.main.get_command(group)  # type: ignore[arg-type]
    found = []
    for name, command in click_group.commands.items():  # type: ignore[attr-defined]
        found.append((*prefix, name))
        found += [(*prefix, name, sub) for sub in getattr(command, "commands", {})]
    return found


def test_every_command_has_help_and_usage_errors_stay_typers() -> None:
    commands = _commands(app)
    assert {c[0] for c in commands} >= {
        "audit", "collect", "inventory", "plan", "approve", "apply", "journal", "report",
        "demo", "version", "lab", "playbook", "kb", "history",
    }  # fmt: skip
    assert {("lab", "up"), ("playbook", "lint"), ("playbook", "show"), ("kb", "import")} <= set(
        commands
    )
    assert ("history", "prune") in commands
    for command in commands:
        shown = subprocess.run(
            [*REMEDIATE, *command, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
        assert shown.returncode == 0 and "Usage:" in shown.stdout, (command, shown.stderr)
        # Values named in words, flags with no value, no doubled negation.
        for label in ("<bool>", "<str>", "<int>", "<path>", "<list[", "<float", "--no-no-"):
            assert label not in shown.stdout, (command, label)
    missing = subprocess.run(
        [*REMEDIATE, "audit"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert missing.returncode == ExitCode.USAGE, missing.stderr
    assert "no inventory given" in missing.stderr or "Missing argument" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_version_short_help_and_commands_in_workflow_order() -> None:
    version = subprocess.run(
        [*REMEDIATE, "--version"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert version.returncode == 0 and version.stdout.startswith("remediate ")
    short = subprocess.run(
        [*REMEDIATE, "-h"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert short.returncode == 0 and "Usage:" in short.stdout
    listed = [
        line.split()[1]
        for line in short.stdout.split("Commands")[1].splitlines()
        if line.startswith("│ ") and line[2] != " "
    ]
    assert listed[:5] == ["demo", "inventory", "audit", "report", "history"]
    assert listed.index("plan") < listed.index("apply") < listed.index("collect")
    assert listed[-1] == "version"
    sub = subprocess.run(
        [*REMEDIATE, "audit", "-h"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert sub.returncode == 0 and "--no-history" in sub.stdout


def test_the_demo_ends_by_saying_what_to_open_and_try(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime
    from pathlib import Path

    from remediate.audit.session import AuditOutcome
    from remediate.cli import lab
    from remediate.rules.results import AuditRun

    out = io.StringIO()
    monkeypatch.setattr(lab, "console", Console(file=out, width=200))
    now = datetime.now(UTC)
    host = "ex1.lab.local"
    result = HostResult(host, (Finding(host, "KB840469", Status.MISSING_FIX, "old file"),))
    folder = Path(str(tmp_path))
    reports = (folder / "audit-r1.html", folder / "audit-r1.md")
    outcome = AuditOutcome(AuditRun("r1", now, (), now, results=[result]), reports, None)
    lab.print_next_steps(lab.DemoOutcome(outcome, folder / "hosts.ini", 0, 1), folder)
    text = out.getvalue()
    assert (folder / "latest.html").resolve().as_uri() in text
    assert str(folder / "latest.md") in text
    assert "remediate history" in text
    assert "--playbook KB840469 --limit ex1.lab.local --key ~/.ssh/id_ed25519" in text
