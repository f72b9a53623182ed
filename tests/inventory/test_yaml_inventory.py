"""Ansible YAML inventories: read as Ansible's `yaml` plugin reads them, checked by hand and,
where ansible-core is installed, against `ansible-inventory --list` itself."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from remediate.errors import InputError
from remediate.inventory import vault
from remediate.inventory.ansible_yaml import load_ansible_yaml
from remediate.inventory.data import InventoryData
from remediate.inventory.model import Inventory, Origin, UnsafeText
from remediate.inventory.vault import VaultedValue
from remediate.inventory.yaml_inventory import (
    MAX_ASSIGNMENTS,
    MAX_MEMBERSHIPS,
    MAX_YAML_INVENTORY_CHARS,
    read_yaml_inventory,
)
from remediate.yamlfile import LocatedDocument
from tests.inventory.samples import line_of

SOURCE = "inventories/prod/hosts.yml"


def read(text: str, source: str = SOURCE) -> tuple[Inventory, list[str]]:
    warnings: list[str] = []
    document = load_ansible_yaml(text, source, warnings, max_chars=MAX_YAML_INVENTORY_CHARS)
    data = InventoryData()
    read_yaml_inventory(document, source, data, warnings)
    return data.build(source), warnings


def inventory(text: str) -> Inventory:
    return read(text)[0]


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read(text)
    return caught.value


def members(inv: Inventory) -> dict[str, tuple[list[str], list[str]]]:
    """Each group's direct hosts and children, as `ansible-inventory --list` shows them."""
    return {
        name: (list(group.hosts) if name != "all" else [], list(group.children))
        for name, group in inv.groups.items()
    }


# --- the plugin's own example ---------------------------------------------------------------

# The EXAMPLES of ansible-core's yaml inventory plugin (lib/ansible/plugins/inventory/yaml.py).
PLUGIN_EXAMPLE = """\
all: # keys must be unique, i.e. only one 'hosts' per group
    hosts:
        test1:
        test2:
            host_var: value
    vars:
        group_all_var: value
    children:   # key order does not matter, indentation does
        other_group:
            children:
                group_x:
                    hosts:
                        test5   # Note that one machine will work without a colon
                group_y:
                    hosts:
                        test6:  # So always use a colon
            vars:
                g2_var2: value3
            hosts:
                test4:
                    ansible_host: 127.0.0.1
        last_group:
            hosts:
                test1 # same host as above, additional group membership
            vars:
                group_last_var: value
"""


def test_the_plugins_example_reads_as_ansible_reads_it() -> None:
    inv, warnings = read(PLUGIN_EXAMPLE)
    assert warnings == []
    assert [host.name for host in inv.hosts] == ["test1", "test2", "test4", "test5", "test6"]
    assert members(inv) == {
        "all": ([], ["ungrouped", "other_group", "last_group"]),
        "ungrouped": (["test2"], []),
        "other_group": (["test4"], ["group_x", "group_y"]),
        "group_x": (["test5"], []),
        "group_y": (["test6"], []),
        "last_group": (["test1"], []),
    }
    assert dict(inv.host("test1").vars) == {
        "group_all_var": "value",
        "group_last_var": "value",
    }
    assert dict(inv.host("test4").vars) == {
        "group_all_var": "value",
        "g2_var2": "value3",
        "ansible_host": "127.0.0.1",
    }
    assert inv.host("test5").groups == ("group_x", "other_group", "all")
    assert inv.host("test2").groups == ("ungrouped", "all")


# --- an Exchange estate as an administrator keeps it ----------------------------------------

