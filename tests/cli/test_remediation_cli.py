"""`remediate plan|approve|apply|journal` as users run them, each as its own account
(moved from tests/remediation/test_apply.py, which tests planning and applying themselves)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from remediate.remediation.plan import Plan
from tests.conftest import ROOT
from tests.remediation.conftest import signing_keys
from tests.remediation.test_apply import EX2003, own_lab


def cli(*arguments: str, user: str) -> subprocess.CompletedProcess[str]:
    import os

    environ = {**os.environ, "USER": user, "LOGNAME": user, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "remediate", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environ,
    )


def test_the_cli_flow_plan_approve_check_and_refusals(tmp_path: Path) -> None:
    from remediate.lab.inventory_writer import write_inventory

    keys = signing_keys()
    trust = ["--approvers", str(keys.allowed_signers)]
    with own_lab([EX2003], 12) as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        path = tmp_path / "kb.plan.json"
        made = cli(
            "plan", str(inventory), "--playbook", "kb840469", "-o", str(path),
            "--key", str(keys.private("alice")), *trust, user="alice",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert "sysocmgr.exe" in made.stdout and "1 host(s) to remediate" in made.stdout
        assert "signed by alice (SHA256:" in made.stdout
        # The planner's key cannot approve, whatever the environment says.
        self_approved = cli(
            "approve", str(path), "--key", str(keys.private("alice")), "--by", "bob", *trust,
            user="bob",
        )  # fmt: skip
        assert self_approved.returncode == 2 and "four-eyes" in self_approved.stderr
        outsider = cli("approve", str(path), "--key", str(keys.private("mallory")), *trust,
                       user="bob")  # fmt: skip
        assert outsider.returncode == 2, outsider.stderr
        assert "nobody" in outsider.stderr or "does not allow" in outsider.stderr
        unapproved = cli("apply", str(path), "--yes", *trust, user="carol")
        assert unapproved.returncode == 2 and "needs 1 approval(s)" in unapproved.stderr
        approved = cli(
            "approve", str(path), "--key", str(keys.private("bob")), "--comment", "CHG0042",
            *trust, user="bob",
        )  # fmt: skip
        assert approved.returncode == 0, approved.stderr
        assert "approved by bob (SHA256:" in approved.stdout
        checked = cli("apply", str(path), "--check", "--yes", *trust, user="carol")
        assert checked.returncode == 0, checked.stderr
        first = checked.stdout.splitlines()[:2]
        assert first[0].startswith("verified: signed by planner alice (SHA256:"), first
        assert first[1].startswith("verified: approved by bob (SHA256:") and "CHG0042" in first[1]
        assert "would run step 1 [windows_component]" in checked.stdout
        two = cli("apply", str(path), "--check", "--yes", "--approvals", "2", *trust, user="carol")
        assert two.returncode == 2 and "NOT VERIFIED" in two.stdout
        assert "needs 2 approval(s)" in two.stdout + two.stderr
        assert "would run step 1" in two.stdout  # --check still shows what would run
        assert lab.host(EX2003).received[-1].name == "collect"  # nothing but audits ran

        # An attacker with write access: a changed step, both hashes recomputed.
        data = json.loads(path.read_text())
        arguments = data["hosts"][0]["steps"][0]["arguments"]
        arguments["unattend"] = arguments["unattend"].replace("iis_smtp", "iis_www")
        data["hash"] = Plan.model_validate(data).content_hash()
        statement = json.loads(data["approvals"][0]["statement"])
        statement["plan"] = data["hash"]
        data["approvals"][0]["statement"] = json.dumps(statement)
        tampered = tmp_path / "tampered.plan.json"
        tampered.write_text(json.dumps(data))
        refused = cli("apply", str(tampered), "--yes", *trust, user="carol")
        assert refused.returncode == 2
        assert "the planner's signature: the signature does not match" in refused.stderr
        # The approval's expiry moved to 2099.
        data = json.loads(path.read_text())
        statement = json.loads(data["approvals"][0]["statement"])
        statement["expires"] = "2099-01-01T00:00:00Z"
        data["approvals"][0]["statement"] = json.dumps(statement)
        tampered.write_text(json.dumps(data))
        refused = cli("apply", str(tampered), "--yes", *trust, user="carol")
        assert refused.returncode == 2
        assert "approval 1 (by 'bob'): the signature does not match" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not any(r.name == "step" for r in lab.host(EX2003).received)
        shown = cli("journal", str(path), user="carol")
        assert shown.returncode == 0 and "no journal" in shown.stdout


def test_an_old_unsigned_plan_is_refused_with_the_way_to_re_plan(tmp_path: Path) -> None:
    old = tmp_path / "old.plan.json"
    old.write_text(
        json.dumps(
            {
                "format": "remediate.plan/1",
                "playbook": "KB840469",
                "hash": "0" * 64,
                "approval": {"by": "bob", "hash": "0" * 64, "expires": "2099-01-01T00:00:00Z"},
            }
        )
    )
    keys = signing_keys()
    for command in (
        ["apply", str(old), "--yes", "--approvers", str(keys.allowed_signers)],
        ["apply", str(old), "--check", "--approvers", str(keys.allowed_signers)],
        ["approve", str(old), "--key", str(keys.private("bob"))],
    ):
        refused = cli(*command, user="carol")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "an unsigned plan (remediate.plan/1)" in refused.stderr
        assert "remediate plan INVENTORY --playbook ID --key" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_bad_keys_and_allowed_signers_are_clear_errors(tmp_path: Path) -> None:
    keys = signing_keys()
    broken = tmp_path / "allowed_signers"
    broken.write_text(f"bob {keys.public_line('bob')}\nalice namespaces=x ssh-ed25519 AAAA\n")
    garbage = tmp_path / "key"
    garbage.write_text("not a key\n")
    for command, error in [
        (["apply", "nowhere.json", "--approvers", str(broken)], "not a plan file|cannot read"),
        (["plan", "inventory/lab/demo.yml", "--playbook", "KB840469", "--key", str(garbage)],
         "not a private key we can use"),
        (["plan", "inventory/lab/demo.yml", "--playbook", "KB840469", "--key",
          str(keys.private("alice")), "--approvers", str(broken)],
         f"{broken}:2: namespaces needs a quoted value"),
    ]:  # fmt: skip
        refused = cli(*command, user="carol")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert re.search(error, refused.stderr), refused.stderr
        assert "Traceback" not in refused.stderr
        assert "PRIVATE KEY" not in refused.stdout + refused.stderr


def test_hosts_that_cannot_be_audited_are_named_and_left_out(
    demo_inventory: Path, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    limit = "ex2003-down.lab.local:ex2003-wrongpass.lab.local"
    made = cli(
        "plan",
        str(demo_inventory),
        "--playbook",
        "KB840469",
        "-l",
        limit,
        "-o",
        str(path),
        "--key",
        str(signing_keys().private("alice")),
        "--signer",
        "alice",
        user="alice",
    )
    assert made.returncode == 3, made.stdout + made.stderr
    assert "not audited, not planned: ex2003-down.lab.local: unreachable" in made.stdout
    assert "not audited, not planned: ex2003-wrongpass.lab.local: authentication" in made.stdout
    from remediate.remediation.plan import load_plan

    plan = load_plan(path)
    assert plan.hosts == []
    assert {h.host for h in plan.not_audited} == {
        "ex2003-down.lab.local",
        "ex2003-wrongpass.lab.local",
    }
    assert "Lab-Passw0rd" not in path.read_text() + made.stdout + made.stderr
