"""`copy_from` of run steps: planned with the file's SHA-256, sent in put_file chunks (or copied
by the host from a share), checked on the host before it runs; a file changed after planning,
a corrupted or short copy, and a missing source are refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.lab.answers.step import history, written_files
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.probes.step import (
    PUT_CHUNK,
    build_step_script,
    parse_step_result,
    put_file_requests,
)
from remediate.remediation.apply import ApplyOptions, apply_plan
from remediate.remediation.journal import Journal, journal_path
from remediate.remediation.plan import load_plan, save_plan
from remediate.remediation.planning import make_plan
from remediate.remediation.steps import StepError, plan_steps
from remediate.rules.playbook import PlaybookError, parse_playbook
from tests.conftest import lab_winrm
from tests.remediation.conftest import sign_and_approve
from tests.remediation.test_apply import (
    EX2000,
    INSTALLER,
    PLAYBOOK,
    connect,
    own_lab,
    with_installer,
)
from tests.remediation.test_plan import evidence

PROGRAM = "C:\\Program Files\\Exchsrvr\\bin\\Smtpreinstall.exe"
SHARE = "\\\\files\\exchange\\sp3\\Smtpreinstall.exe"
SHARED = "Smtpreinstall.exe as the share holds it\r\n"

FLEET = f"""
address_base: 127.29.2.1
hosts:
  - name: copy2003.lab.local
    exchange: {{product: Microsoft Exchange 2000 Server, version: "6.0", build: 6.0.6249.0,
               service_pack: 3}}
    shares: [{{path: '{SHARE}', content: "{SHARED.strip()}\\r\\n"}}]
"""


def steps_for(host_vars: dict[str, str]):  # type: ignore[no-untyped-def]
    return plan_steps(PLAYBOOK, evidence("5.2.3790", "6.0"), host_vars)


# -- planning ----------------------------------------------------------------------------------


def test_the_plan_carries_the_copy_and_its_hash(tmp_path: Path) -> None:
    installer = tmp_path / "Smtpreinstall.exe"
    installer.write_bytes(INSTALLER)
    run = steps_for({"smtpreinstall_source": str(installer)})[4]
    assert run.kind == "run" and run.copy_file is not None
    sha256 = hashlib.sha256(INSTALLER).hexdigest()
    assert (run.copy_file.origin, run.copy_file.size, run.copy_file.sha256) == (
        "controller",
        len(INSTALLER),
        sha256,
    )
    assert run.copy_file.destination == PROGRAM
    assert run.arguments is not None
    assert run.arguments["copy"] == {
        "from": "",
        "staged": PROGRAM + ".remediate-copy",
        "sha256": sha256,
    }
    for shown in (str(installer), f"{len(INSTALLER)} bytes", sha256, PROGRAM):
        assert shown in run.display


def test_without_its_variable_the_copy_is_the_operators(tmp_path: Path) -> None:
    run = steps_for({})[4]
    assert run.kind == "manual" and "smtpreinstall_source" in (run.instruction or "")


def test_a_missing_copy_from_file_is_a_plan_error_with_file_line_and_step(tmp_path: Path) -> None:
    with pytest.raises(StepError) as caught:
        steps_for({"smtpreinstall_source": str(tmp_path / "nowhere.exe")})
    message = str(caught.value)
    assert "KB840469.yml:" in message and "no such file on the controller" in message
    line = int(message.split("KB840469.yml:", 1)[1].split(":", 1)[0])
    source = Path(PLAYBOOK.source or "").read_text().splitlines()
    assert source[line - 1].strip() == "- step: run"
    assert "Run Smtpreinstall.exe (Exchange 2000)" in message


def test_a_relative_copy_from_is_read_beside_the_playbook(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "fix.exe").write_bytes(b"fix")
    text = """
id: KB999999
title: t
applies_to: {products: [{version: "6.0"}]}
fix: {requires: [{service: X}]}
remediation:
  - step: run
    program: 'C:\\tools\\fix.exe'
    copy_from: files/fix.exe
"""
    playbook = parse_playbook(text, str(tmp_path / "KB999999.yml"))
    run = plan_steps(playbook, evidence("5.2.3790", "6.0"), {})[0]
    assert run.copy_file is not None
    assert run.copy_file.source == str(tmp_path / "files" / "fix.exe")
    assert run.copy_file.sha256 == hashlib.sha256(b"fix").hexdigest()


def test_a_share_needs_its_hash_and_copy_from_belongs_to_run_steps(tmp_path: Path) -> None:
    with pytest.raises(StepError, match="give its copy_sha256"):
        steps_for({"smtpreinstall_source": SHARE})
    pinned = hashlib.sha256(SHARED.encode()).hexdigest()
    run = steps_for({"smtpreinstall_source": SHARE, "smtpreinstall_sha256": pinned})[4]
    assert run.copy_file is not None and run.copy_file.origin == "share"
    assert run.arguments is not None and run.arguments["copy"]["from"] == SHARE
    assert "the host copies \\\\files" in run.display
    text = """
id: KB999999
title: t
applies_to: {products: [{version: "6.0"}]}
fix: {requires: [{service: X}]}
remediation:
  - step: service
    service: X
    copy_from: x.exe
