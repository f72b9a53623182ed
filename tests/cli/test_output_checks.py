"""Where results go, as a user meets it (issue 15, "No traceback, nothing lost"): a destination
that cannot be written is refused before any host is contacted (exit 2, the path named); a disk
that fills during the audit costs no result (exit 4, the run document in a fallback file whose
path is printed); empty waivers files and playbook folders get a clear answer.

The faults are real ones: a path under a regular file, /proc, /sys, /dev/full, and tmpfs
mounts that are read-only or full (those need root to mount, as the test machine has; they
are skipped elsewhere). Root ignores permission bits, so an unwritable folder is made that way.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from tests.conftest import PLAYBOOKS, ROOT

REMEDIATE = [sys.executable, "-m", "remediate"]
HEALTHY = "ex2003.lab.local"
SLOW = "slowprobe.lab.local"  # answers after 1.5 s: time to fill a disk while it works


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REMEDIATE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def requests(lab: Lab) -> int:
    return sum(lab.counters(name)["requests"] for name in lab.hosts)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "1m", readonly: bool = False) -> Iterator[Path]:
    """A small tmpfs mounted at `path` (skips the test where mounting is not allowed)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if readonly else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace')}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(folder: Path) -> None:
    """Write zeros into `folder` until its filesystem says it is full."""
    descriptor = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(descriptor)