FLEET = """\
# Production Exchange fleet
all:
  vars:
    ansible_connection: winrm
    ansible_winrm_transport: ntlm
    ansible_user: 'CORP\\svc_audit'
    site: hq
  hosts:
    jump.corp.local:
      ansible_host: 10.1.0.4
      ansible_connection: ssh
  children:
    exchange:
      vars:
        site: lyon
        patch_window: "Sunday 02:00"
      children:
        mailbox:
          hosts:
            exch[01:03].corp.local:
            exch10.corp.local:5985:
            exch11.corp.local:
              ansible_host: 10.1.2.11
              ansible_port: 5986
              maintenance: true
              site: '0042'
          vars:
            site: paris
            ansible_winrm_read_timeout_sec: 70
        edge:
          hosts:
            edge-[a:b].dmz.local:
              ansible_winrm_server_cert_validation: ignore
            "[2001:db8::25]:5986":
              ansible_winrm_message_encryption: always
    legacy:
      hosts:
        ex2003.corp.local:
          ansible_winrm_transport: basic
          ansible_port: 5985
    dag:
      vars:
        ansible_group_priority: 10
        site: dag-site
      hosts:
        exch01.corp.local:
        exch02.corp.local:
    backup:
      vars: {site: backup-site}
      hosts:
        exch01.corp.local:
        exch[01:03].corp.local:2222:
"""

FLEET_ORDER = [  # level by level from `all` (ansible-core's get_descendants), as INI
    "jump.corp.local",
    "ex2003.corp.local",
    "exch01.corp.local",
    "exch02.corp.local",
    "exch03.corp.local",
    "exch10.corp.local",
    "exch11.corp.local",
    "edge-a.dmz.local",
    "edge-b.dmz.local",
    "2001:db8::25",
]


def test_fleet_hosts_groups_and_order() -> None:
    inv, warnings = read(FLEET)
    assert warnings == []
    assert [host.name for host in inv.hosts] == FLEET_ORDER
    assert members(inv) == {
        "all": ([], ["ungrouped", "exchange", "legacy", "dag", "backup"]),
        "ungrouped": (["jump.corp.local"], []),
        "exchange": ([], ["mailbox", "edge"]),
        "mailbox": (
            [
                *("exch01.corp.local", "exch02.corp.local", "exch03.corp.local"),
                *("exch10.corp.local", "exch11.corp.local"),
            ],
            [],
        ),
        "edge": (["edge-a.dmz.local", "edge-b.dmz.local", "2001:db8::25"], []),
        "legacy": (["ex2003.corp.local"], []),
        "dag": (["exch01.corp.local", "exch02.corp.local"], []),
        "backup": (["exch01.corp.local", "exch02.corp.local", "exch03.corp.local"], []),
    }
    # A host of `all` in no other group is `ungrouped` too (ansible-core's reconcile_inventory).
    assert inv.host("jump.corp.local").groups == ("ungrouped", "all")
    assert inv.groups["all"].hosts == ("jump.corp.local",)


def test_fleet_variables_merge_in_ansibles_precedence() -> None:
    inv = inventory(FLEET)
    exch01 = dict(inv.host("exch01.corp.local").vars)
    # depth first (mailbox, 2, over exchange, 1), then priority (dag, 10, over backup, 1)
    assert exch01 == {
        "ansible_connection": "winrm",
        "ansible_winrm_transport": "ntlm",
        "ansible_user": "CORP\\svc_audit",
        "site": "paris",
        "patch_window": "Sunday 02:00",
        "ansible_winrm_read_timeout_sec": 70,
    }
    assert inv.host("exch01.corp.local").groups == (
        "mailbox",
        "dag",
        "exchange",
        "backup",
        "all",
    )
    assert inv.host("ex2003.corp.local").vars["site"] == "hq"
    assert inv.host("jump.corp.local").vars["ansible_connection"] == "ssh"
    exch11 = inv.host("exch11.corp.local").vars
    assert (exch11["ansible_port"], exch11["maintenance"], exch11["site"]) == (5986, True, "0042")
    assert inv.host("edge-b.dmz.local").vars["ansible_winrm_server_cert_validation"] == "ignore"


def test_ports_apply_where_a_host_is_first_met() -> None:
    inv = inventory(FLEET)
    assert inv.host("exch10.corp.local").vars["ansible_port"] == 5985
    assert inv.host("2001:db8::25").vars["ansible_port"] == 5986
    # exch01-03 were met in `mailbox` first, without a port: backup's :2222 does not apply
    # (ansible-core sets the port when it creates the host, as `ansible-inventory` shows).
    assert "ansible_port" not in inv.host("exch03.corp.local").vars
    inv = inventory("a:\n  hosts:\n    h:2222:\nb:\n  hosts:\n    h:2201:\n      x: 1\n")
    assert dict(inv.host("h").vars) == {"ansible_port": 2222, "x": 1}
    inv = inventory("a:\n  hosts:\n    h:2202:\n      ansible_port: 99\n")
    assert inv.host("h").vars["ansible_port"] == 99