"""
    with pytest.raises(PlaybookError, match=r"KB999999.yml:7: .*copy_from is read by run steps"):
        parse_playbook(text, "KB999999.yml")


# -- on a host ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Lab:
    with Lab(parse_fleet(FLEET, "copy.yml"), port_mode="ephemeral") as running:
        yield running  # type: ignore[misc]


def send(lab: Lab, arguments: dict[str, object]):  # type: ignore[no-untyped-def]
    link = lab_winrm(lab, "copy2003.lab.local")
    try:
        result = link.run(build_step_script(arguments, "powershell"), "powershell")
    finally:
        link.close()
    return parse_step_result(result.stdout)


def run_copied(lab: Lab, content: bytes, sha256: str, source: str = ""):  # type: ignore[no-untyped-def]
    staged = PROGRAM + ".remediate-copy"
    if not source:
        for request in put_file_requests(staged, content):
            assert send(lab, request).status == "ok"
    copy = {"from": source, "staged": staged, "sha256": sha256}
    return send(lab, {"action": "run", "program": PROGRAM, "arguments": [], "copy": copy})


def test_put_file_chunks_then_the_checked_copy_runs(lab: Lab) -> None:
    content = bytes(range(256)) * 500  # 128,000 bytes: three chunks
    assert len(put_file_requests("x", content)) == -(-len(content) // PUT_CHUNK) == 3
    ran = run_copied(lab, content, hashlib.sha256(content).hexdigest())
    assert (ran.status, ran.exit_code) == ("ok", 0), ran
    assert written_files("copy2003.lab.local")[PROGRAM.lower()] == content
    assert "run Smtpreinstall.exe" in history("copy2003.lab.local")


def test_a_short_or_corrupted_copy_is_not_run(lab: Lab) -> None:
    content = b"A" * 100_000
    wanted = hashlib.sha256(content).hexdigest()
    runs = history("copy2003.lab.local").count("run Smtpreinstall.exe")
    short = run_copied(lab, content[:-1], wanted)
    assert short.status == "failed" and f"not the planned {wanted}: it was not run" in short.message
    corrupted = run_copied(lab, b"B" + content[1:], wanted)
    assert corrupted.status == "failed" and "it was not run" in corrupted.message
    assert history("copy2003.lab.local").count("run Smtpreinstall.exe") == runs
    staged = (PROGRAM + ".remediate-copy").lower()
    assert staged not in written_files("copy2003.lab.local")  # removed, never left to run
    # A chunk out of order fails at once: the file never gets a hole.
    first, second, _ = put_file_requests("C:\\x.bin", b"z" * (2 * PUT_CHUNK + 1))
    assert send(lab, first).status == "ok"
    skipped = send(lab, {**second, "offset": 2 * PUT_CHUNK})
    assert skipped.status == "failed" and "a chunk is missing" in skipped.message


def test_a_share_copy_is_made_by_the_host_and_checked(lab: Lab) -> None:
    good = run_copied(lab, b"", hashlib.sha256(SHARED.encode()).hexdigest(), source=SHARE)
    assert good.status == "ok", good
    assert written_files("copy2003.lab.local")[PROGRAM.lower()] == SHARED.encode()
    wrong = run_copied(lab, b"", "0" * 64, source=SHARE)
    assert wrong.status == "failed" and "it was not run" in wrong.message
    nowhere = run_copied(lab, b"", "0" * 64, source="\\\\files\\gone\\x.exe")
    assert (nowhere.status, nowhere.exit_code) == ("failed", 53)


# -- plan, approve, apply: KB840469 on the Exchange 2000 lab host ----------------------------


def test_kb840469_copies_smtpreinstall_then_runs_it_and_refuses_a_tampered_file(
    tmp_path: Path,
) -> None:
    with own_lab([EX2000], 40) as lab:
        inventory = with_installer(write_inventory(lab, tmp_path / "hosts.ini"))
        installer = inventory.with_name("Smtpreinstall.exe")
        plan = make_plan(
            inventory, PLAYBOOK, EX2000, "alice", connect(inventory), datetime.now(UTC)
        )
        path = sign_and_approve(save_plan(plan, tmp_path / "plan.json"))
        said: list[str] = []
        checked = apply_plan(
            path,
            load_plan(path),
            PLAYBOOK,
            ApplyOptions(check=True),
            connect(inventory),
            said.append,
        )
        assert checked[0].status == "checked"
        copy_line = next(line for line in said if "[run]" in line)
        assert str(installer) in copy_line and hashlib.sha256(INSTALLER).hexdigest() in copy_line
        assert any("as planned (size and sha256 match)" in line for line in said)

        # Tampered after approval: refused before anything is sent.
        installer.write_bytes(INSTALLER + b"!")
        earlier = len(history(EX2000))
        tampered = apply_plan(
            path,
            load_plan(path),
            PLAYBOOK,
            ApplyOptions(confirm_manual=True, reboot_timeout=60),
            connect(inventory),
        )
        assert tampered[0].status == "failed"
        assert "changed since the plan was made" in tampered[0].message
        assert not any(r.arguments.get("action") == "put_file" for r in lab.host(EX2000).received)
        assert "run Smtpreinstall.exe" not in history(EX2000)[earlier:]

        # The approved content again: copied in chunks, checked, run; the MTA starts.
        installer.write_bytes(INSTALLER)
        done = apply_plan(
            path,
            load_plan(path),
            PLAYBOOK,
            ApplyOptions(resume=True, confirm_manual=True, reboot_timeout=60),
            connect(inventory),
        )
        assert done[0].status == "done", done
        chunks = [r for r in lab.host(EX2000).received if r.arguments.get("action") == "put_file"]
        assert len(chunks) == -(-len(INSTALLER) // PUT_CHUNK)
        assert written_files(EX2000)[PROGRAM.lower()] == INSTALLER
        assert "run Smtpreinstall.exe" in history(EX2000)[earlier:]
        events = Journal(journal_path(path)).entries()
        assert any("nothing was copied or run" in str(e.data) for e in events)
        assert lab.open_shells() == 0
