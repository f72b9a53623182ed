"""The inventory options as users type them, on a real Ansible tree and a lab (issue 14).

`-i` (repeatable, with or without the INVENTORY argument), the default from ANSIBLE_INVENTORY
or ansible.cfg, vault passwords from a file, --list-hosts, a stale pattern's warning, a host
without a user next to good ones, and `localhost` skipped: through `python -m remediate`, each
in a folder of its own with a clean environment (no ansible.cfg or password from the machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.lab.server import Lab
from tests.audit.ansible_tree import (
    HEALTHY,
    LOCAL,
    NEEDS_FIX,
    NO_USER,
    VAULT_PASSWORD,
    tree_lab,
    write_tree,
)
from tests.conftest import PASSWORD, PLAYBOOKS

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with tree_lab(11) as running:
        yield running


@pytest.fixture
def root(lab: Lab, tmp_path: Path) -> Path:
    """The administrator's folder: inventories/prod and vault-pass.txt, no ansible.cfg yet."""
    write_tree(lab, tmp_path)
    (tmp_path / "home").mkdir()
    return tmp_path


def run(root: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """`remediate ARGS` run in `root`, with HOME there and no Ansible or password variables."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "REMEDIATE_PASSWORD"))
    }
    clean.update(HOME=str(root / "home"), COLUMNS="200", **environ)
    return subprocess.run(
        [sys.executable, "-m", "remediate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env=clean,
    )


AUDIT = ("audit", "--playbooks", str(PLAYBOOKS), "-o", "reports", "--timeout", "20")
VAULT = ("--vault-password-file", "vault-pass.txt")


def lines_of(output: str) -> str:
    return " ".join(output.split())


# --- the run: a host without a user, localhost, a templated vaulted password ----------------


def test_an_ansible_tree_is_audited_and_a_host_without_user_is_its_own_error(root: Path) -> None:
    result = run(root, *AUDIT, "-i", "inventories/prod", *VAULT, "-f", "json,junit")
    assert result.returncode == 1, result.stdout + result.stderr  # NEEDS_FIX needs its fix
    assert "Traceback" not in result.stderr
    out = lines_of(result.stdout)
    assert f"{NO_USER}: configuration: no user name" in out
    assert f"skipped: {LOCAL}: ansible_connection='local'" in out
    document = json.loads((root / "reports" / "latest.json").read_text())
    hosts = {host["name"]: host for host in document["hosts"]}
    assert hosts[HEALTHY]["error"] is None and hosts[NEEDS_FIX]["error"] is None
    assert hosts[NO_USER]["error"]["kind"] == "configuration"
    assert {f["status"] for f in hosts[LOCAL]["findings"]} == {"not_applicable"}
    assert {f["error_kind"] for f in hosts[LOCAL]["findings"]} == {"skipped"}
    assert (root / "reports" / "remediate.retry").read_text().split() == [NO_USER]
    for report in (root / "reports").iterdir():
        if report.is_file() and report.suffix in (".json", ".xml"):
            assert PASSWORD not in report.read_text(errors="replace"), report


def test_exit_code_three_for_the_configuration_error_and_zero_with_only_a_skip(
    root: Path,
) -> None:
    errors = run(root, *AUDIT, "inventories/prod", *VAULT, "-l", f"{HEALTHY}:{NO_USER}")
    assert errors.returncode == 3, errors.stdout + errors.stderr
    skipped = run(root, *AUDIT, "inventories/prod", *VAULT, "-l", f"{HEALTHY}:{LOCAL}")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert f"skipped: {LOCAL}" in skipped.stdout


def test_a_stale_pattern_warns_in_yellow_on_stderr_and_the_rest_is_audited(root: Path) -> None:
    (root / "old.retry").write_text(f"{HEALTHY}\nretired01.lab.local\n")
    result = run(root, *AUDIT, "inventories/prod", *VAULT, "--limit", "@old.retry")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "warning: Could not match supplied host pattern, ignoring: retired01.lab.local"
        in result.stderr
    )
    gone = run(root, *AUDIT, "inventories/prod", *VAULT, "--limit", "retired01:retired02")
    assert gone.returncode == 2 and "selects no host" in gone.stderr
    assert "'retired01', 'retired02'" in gone.stderr


def test_collect_reports_the_configuration_error_and_the_skip_per_host(root: Path) -> None:
    result = run(
        root, "collect", "-i", "inventories/prod", *VAULT, "--json", "--playbooks",
        str(PLAYBOOKS), "-l", f"{HEALTHY}:{NO_USER}:{LOCAL}",
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    documents = {doc["host"]: doc for doc in map(json.loads, result.stdout.splitlines())}
    assert "evidence" in documents[HEALTHY]
    assert documents[NO_USER]["error"]["kind"] == "configuration"
    assert documents[LOCAL]["skipped"]["connection"] == "local"


def test_plan_leaves_out_the_configuration_error_and_the_skipped_host(root: Path) -> None:
    from tests.remediation.conftest import signing_keys

    keys = signing_keys()
    plan = (
        "plan", "--playbook", "KB840469", "--playbooks", str(PLAYBOOKS), "-i", "inventories/prod",
        *VAULT, "--key", str(keys.private("alice")), "--approvers", str(keys.allowed_signers),
    )  # fmt: skip
    result = run(root, *plan, "-o", "a.json", "-l", f"{NEEDS_FIX}:{NO_USER}:{LOCAL}")
    assert result.returncode == 3, result.stdout + result.stderr
    saved = json.loads((root / "a.json").read_text())
    assert [h["host"] for h in saved["hosts"]] == [NEEDS_FIX]
    left = {entry["host"]: entry["reason"] for entry in saved["not_audited"]}
    assert left[NO_USER].startswith("configuration: no user name")
    assert left[LOCAL].startswith("skipped: ansible_connection='local'")
    out = lines_of(result.stdout)
    assert f"not planned: {LOCAL}: skipped" in out
    assert f"not audited, not planned: {NO_USER}: configuration" in out
    skipped_only = run(root, *plan, "-o", "b.json", "-l", f"{NEEDS_FIX}:{LOCAL}")
    assert skipped_only.returncode == 0, skipped_only.stdout + skipped_only.stderr


# --- --list-hosts ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["audit", "collect", "plan"])
def test_list_hosts_prints_the_selection_and_the_skipped_without_contacting(
    root: Path, lab: Lab, command: str
) -> None:
    before = lab.counters(HEALTHY)["requests"]
    extra = ("--playbook", "KB840469") if command == "plan" else ()
    result = run(root, command, *extra, "-i", "inventories/prod", *VAULT, "--list-hosts")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "  hosts (3):",
        f"    {HEALTHY}",
        f"    {NEEDS_FIX}",
        f"    {NO_USER}",
        "  skipped (1):",
        f"    {LOCAL}: ansible_connection='local': remediate connects over winrm or psrp "
        "(WinRM) and ssh or paramiko (SSH) only",
    ]
    assert lab.counters(HEALTHY)["requests"] == before
    assert not (root / "reports").exists() and not (root / "plan.json").exists()


def test_list_hosts_applies_the_limit_and_warns_of_stale_parts(root: Path) -> None:
    result = run(
        root, "audit", "inventories/prod", *VAULT, "--list-hosts", "-l", "exchange:!retired"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["  hosts (2):", f"    {HEALTHY}", f"    {NEEDS_FIX}"]
    assert "ignoring: retired" in result.stderr


# --- where the inventory and the vault passwords come from --------------------------------------


def test_i_is_repeatable_and_read_with_the_argument(root: Path) -> None:
    (root / "extra.ini").write_text("[dmz]\nedge01.lab.local\n")
    result = run(root, "audit", "inventories/prod", "-i", "extra.ini", "-i", "mgmt01,", *VAULT,
                 "--list-hosts")  # fmt: skip
    assert result.returncode == 0, result.stderr
    listed = [line.strip() for line in result.stdout.splitlines()]
    assert listed[0] == "hosts (5):"  # (in Ansible's order for `all`, the inventory's business)
    assert sorted(listed[1:6]) == sorted(
        [HEALTHY, NEEDS_FIX, NO_USER, "edge01.lab.local", "mgmt01"]
    )


def test_the_argument_comes_first_then_each_i_in_order(tmp_path: Path) -> None:
    from remediate.cli.inventory_options import resolve_inventory

    (tmp_path / "ansible.cfg").write_text("[defaults]\ninventory = ignored.ini\n")
    found, passwords = resolve_inventory(
        Path("a.ini"), ["b", "c,d,"], environ={}, cwd=tmp_path, home=tmp_path
    )
    assert (found, passwords) == (["a.ini", "b", "c,d,"], ())
    found, _ = resolve_inventory(None, None, environ={}, cwd=tmp_path, home=tmp_path)
    assert found == [str(tmp_path / "ignored.ini")]  # only when none is given


def test_choose_inventory_reads_selects_and_warns(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from remediate.cli.inventory_options import choose_inventory

    monkeypatch.chdir(root)
    monkeypatch.setenv("HOME", str(root / "home"))
    for name in [key for key in os.environ if key.startswith("ANSIBLE_")]:
        monkeypatch.delenv(name)
    chosen = choose_inventory(
        None, ["inventories/prod"], "exchange:gone", ["vault-pass.txt"], None, False
    )
    assert chosen.sources == ["inventories/prod"]
    assert [h.name for h in chosen.hosts] == [HEALTHY, NEEDS_FIX]
    assert [p.secret for p in chosen.vault_passwords] == [VAULT_PASSWORD]
    assert "Could not match supplied host pattern, ignoring: gone" in capsys.readouterr().err


def test_the_default_inventory_and_vault_password_come_from_ansible_cfg(root: Path) -> None:
    (root / "ansible.cfg").write_text(
        "[defaults]\ninventory = inventories/prod\nvault_password_file = vault-pass.txt\n"
    )
    result = run(root, "audit", "--list-hosts", "-l", HEALTHY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == ["  hosts (1):", f"    {HEALTHY}"]
    assert "inventory: " in result.stderr and "ansible.cfg" in result.stderr
    audited = run(root, *AUDIT, "-l", HEALTHY)
    assert audited.returncode == 0, audited.stdout + audited.stderr


def test_ansible_inventory_and_ansible_vault_password_file_are_honoured(root: Path) -> None:
    result = run(
        root,
        "audit",
        "--list-hosts",
        ANSIBLE_INVENTORY="inventories/prod",
        ANSIBLE_VAULT_PASSWORD_FILE=str(root / "vault-pass.txt"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hosts (3):" in result.stdout and "from ANSIBLE_INVENTORY" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("audit",), "no inventory given"),
        (("audit", "-i", ""), "-i/--inventory is empty"),
        (("audit", "-i", "inventories/prod"), "vault"),  # encrypted, and no password given
        (("audit", "-i", "inventories/prod", "--vault-password-file", "nope.txt"), "nope.txt"),
        (("audit", "-i", "inventories/missing"), "no such inventory file or folder"),
        (("collect", "-i", "inventories/prod", *VAULT, "-l", "nosuch"), "matches no host"),
        (("plan", "--playbook", "KB840469", "-i", "inventories/prod", *VAULT, "-l", "x"),
         "matches no host"),
    ],
)  # fmt: skip
def test_bad_inventory_options_are_clear_errors(
    root: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(root, *args, "--list-hosts")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_apply_takes_the_vault_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "remediate", "apply", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    for option in ("--vault-password-file", "--vault-id", "--ask-vault-pass"):
        assert option in result.stdout