def test_origins_name_the_file_and_the_line_of_each_key() -> None:
    inv = inventory(FLEET)
    exch11 = inv.host("exch11.corp.local")
    # the host's own key, not the first line of its variables below it
    assert exch11.source == Origin(SOURCE, line_of(FLEET, "exch11.corp.local:"))
    assert exch11.origin("ansible_host") == Origin(SOURCE, line_of(FLEET, "10.1.2.11"))
    assert exch11.origin("site") == Origin(SOURCE, line_of(FLEET, "site: '0042'"))
    exch01 = inv.host("exch01.corp.local")
    assert exch01.origin("site") == Origin(SOURCE, line_of(FLEET, "site: paris"))
    assert exch01.origin("ansible_user") == Origin(SOURCE, line_of(FLEET, "ansible_user:"))
    assert inv.host("exch10.corp.local").origin("ansible_port") == Origin(
        SOURCE, line_of(FLEET, "exch10.corp.local:5985")
    )
    mailbox = inv.groups["mailbox"]
    assert mailbox.source == Origin(SOURCE, line_of(FLEET, "mailbox:"))
    assert inv.groups["backup"].origins["site"] == Origin(SOURCE, line_of(FLEET, "backup-site"))


# --- values as YAML gives them ---------------------------------------------------------------


def test_values_are_yaml_values_never_literal_eval() -> None:
    text = """\
g:
  hosts:
    h:
      port: 5986
      flag: yes
      text: '0042'
      looks_like_a_list: "[1, 2]"
      looks_like_a_bool: "True"
      octal: 017
      hexadecimal: 0x1F
      when: 2024-01-01
      nothing:
      items: [a, 1]
      nested: {a: {b: c}}
"""
    assert dict(inventory(text).host("h").vars) == {
        "port": 5986,
        "flag": True,
        "text": "0042",
        "looks_like_a_list": "[1, 2]",
        "looks_like_a_bool": "True",
        "octal": 15,
        "hexadecimal": 31,
        "when": datetime.date(2024, 1, 1),
        "nothing": None,
        "items": ["a", 1],
        "nested": {"a": {"b": "c"}},
    }


def test_vault_and_unsafe_values_pass_through_untouched() -> None:
    envelope = vault.encrypt("S3cret!", "pw", vault_id="prod").rstrip("\n")
    body = "\n".join("        " + row for row in envelope.splitlines())
    text = f"g:\n  vars:\n    ansible_password: !vault |\n{body}\n    tpl: !unsafe '{{{{ x }}}}'\n"
    text += "  hosts:\n    h:\n"
    host = inventory(text).host("h")
    secret = host.vars["ansible_password"]
    assert isinstance(secret, VaultedValue)
    assert secret.decrypt("pw") == "S3cret!"
    assert secret.line == 3
    assert isinstance(host.vars["tpl"], UnsafeText)
    assert host.vars["tpl"] == "{{ x }}"


def test_merge_keys_and_aliases_are_read() -> None:
    text = """\
all:
  vars:
    defaults: &defaults
      ansible_connection: winrm
      ansible_port: 5986
g:
  hosts:
    a:
      <<: *defaults
      ansible_port: 5985
    b: *defaults
h:
  hosts: &shared
    c:
    d:
k:
  hosts: *shared
"""
    inv = inventory(text)
    assert inv.host("a").vars["ansible_port"] == 5985
    assert inv.host("a").vars["ansible_connection"] == "winrm"
    assert inv.host("b").vars["ansible_port"] == 5986
    assert inv.groups["k"].hosts == ("c", "d")
    assert inv.host("c").groups == ("k", "h", "all")


def test_group_priority_orders_groups_of_one_depth() -> None:
    text = "a:\n  hosts: {h: }\n  vars: {x: a, ansible_group_priority: 10}\n"
    text += "b:\n  hosts: {h: }\n  vars: {x: b}\n"
    assert inventory(text).host("h").vars["x"] == "a"
    assert inventory(text.replace("10", "'0'")).host("h").vars["x"] == "b"
    assert "ansible_group_priority" not in inventory(text).groups["a"].vars


