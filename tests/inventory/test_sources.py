"""Inventory sources as `-i` takes them, and the group_vars/host_vars beside them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from remediate.errors import InputError
from remediate.inventory import load_sources
from remediate.inventory.vault import VaultPassword, encrypt


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """An administrator's tree: INI inventory, group_vars (file and folder), host_vars."""
    prod = tmp_path / "inventories" / "prod"
    write(
        prod / "hosts.ini",
        "[mailbox]\nex01.corp.local\nex02.corp.local x=inventory-host\n\n"
        "[exchange:children]\nmailbox\n\n[exchange:vars]\nansible_port=5985\nx=inventory-group\n",
    )
    write(prod / "group_vars" / "all.yml", "ansible_connection: winrm\nx: group_vars-all\n")
    write(
        prod / "group_vars" / "exchange" / "vars.yml",
        'ansible_user: CORP\\admin\nansible_password: "{{ vault_exchange_password }}"\n'
        "x: group_vars-exchange\n",
    )
    write(
        prod / "group_vars" / "exchange" / "vault.yml",
        encrypt("vault_exchange_password: S3cret!\n", "test-vault"),
    )
    write(prod / "host_vars" / "ex01.corp.local.yml", "x: host_vars\n")
    return prod


PASSWORDS = [VaultPassword("test-vault")]


def test_a_folder_reads_its_inventory_files_and_the_vars_beside_them(tree: Path) -> None:
    inventory = load_sources(tree, vault_passwords=PASSWORDS)
    ex01, ex02 = inventory.hosts
    assert ex01.groups == ("mailbox", "exchange", "all")
    assert ex01.vars["ansible_connection"] == "winrm"
    assert ex01.vars["ansible_user"] == "CORP\\admin"
    assert ex01.vars["ansible_password"] == "{{ vault_exchange_password }}"  # templated later
    assert ex01.vars["vault_exchange_password"] == "S3cret!"
    # precedence: host_vars > inventory host vars > group_vars/<group> > group_vars/all >
    # inventory group vars
    assert ex01.vars["x"] == "host_vars"
    assert ex02.vars["x"] == "inventory-host"


def test_origins_name_the_file_and_line_and_the_vault(tree: Path) -> None:
    ex01 = load_sources(tree, vault_passwords=PASSWORDS).host("ex01.corp.local")
    assert str(ex01.origin("ansible_port")) == f"{tree / 'hosts.ini'}:9"
    assert str(ex01.origin("ansible_password")) == f"{tree / 'group_vars/exchange/vars.yml'}:2"
    vaulted = ex01.origin("vault_exchange_password")
    assert vaulted is not None and vaulted.via == "vault"
    assert str(vaulted).endswith("vault.yml:1 (vault)")


def test_a_file_source_uses_the_vars_of_its_folder(tree: Path) -> None:
    ex01 = load_sources(tree / "hosts.ini", vault_passwords=PASSWORDS).host("ex01.corp.local")
    assert ex01.vars["x"] == "host_vars"


