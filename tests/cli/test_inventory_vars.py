"""`remediate inventory --vars`: every effective value with where it came from, the password's
source without the password, and values printed literally, not as console markup (issue 14)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from remediate.cli.console import literal
from remediate.connect.secrets import Secret
from remediate.connect.variables import connection_settings, describe, explain
from remediate.inventory import load_inventory
from tests.conftest import ROOT

ENV_PASSWORD = "Env-Pa55-[red]-x"
INVENTORY_PASSWORD = "Inv-Pa55-[bold]"
HOSTS = f"""[exchange]
ex01 ansible_host=::1 note=[red] ansible_user=admin
ex02 ansible_host=10.0.0.2 ansible_password='{INVENTORY_PASSWORD}' tag="[bold]x[/bold]"
[exchange:vars]
ansible_port=5985
[ssh]
jump ansible_connection=ssh ansible_host=fe80::1 ansible_user=ops
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "hosts[prod].ini"
    path.write_text(HOSTS)
    return path


def listing(*args: str, environ: dict[str, str] | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REMEDIATE_PASSWORD")}
    result = subprocess.run(
        [sys.executable, "-m", "remediate", "inventory", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**env, **(environ or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def block(text: str, host: str) -> str:
    """The `--vars` lines of one host: from its name to the next blank line."""
    match = re.search(rf"^{re.escape(host)}\n(.*?)(?:\n\n|\Z)", text, re.S | re.M)
    assert match, f"no block for {host} in:\n{text}"
    return match.group(1)


def test_vars_show_each_value_with_its_source_and_the_password_source(inventory: Path) -> None:
    out = listing(str(inventory), "--vars", environ={"REMEDIATE_PASSWORD_EX01": ENV_PASSWORD})
    assert ENV_PASSWORD not in out and INVENTORY_PASSWORD not in out
    assert "hosts[prod].ini: 3 host(s)" in " ".join(out.split())  # the title, brackets and all
    file = re.escape(str(inventory))
    ex01 = block(out, "ex01")
    assert re.search(rf"^  host += ex01  \(from {file}:2\)$", ex01, re.M)
    expected = [
        rf"address += ::1  \(from ansible_host \({file}:2\)\)",
        rf"port += 5985  \(from ansible_port \({file}:5\)\)",
        r"scheme += http  \(default for port 5985\)",
        r"endpoint += http://\[::1\]:5985/wsman$",
        r"auth += ntlm  \(default\)",
        rf"user += admin  \(from ansible_user \({file}:2\)\)",
        r"password += \*\*\*  \(from environment REMEDIATE_PASSWORD_EX01\)",
        rf"note += '\[red\]'  \(from {file}:2\)",
        rf"ansible_port += 5985  \(from {file}:5\)",
    ]
    for pattern in expected:
        assert re.search(rf"^  {pattern}", ex01, re.M), (pattern, ex01)
    ex02 = block(out, "ex02")
    for pattern in [
        rf"password += \*\*\*  \(from ansible_password \({file}:3\)\)",
        rf"ansible_password += \*\*\*  \(from {file}:3\)",
        rf"tag += '\[bold\]x\[/bold\]'  \(from {file}:3\)",
        r"user += \(none\)$",
    ]:
        assert re.search(rf"^  {pattern}", ex02, re.M), (pattern, ex02)
    jump = block(out, "jump")
    for pattern in [
        rf"connection += ssh  \(from ansible_connection \({file}:7\)\)",
        r"endpoint += ssh://\[fe80::1\]:22$",
        r"password += \(none\)  \(not in the inventory nor in REMEDIATE_PASSWORD_JUMP, "
        r"REMEDIATE_PASSWORD_SSH, REMEDIATE_PASSWORD_ALL, REMEDIATE_PASSWORD\)",
    ]:
        assert re.search(rf"^  {pattern}", jump, re.M), (pattern, jump)


def test_the_group_password_variable_is_named_as_the_source(inventory: Path) -> None:
    out = listing(str(inventory), "--vars", "--limit", "ex01", environ={
        "REMEDIATE_PASSWORD_EXCHANGE": ENV_PASSWORD,
    })  # fmt: skip
    assert "(from environment REMEDIATE_PASSWORD_EXCHANGE)" in block(out, "ex01")
    assert ENV_PASSWORD not in out


def test_the_table_prints_brackets_literally(inventory: Path) -> None:
    out = listing(str(inventory))
    assert "winrm http://[::1]:5985/wsman auth ntlm user admin" in out
    assert "ssh ssh://[fe80::1]:22 user ops" in out
    assert "note" not in out  # variables only with --vars


# --- an Ansible tree: group_vars, a vault, templates --------------------------------------

VAULT_PASSWORD = "vault horse battery"
VAULTED = "Vaulted-Pa55!"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """inventories/prod with group_vars (a templated password from a vaulted file, a
    templated site name), a host without a user, and a host Ansible reaches locally."""
    from remediate.inventory.vault import encrypt

    prod = tmp_path / "inventories" / "prod"
    (prod / "group_vars" / "exchange").mkdir(parents=True)
    (prod / "hosts.ini").write_text(
        "[exchange]\nex01 ansible_host=10.0.0.1\n\n[other]\nbad ansible_port=99999\n"
        "[controller]\nlocalhost ansible_connection=local\n"
    )
    (prod / "group_vars" / "exchange" / "vars.yml").write_text(
        "ansible_user: 'CORP\\svc'\n"
        'ansible_password: "{{ vault_exchange_password }}"\n'
        'site: "{{ inventory_hostname_short }}-[dc]"\n'
    )
    vault = encrypt(f"vault_exchange_password: '{VAULTED}'\n", VAULT_PASSWORD)
    (prod / "group_vars" / "exchange" / "vault.yml").write_text(vault)
    (tmp_path / "vault-pass.txt").write_text(VAULT_PASSWORD + "\n")
    return tmp_path


def in_tree(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REMEDIATE_PASS", "ANSIBLE_"))}
    return subprocess.run(
        [sys.executable, "-m", "remediate", "inventory", "-i", "inventories/prod", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tree,
        env={**env, "HOME": str(tree)},
    )


def test_vars_of_a_tree_with_group_vars_a_vault_and_templates(tree: Path) -> None:
    result = in_tree(tree, "--vars", "--vault-password-file", "vault-pass.txt")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert VAULTED not in out and VAULT_PASSWORD not in out
    vars_file = re.escape("inventories/prod/group_vars/exchange/vars.yml")
    ex01 = block(out, "ex01")
    for pattern in [
        rf"user += CORP\\svc  \(from ansible_user \({vars_file}:1\)\)",
        rf"password += \*\*\*  \(from ansible_password \({vars_file}:2\)\)",
        rf"ansible_password += \*\*\*  \(from {vars_file}:2\)$",
        r"vault_exchange_password += \*\*\*  "
        r"\(from inventories/prod/group_vars/exchange/vault\.yml:1 \(vault\)\)",
        rf"site += 'ex01-\[dc\]'  \(from {vars_file}:3; "
        r"template '\{\{ inventory_hostname_short \}\}-\[dc\]'\)",
    ]:
        assert re.search(rf"^  {pattern}", ex01, re.M), (pattern, ex01)
    bad = block(out, "bad")
    assert re.search(
        r"^  problem += inventories/prod/hosts\.ini:5: ansible_port=99999 is not", bad, re.M
    )
    local = block(out, "localhost")
    assert re.search(r"^  skipped += ansible_connection='local': ", local, re.M)
    table = out.split("\n\n")[0]
    assert "skipped: ansible_connection='local'" in table and "is not a port" in table


def test_without_the_vault_password_each_host_says_why_and_the_listing_goes_on(
    tree: Path,
) -> None:
    """A `!vault` value (an encrypted whole file is the run's error when no vault password is
    given) that cannot be opened is the host's problem, shown; the listing goes on."""
    from remediate.inventory.vault import encrypt

    envelope = "".join(f"  {line}\n" for line in encrypt(VAULTED, VAULT_PASSWORD).splitlines())
    vault = tree / "inventories" / "prod" / "group_vars" / "exchange" / "vault.yml"
    vault.write_text("vault_exchange_password: !vault |\n" + envelope)
    result = in_tree(tree, "--vars", "--limit", "ex01:localhost")
    assert result.returncode == 0, result.stdout + result.stderr
    ex01 = block(result.stdout, "ex01")
    assert re.search(r"^  problem += .*vault\.yml.*no vault password was given", ex01, re.M)
    assert re.search(r"^  vault_exchange_password += \*\*\*", ex01, re.M)
    assert re.search(r"^  site += 'ex01-\[dc\]'", ex01, re.M)  # what can be read still is
    assert "skipped: ansible_connection='local'" in result.stdout
    assert "Traceback" not in result.stderr and VAULTED not in result.stdout


# --- the library pieces --------------------------------------------------------------------


def test_explain_names_variables_defaults_and_derived_values(inventory: Path) -> None:
    loaded = load_inventory(inventory)
    host = loaded.host("ex02")
    settings = connection_settings(host, password=Secret(INVENTORY_PASSWORD))
    rows = {row.name: row for row in explain(host, settings, "from somewhere")}
    assert (rows["port"].value, rows["port"].source) == (
        "5985",
        f"from ansible_port ({inventory}:5)",
    )
    assert rows["endpoint"].source == ""  # follows from the lines above
    assert rows["read timeout"].source == "default: operation timeout + 10 s"
    assert rows["password"].value == "***" and rows["password"].source == "from somewhere"
    assert rows["ansible_password"].value == "***" and rows["ansible_password"].variable
    assert not rows["auth"].variable
    text = repr(explain(host, settings))
    assert INVENTORY_PASSWORD not in text


def test_describe_still_gives_pairs(inventory: Path) -> None:
    host = load_inventory(inventory).host("ex01")
    pairs = dict(describe(host, connection_settings(host)))
    assert pairs["endpoint"] == "http://[::1]:5985/wsman"
    assert pairs["note"] == f"'[red]'  (from {inventory}:2)"
    assert pairs["password"] == "(none)"


@pytest.mark.parametrize(
    "text", ["[red]", "[fe80::1]", "http://[fe80::1]:5986/wsman", "[bold]x[/bold]", "[/]"]
)
def test_literal_text_is_not_markup(text: str) -> None:
    out = io.StringIO()
    Console(file=out, width=100, highlight=False).print(literal(text))
    assert out.getvalue() == text + "\n"
    plain = io.StringIO()
    try:
        Console(file=plain, width=100, highlight=False).print(text)
    except Exception:  # rich's MarkupError for a closing tag with nothing open
        return
    assert plain.getvalue() != text + "\n"  # what printing the str did before