# --- structure as the plugin reads it ---------------------------------------------------------


def test_a_null_group_and_null_sections_are_empty() -> None:
    inv, warnings = read("empty:\nsections:\n  hosts:\n  vars:\n  children:\n")
    assert warnings == []
    assert members(inv) == {
        "all": ([], ["ungrouped", "empty", "sections"]),
        "ungrouped": ([], []),
        "empty": ([], []),
        "sections": ([], []),
    }


def test_a_section_given_as_one_text_is_that_one_entry() -> None:
    inv = inventory("g:\n  hosts: a\n  vars: x\n  children: c\n")
    assert members(inv)["g"] == (["a"], ["c"])
    assert dict(inv.host("a").vars) == {"x": None}


def test_all_may_come_anywhere_and_a_group_may_be_defined_again() -> None:
    text = """\
g:
  hosts: {a: }
  vars: {x: 1, y: 1}
all:
  vars: {x: 2, y: 2, z: 2}
g2:
  children:
    g:
      vars: {y: 3}
"""
    inv = inventory(text)
    assert dict(inv.host("a").vars) == {"x": 1, "y": 3, "z": 2}
    assert members(inv)["all"] == ([], ["ungrouped", "g2"])  # g has a parent now
    assert inv.groups["g"].parents == ("g2",)


def test_a_host_in_several_groups_gathers_their_memberships() -> None:
    text = "a:\n  hosts: {h: {v: 1}}\nb:\n  hosts: {h: {v: 2, w: 2}}\nc:\n  children: {a: }\n"
    inv = inventory(text)
    assert inv.host("h").groups == ("a", "c", "b", "all")  # a is deeper, under c
    assert dict(inv.host("h").vars) == {"v": 2, "w": 2}


def test_hosts_named_by_ranges_and_addresses() -> None:
    text = """\
g:
  hosts:
    web[01:10:3].corp:
    db-[a:c]:
    10.0.0.[1:2]:2200:
    2001:db8::[1:2]:
    "[2001:db8::9]":
    "::1":
    mail server:
"""
    assert [host.name for host in inventory(text).hosts] == [
        *("web01.corp", "web04.corp", "web07.corp", "web10.corp"),
        *("db-a", "db-b", "db-c", "10.0.0.1", "10.0.0.2"),
        *("2001:db8::1", "2001:db8::2", "2001:db8::9", "::1", "mail server"),
    ]
    assert inventory(text).host("10.0.0.2").vars["ansible_port"] == 2200


def test_a_loop_of_groups_is_refused_naming_the_line() -> None:
    text = "a:\n  children:\n    b:\n      children:\n        a:\n"
    error = error_of(text)
    # as Ansible: `b` is read whole (its child `a` added) before the link a -> b closes the loop
    assert "making 'b' a child of 'a' creates a loop of groups" in error.message
    assert (error.file, error.line) == (SOURCE, 3)
    assert "loop" in error_of("a:\n  children:\n    a:\n").message


# --- what Ansible warns about, we warn about -----------------------------------------------


def test_unexpected_keys_are_skipped_with_a_warning_and_a_guess() -> None:
    text = "g:\n  host:\n    a:\n  hosts:\n    b:\n  weird: 1\n  notes: {x: 1}\n"
    inv, warnings = read(text)
    assert [host.name for host in inv.hosts] == ["b"]
    assert warnings == [
        f"{SOURCE}:2: group 'g': key 'host' skipped (did you mean 'hosts'?);"
        " a group has only hosts, vars and children",
        f"{SOURCE}:6: group 'g': key 'weird' skipped; a group has only hosts, vars and children",
        f"{SOURCE}:7: group 'g': key 'notes' skipped; a group has only hosts, vars and children",
    ]


def test_empty_or_false_host_values_are_no_variables_with_a_warning() -> None:
    inv, warnings = read("g:\n  hosts:\n    a: ''\n    b: 0\n    c: false\n")
    assert [dict(host.vars) for host in inv.hosts] == [{}, {}, {}]
    assert len(warnings) == 3
    assert warnings[0] == f"{SOURCE}:3: host 'a' has '' for its variables: none read"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "{}\n"])