@pytest.fixture(scope="module")
def inventory(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_inventory(lab, tmp_path_factory.mktemp("small") / "hosts.ini")


def audit(inventory: Path, *args: str, limit: str = HEALTHY, **kw: object):  # type: ignore[no-untyped-def]
    return run_cli(
        "audit",
        str(inventory),
        "--limit",
        limit,
        "--playbooks",
        str(PLAYBOOKS),
        "--timeout",
        "20",
        *args,
        **kw,  # type: ignore[arg-type]
    )


def assert_refused(result: subprocess.CompletedProcess[str], named: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert named in result.stderr, result.stderr


# -- the report folder, before any host ----------------------------------------------------


def test_output_under_a_regular_file_is_refused_before_any_host(
    lab: Lab, inventory: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    before = requests(lab)
    result = audit(inventory, "-o", str(blocker / "reports"))
    assert_refused(result, str(blocker / "reports"))
    assert requests(lab) == before  # no host was asked


@pytest.mark.parametrize(
    "output",
    ["/proc/remediate-reports", "/sys/remediate-reports", "/dev/full", "/dev/null/reports"],
)
def test_output_on_special_filesystems_is_refused_before_any_host(
    lab: Lab, inventory: Path, output: str
) -> None:
    before = requests(lab)
    result = audit(inventory, "-o", output)
    assert_refused(result, output)
    assert requests(lab) == before
    assert not Path(output).is_dir()


def test_output_on_a_read_only_filesystem_is_refused(
    lab: Lab, inventory: Path, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "ro", readonly=True) as mount:
        before = requests(lab)
        result = audit(inventory, "-o", str(mount / "reports"))
        assert_refused(result, str(mount / "reports"))
        assert "Read-only file system" in result.stderr
        assert requests(lab) == before


def test_output_on_a_full_disk_is_refused(lab: Lab, inventory: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", size="256k") as mount:
        (mount / "reports").mkdir()
        fill(mount)
        before = requests(lab)
        result = audit(inventory, "-o", str(mount / "reports"), "--no-history")
        assert_refused(result, str(mount / "reports"))
        assert "No space left on device" in result.stderr
        assert requests(lab) == before
        assert [p.name for p in (mount / "reports").iterdir()] == []  # the probe went too


def test_history_that_cannot_be_opened_is_refused_before_any_host(
    lab: Lab, inventory: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    foreign = tmp_path / "other.sqlite"
    with contextlib.closing(sqlite3.connect(foreign)) as db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.commit()
    folder = tmp_path / "a-folder"
    folder.mkdir()
    before = requests(lab)
    for history in (blocker / "history.sqlite", foreign, folder, Path("/dev/full")):
        result = audit(inventory, "-o", str(tmp_path / "reports"), "--history", str(history))
        assert_refused(result, str(history))
    assert requests(lab) == before


# -- a disk that fills during the audit: nothing lost ----------------------------------------


def audit_while_the_disk_fills(
    lab: Lab, inventory: Path, mount: Path, env: dict[str, str], cwd: Path = ROOT
) -> tuple[int, str, str]:
    """`audit` with its reports on `mount`, which fills once the first host is asked."""
    command = [
        *REMEDIATE,
        "audit",
        str(inventory),
        "--limit",
        f"{HEALTHY}:{SLOW}",
        "--playbooks",
        str(PLAYBOOKS),
        "-o",
        str(mount / "reports"),
        "--timeout",
        "20",
    ]
    before = requests(lab)
    with subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    ) as process:
        # The checks passed once a host is asked; fill the disk while the slow one works.
        deadline = time.monotonic() + 60
        while requests(lab) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert requests(lab) > before
        fill(mount)
        out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def assert_whole_run(document: dict) -> None:  # type: ignore[type-arg]
    assert document["schema"] == "remediate.audit/1"
    assert sorted(h["name"] for h in document["hosts"]) == sorted([HEALTHY, SLOW])
    assert all(h["findings"] for h in document["hosts"])


def test_disk_full_after_the_audit_saves_the_run_to_a_fallback_file(
    lab: Lab, inventory: Path, tmp_path: Path
) -> None:
    fallback_dir = tmp_path / "tmp"
    fallback_dir.mkdir()
    with tmpfs(tmp_path / "disk", size="1m") as mount:
        code, out, err = audit_while_the_disk_fills(
            lab, inventory, mount, {"TMPDIR": str(fallback_dir)}
        )
    assert code == 4, out + err
    assert "Traceback" not in out + err
    assert "No space left on device" in err and "history" in err
    saved = re.search(r"saved to (\S+\.json)", err)
    assert saved is not None, err
    path = Path(saved.group(1))
    assert path.parent == fallback_dir and path.name.startswith("remediate-run-")
    assert_whole_run(json.loads(path.read_text(encoding="utf-8")))
    assert "the audit itself would have exited" in err


# -- empty waivers files ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "# no waivers yet\n", "null\n", "[]\n", "{}\n", "waivers:\n", "waivers: []\n", "\t\n"],
)
def test_an_empty_waivers_file_means_no_waivers(inventory: Path, tmp_path: Path, text: str) -> None:
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(text)
    result = audit(inventory, "-o", str(tmp_path / "r"), "--no-history", "--waivers", str(waivers))
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode in (0, 1, 3), result.stdout + result.stderr


@pytest.mark.parametrize("text", ["[1, 2]\n", "just words\n", "- hosts: x\n"])
def test_a_waivers_file_that_is_no_mapping_is_a_clear_error(
    lab: Lab, inventory: Path, tmp_path: Path, text: str
) -> None:
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(text)
    before = requests(lab)
    result = audit(inventory, "-o", str(tmp_path / "r"), "--no-history", "--waivers", str(waivers))
    assert_refused(result, str(waivers))
    assert "`waivers:` list" in result.stderr
    assert requests(lab) == before


# -- empty playbook folders --------------------------------------------------------------------


@pytest.fixture
def empty_folders(tmp_path: Path) -> tuple[Path, Path]:
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "README.txt").write_text("playbooks go here\n")
    return empty, notes


def test_playbook_lint_on_a_folder_without_playbooks_exits_2(
    empty_folders: tuple[Path, Path],
) -> None:
    for folder in empty_folders:
        result = run_cli("playbook", "lint", str(folder))
        assert_refused(result, f"no playbooks in {folder}")


def test_commands_name_the_empty_playbook_folder(
    lab: Lab, inventory: Path, tmp_path: Path, empty_folders: tuple[Path, Path]
) -> None:
    empty, _ = empty_folders
    before = requests(lab)
    output = str(tmp_path / "r")
    results = [
        run_cli("audit", str(inventory), "-p", str(empty), "-o", output),
        run_cli("audit", str(inventory), "-p", str(PLAYBOOKS), "-p", str(empty), "-o", output),
        run_cli("collect", str(inventory), "-p", str(empty)),
        run_cli("plan", str(inventory), "--playbook", "KB840469", "--playbooks", str(empty)),
    ]
    for result in results:
        assert_refused(result, f"no playbooks in {empty}")
    assert requests(lab) == before


# -- the other commands that write -------------------------------------------------------------


def test_plan_output_is_checked_before_any_host(lab: Lab, inventory: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    before = requests(lab)
    for output in (blocker / "plan.json", tmp_path, Path("/dev/full"), Path("/proc/plan.json")):
        result = run_cli(
            "plan",
            str(inventory),
            "--playbook",
            "KB840469",
            "--playbooks",
            str(PLAYBOOKS),
            "--limit",
            HEALTHY,
            "-o",
            str(output),
        )
        assert_refused(result, str(output))
    assert requests(lab) == before


def test_report_demo_and_kb_import_check_their_output_first(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    output = blocker / "out"
    history = tmp_path / "history.sqlite"
    with contextlib.closing(sqlite3.connect(history)):
        pass  # an empty database: `report` opens it, then must not get as far as rendering
    article = tmp_path / "KB123456.txt"
    article.write_text("Event ID 9646\nMicrosoft Exchange Server 2003\n")
    results = [
        run_cli("report", "x", "--history", str(history), "-o", str(output)),
        run_cli("demo", "-o", str(output)),
        run_cli("kb", "import", str(article), "-o", str(output)),
    ]
    for result in results:
        assert_refused(result, str(output))
    assert not blocker.is_dir()