def test_a_vault_file_without_the_password_is_a_clear_error(tree: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_sources(tree)
    assert "vault.yml" in str(caught.value)
    assert "no vault password" in str(caught.value)


def test_a_wrong_vault_password_names_the_file_and_never_the_password(tree: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_sources(tree, vault_passwords=[VaultPassword("not-it")])
    message = str(caught.value)
    assert "vault.yml" in message and "wrong vault password" in message
    assert "not-it" not in message and "S3cret" not in message


def test_group_vars_precedence_follows_group_depth_and_priority(tmp_path: Path) -> None:
    write(
        tmp_path / "hosts",
        "[top:children]\nmiddle\n[middle:children]\nleaf\n[leaf]\nh1\n[other]\nh1\n"
        "[other:vars]\nansible_group_priority=10\n",
    )
    write(tmp_path / "group_vars" / "top.yml", "a: top\nb: top\nc: top\n")
    write(tmp_path / "group_vars" / "leaf.yaml", "a: leaf\n")
    write(tmp_path / "group_vars" / "middle.json", '{"a": "middle", "b": "middle"}')
    write(tmp_path / "group_vars" / "other", "c: other\nb: other\n")
    h1 = load_sources(tmp_path).host("h1")
    # depth: top 1, middle/other 2... other (depth 1, priority 10) applies after top (depth 1)
    assert h1.vars["a"] == "leaf"
    assert h1.vars["b"] == "middle"  # middle (depth 2) beats other (depth 1, priority 10)
    assert h1.vars["c"] == "other"  # other beats top: same depth, higher priority


def test_only_the_first_of_name_and_its_extensions_is_read(tmp_path: Path) -> None:
    write(tmp_path / "hosts.ini", "h1\n")
    write(tmp_path / "group_vars" / "all" / "b.yml", "b: from-folder\n")
    write(tmp_path / "group_vars" / "all" / "a.yml", "b: first\nc: a\n")
    write(tmp_path / "group_vars" / "all" / ".hidden.yml", "c: hidden\n")
    write(tmp_path / "group_vars" / "all" / "notes.txt", "c: text\n")
    write(tmp_path / "group_vars" / "all" / "backup.yml~", "c: backup\n")
    write(tmp_path / "group_vars" / "all.yml", "b: file-beside-the-folder\n")
    h1 = load_sources(tmp_path / "hosts.ini").host("h1")
    assert h1.vars["b"] == "from-folder"  # the folder `all` comes before `all.yml`; b.yml last
    assert h1.vars["c"] == "a"


def test_several_sources_merge_in_order(tmp_path: Path) -> None:
    one = write(tmp_path / "one" / "hosts.ini", "[exchange]\nex01 x=one\n")
    two = write(tmp_path / "two" / "hosts.ini", "[exchange]\nex02\n[edge]\nex01 x=two\n")
    write(tmp_path / "one" / "group_vars" / "exchange.yml", "y: one\n")
    write(tmp_path / "two" / "group_vars" / "exchange.yml", "y: two\n")
    inventory = load_sources([one, two])
    assert [host.name for host in inventory.hosts] == ["ex01", "ex02"]
    assert inventory.host("ex01").vars["x"] == "two"
    assert inventory.host("ex01").vars["y"] == "two"  # sources outside, groups inside
    assert set(inventory.host("ex01").groups) == {"exchange", "edge", "all"}
    assert inventory.path == f"{one}, {two}"


def test_a_folder_skips_what_ansible_skips(tmp_path: Path) -> None:
    write(tmp_path / "01-hosts.ini", "[exchange]\nex01\n")
    write(tmp_path / "02-more", "[exchange]\nex02\n")
    write(tmp_path / "README.md", "# not an inventory [\n")
    write(tmp_path / "old.retry", "ex99\n")
    write(tmp_path / "ansible.cfg", "[defaults]\n")
    write(tmp_path / ".hidden", "ex98\n")
    write(tmp_path / "sub" / "hosts", "[edge]\nedge01\n")
    names = [host.name for host in load_sources(tmp_path).hosts]
    assert sorted(names) == ["edge01", "ex01", "ex02"]


def test_a_host_list_source(tmp_path: Path) -> None:
    inventory = load_sources("ex01.corp.local,ex02.corp.local:5986,")
    assert [host.name for host in inventory.hosts] == ["ex01.corp.local", "ex02.corp.local"]
    assert inventory.host("ex02.corp.local").vars["ansible_port"] == 5986
    assert inventory.host("ex01.corp.local").groups == ("ungrouped", "all")


def test_a_missing_source_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such inventory file or folder") as caught:
        load_sources([tmp_path / "missing.ini"])
    assert "missing.ini" in str(caught.value)


def test_an_encrypted_inventory_file_is_decrypted(tmp_path: Path) -> None:
    text = encrypt("[exchange]\nex01 ansible_port=5986\n", "pw", vault_id="prod")
    write(tmp_path / "hosts", text)
    inventory = load_sources(tmp_path / "hosts", vault_passwords=[VaultPassword("pw", "prod")])
    assert inventory.host("ex01").vars["ansible_port"] == 5986


def test_an_inventory_script_is_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = write(tmp_path / "ec2.py", f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
    script.chmod(0o755)
    with pytest.raises(InputError, match="inventory script"):
        load_sources(script)
    assert not marker.exists()


def test_a_vars_file_that_is_not_a_mapping_names_the_file(tmp_path: Path) -> None:
    write(tmp_path / "hosts", "h1\n")
    write(tmp_path / "host_vars" / "h1.yml", "- a\n- b\n")
    with pytest.raises(InputError, match="must be a mapping") as caught:
        load_sources(tmp_path / "hosts")
    assert "h1.yml" in str(caught.value)


def test_a_bad_vars_file_names_its_line(tmp_path: Path) -> None:
    write(tmp_path / "hosts", "h1\n")
    write(tmp_path / "group_vars" / "all.yml", "a: 1\nb: [unclosed\n")
    with pytest.raises(InputError) as caught:
        load_sources(tmp_path / "hosts")
    assert caught.value.file and caught.value.file.endswith("all.yml")
    assert caught.value.line is not None


def test_duplicate_keys_warn_and_the_last_wins_as_in_ansible(tmp_path: Path) -> None:
    write(tmp_path / "hosts", "h1\n")
    write(tmp_path / "group_vars" / "all.yml", "a: 1\nb: 2\na: 3\n")
    inventory = load_sources(tmp_path / "hosts")
    assert inventory.host("h1").vars["a"] == 3
    assert any("all.yml:3" in warning and "'a'" in warning for warning in inventory.warnings)


def test_vault_values_stay_encrypted_until_used(tmp_path: Path) -> None:
    envelope = encrypt("S3cret!", "pw").replace("\n", "\n  ")
    write(tmp_path / "hosts", "h1\n")
    write(tmp_path / "group_vars" / "all.yml", f"secret: !vault |\n  {envelope}\nplain: x\n")
    h1 = load_sources(tmp_path / "hosts").host("h1")  # no password needed to read
    secret = h1.vars["secret"]
    assert secret.decrypt([VaultPassword("pw")]) == "S3cret!"
    origin = h1.origin("secret")
    assert origin is not None and origin.via == "vault" and origin.line == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_an_unreadable_vars_file_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path / "hosts", "h1\n")
    secret = write(tmp_path / "group_vars" / "all.yml", "a: 1\n")
    secret.chmod(0)
    with pytest.raises(InputError, match="cannot read the vars file"):
        load_sources(tmp_path / "hosts")