def test_an_empty_inventory_has_no_hosts_and_says_so(text: str) -> None:
    inv, warnings = read(text)
    assert inv.hosts == ()
    assert len(warnings) == 1
    assert "no hosts" in warnings[0]


def test_plugin_with_no_value_is_a_group_as_in_ansible() -> None:
    inv = inventory("plugin:\ng:\n  hosts: {a: }\n")
    assert "plugin" in inv.groups


# --- errors: file, line, and what to do ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- a\n- b\n", 1, "must be a mapping of group names (all:, exchange:, ...), not a list"),
        ("just text\n", 1, "not the text 'just text'"),
        ("web: [a, b]\n", 1, "group 'web' must be a mapping of hosts, vars and children"),
        ("g:\n  h:\nweb: 5\n", 3, "group 'web' must be a mapping of hosts, vars and children"),
        ("all:\n  children:\n    g: 5\n", 3, "group 'g' must be a mapping"),
        ("g:\n  hosts: [a, b]\n", 2, "'hosts' of group 'g' must be a mapping, not a list"),
        ("g:\n  vars:\n    - a\n", 2, "'vars' of group 'g' must be a mapping, not a list"),
        ("g:\n  children: [a]\n", 2, "'children' of group 'g' must be a mapping, not a list"),
        ("g:\n  hosts: 5\n", 2, "'hosts' of group 'g' must be a mapping, not int 5"),
        ("g:\n  hosts:\n    a: 5\n", 3, "the variables of host 'a' must be a mapping"),
        ("g:\n  hosts:\n    a: [1]\n", 3, "the variables of host 'a' must be a mapping"),
        ("g:\n  hosts:\n    1:\n", 3, "host name 1 is not text (YAML read it as int 1)"),
        ("g:\n  hosts:\n    b:\n    1.5:\n", 4, "host name 1.5 is not text"),
        ("1:\n  hosts: {a: }\n", 1, "group name 1 is not text"),
        ("yes:\n  hosts: {a: }\n", 1, "group name True is not text (YAML read it as true/false"),
        ("g:\n  vars:\n    a: 1\n    2: x\n", 4, "variable name 2 is not text"),
        ("g:\n  hosts:\n    h:\n      a: 1\n      3: x\n", 5, "variable name 3 is not text"),
        ("'':\n  hosts: {a: }\n", 1, "a group has an empty name"),
        ("g:\n  hosts:\n    '':\n", 3, "a host has an empty name"),
        ("g:\n  children:\n    all:\n", 3, "the group 'all' cannot be a child of another group"),
        ("g:\n  hosts:\n    'h:abc':\n", 3, "'h:abc' is not a host name, host:port or IPv6"),
        ("g:\n  hosts:\n    'h:':\n", 3, "host 'h:' ends with ':' but gives no port"),
        ("g:\n  hosts:\n    h:0:\n", 3, "bad port in 'h:0': ports are 1 to 65535"),
        ("g:\n  hosts:\n    h:65536:\n", 3, "bad port in 'h:65536'"),
        ("g:\n  hosts:\n    h:99999999:\n", 3, "bad port in 'h:99999999'"),
        ("g:\n  hosts:\n    e[3:1]:\n", 3, "bad host range in 'e[3:1]': a host range must have"),
        ("g:\n  hosts:\n    f[01:3]:\n", 3, "a zero-padded host range needs begin and end"),
        ("g:\n  hosts:\n    f[]:\n", 3, "bad host range in 'f[]'"),
        ("g:\n  hosts:\n    f]:\n", 3, "bad host range in 'f]'"),
        ("g:\n  vars:\n    ansible_group_priority: high\n", 3, "must be a number, not 'high'"),
        ("g:\n  hosts:\n    ? " + "a" * 1100 + "\n", 3, "host patterns are at most 1,024"),
    ],
)
def test_bad_structure_is_an_error_naming_file_and_line(text: str, line: int, message: str) -> None:
    error = error_of(text)
    assert message in error.message
    assert (error.file, error.line) == (SOURCE, line)
    assert "\n" not in error.message


def test_errors_carry_a_hint() -> None:
    assert "'- ex01' list item" in (error_of("g:\n  hosts: [a]\n").hint or "")
    assert "quote the name" in (error_of("g:\n  hosts:\n    1:\n").hint or "")
    assert "under 'hosts:'" in (error_of("web: [a, b]\n").hint or "")


def test_an_inventory_plugin_configuration_is_refused_clearly() -> None:
    error = error_of("plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n")
    assert "configuration of the inventory plugin 'amazon.aws.aws_ec2'" in error.message
    assert "INI and YAML inventories only" in error.message
    assert "ansible-inventory -i FILE --list --yaml" in (error.hint or "")
    assert error.line == 1
    error = error_of("g:\n  hosts: {a: }\nplugin:\n  hosts: {b: }\n")
    assert "top-level 'plugin' key" in error.message
    assert error.line == 3


# --- size and time ---------------------------------------------------------------------------


def test_groups_nested_through_aliases_read_without_recursion() -> None:
    # 30 anchors of 40 levels each, each holding the previous one: 1,200 levels of groups
    # from 20 KB, far past the loader's nesting limit (100) and Python's recursion limit.
    lines = []
    for k in range(30):
        inner = f"*A{k - 1}" if k else "{hosts: {deepest: }}"
        for i in reversed(range(40)):
            inner = "{children: {" + f"g{k}_{i}: {inner}" + "}}"
        lines.append(f"a{k}: &A{k} {inner}")
    inv = inventory("\n".join(lines) + "\n")
    assert inv.host("deepest").groups[-3:] == ("a1", "a0", "all")
    assert len(inv.host("deepest").groups) == 30 * 40 + 30 + 1
    assert inv.groups["g0_39"].depth == 30 * 40 + 1  # under a29, g29_0, ... g0_38


def test_ranges_and_aliases_cannot_multiply_the_work_without_bound() -> None:
    many = "g:\n  hosts:\n" + "".join(f"    h{k}x[1:99999]:\n" for k in range(4))
    started = time.perf_counter()
    error = error_of(many)
    assert f"more than {MAX_MEMBERSHIPS:,} host memberships" in error.message
    assert error.line == 5  # refused before the pattern that goes over is expanded into hosts
    aliased = "g:\n  hosts: &H\n    h[1:99999]:\n" + "".join(
        f"g{k}:\n  hosts: *H\n" for k in range(5)
    )
    assert "host memberships" in error_of(aliased).message
    variables = "".join(f"      v{i}: {i}\n" for i in range(MAX_ASSIGNMENTS // 99_999 + 1))
    error = error_of("g:\n  hosts:\n    h[1:99999]:\n" + variables)
    assert f"more than {MAX_ASSIGNMENTS:,} variable assignments" in error.message
    assert time.perf_counter() - started < 30


def test_the_reader_is_linear_in_the_hosts() -> None:
    """The reader alone (the parse is timed with the YAML loader): 50,000 hosts in 100 groups."""
    groups: dict[str, Any] = {
        f"g{g}": {
            "vars": {"site": f"s{g}"},
            "hosts": {f"h{g}-{h}": {"ansible_host": f"10.0.{g}.{h}"} for h in range(500)},
        }
        for g in range(100)
    }
    document = LocatedDocument({"all": {"children": groups}}, {}, SOURCE)
    data = InventoryData()
    started = time.perf_counter()
    read_yaml_inventory(document, SOURCE, data, [])
    assert time.perf_counter() - started < 10  # some 1 s on the CI machine
    assert len(data.hosts) == 50_000


# --- compared live with Ansible ---------------------------------------------------------------


def _ansible_tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _ansible_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "ANSIBLE_HOME": str(tmp_path / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
        "ANSIBLE_CONFIG": str(tmp_path / "no-ansible.cfg"),
        # the yaml plugin alone, and a file it cannot read is an error, not a warning
        "ANSIBLE_INVENTORY_ENABLED": "yaml",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
    }


def ansible_list(tmp_path: Path, text: str) -> dict[str, Any] | None:
    """`ansible-inventory --list` of the text, or None when Ansible refuses it."""
    pytest.importorskip("ansible")
    tool = _ansible_tool("ansible-inventory")
    if tool is None:
        pytest.skip("ansible-inventory is not installed")
    path = tmp_path / "hosts.yml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [tool, "-i", str(path), "--list"],
        capture_output=True,
        text=True,
        env=_ansible_env(tmp_path),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return None
    listed: dict[str, Any] = json.loads(done.stdout)
    return listed


def ansible_order(tmp_path: Path) -> list[str]:
    """`ansible all --list-hosts` on the file `ansible_list` wrote: Ansible's host order."""
    tool = _ansible_tool("ansible")
    if tool is None:
        pytest.skip("ansible is not installed")
    done = subprocess.run(
        [tool, "-i", str(tmp_path / "hosts.yml"), "all", "--list-hosts"],
        capture_output=True,
        text=True,
        env=_ansible_env(tmp_path),
        timeout=120,
        check=True,
    )
    return [line.strip() for line in done.stdout.splitlines()[1:] if line.strip()]


def as_ansible_lists_it(inv: Inventory) -> dict[str, Any]:
    """Our inventory in the shape of `ansible-inventory --list` (JSON values, empty parts left
    out, `all` without its hosts: ansible-core's `_json_inventory`)."""
    listed: dict[str, Any] = {}
    for name, group in inv.groups.items():
        entry: dict[str, Any] = {}
        if group.children:
            entry["children"] = list(group.children)
        if group.hosts and name != "all":
            entry["hosts"] = list(group.hosts)
        listed[name] = entry
    hostvars = {host.name: _as_json(dict(host.vars)) for host in inv.hosts if host.vars}
    listed["_meta"] = {"hostvars": hostvars, "profile": "inventory_legacy"}
    return listed


def _as_json(value: Any) -> Any:
    """A value as ansible-inventory prints it: `!unsafe` text marked, dates as text."""
    if isinstance(value, UnsafeText):
        return {"__ansible_unsafe": str(value)}
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


LIVE = {
    "plugin example": PLUGIN_EXAMPLE,
    "fleet": FLEET,
    "values": """\
g:
  hosts:
    h:
      port: 5986
      flag: yes
      text: '0042'
      looks_like_a_list: "[1, 2]"
      octal: 017
      built: 2024-01-01
      nothing:
      items: [a, 1]
      nested: {a: {b: c}}
      tpl: !unsafe '{{ x }}'
""",
    "sections as text, null groups, all in the middle": """\
g:
  hosts: a
  vars: x
  children: c
empty:
all:
  vars: {x: 2, z: 2}
  hosts:
    lonely:
g2:
  children:
    g:
      vars: {y: 3}
""",
    "ports, priority, aliases, merge keys": """\
base: &base
  vars: &defaults
    ansible_connection: winrm
a:
  hosts:
    h:2222:
    i:
      <<: *defaults
      ansible_port: 5985
  vars: {x: a, ansible_group_priority: 10}
b:
  hosts: &shared
    h:2201:
      x2: 1
    j:
  vars: {x: b}
c:
  hosts: *shared
  children:
    base:
""",
    "ranges and addresses": """\
g:
  hosts:
    web[01:10:3].corp:
    db-[a:c]:
    10.0.0.[1:2]:2200:
    2001:db8::[1:2]:
    "[2001:db8::9]:5986":
    mail server:
      ansible_host: 10.0.0.9
""",
}


@pytest.mark.parametrize("name", list(LIVE))
def test_we_read_as_ansible_inventory_lists(tmp_path: Path, name: str) -> None:
    text = LIVE[name]
    theirs = ansible_list(tmp_path, text)
    assert theirs is not None, "Ansible refused an inventory we read"
    inv = inventory(text)
    ours = as_ansible_lists_it(inv)
    assert {k: v for k, v in ours.items() if v or k in theirs} == theirs
    assert [host.name for host in inv.hosts] == ansible_order(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "- a\n- b\n",
        "g:\n  hosts: [a, b]\n",
        "g:\n  hosts:\n    a: 5\n",
        "g:\n  hosts:\n    1:\n",
        "1:\n  hosts: {a: }\n",
        "plugin: aws_ec2\n",
        "all:\n  children:\n    g: 5\n",
        "g:\n  hosts:\n    f[01:3]:\n",
    ],
)
def test_what_ansible_refuses_we_refuse(tmp_path: Path, text: str) -> None:
    assert ansible_list(tmp_path, text) is None
    error_of(text)
