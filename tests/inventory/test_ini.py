"""Ansible INI inventories: parsing as Ansible does, precedence, connections, --limit, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.connect.credentials import Secret
from remediate.errors import InputError
from remediate.inventory import ini as inventory_module
from remediate.inventory.ini import (
    MAX_RANGE_HOSTS,
    Host,
    Inventory,
    connection_kind,
    connection_settings,
    describe,
    expand_range,
    load_inventory,
    parse_inventory,
    select_hosts,
    shell_dialect,
    split_pattern,
)
from remediate.transport.ssh import SshSettings
from remediate.transport.winrm import WinRMSettings

FLEET = """\
# Production Exchange fleet, as used with ansible-playbook -i hosts.ini
; a semicolon starts a comment too
jump.corp.local ansible_host=10.1.0.4 ansible_connection=ssh ansible_user=audit

[mailbox]
exch[01:03].corp.local
exch10.corp.local:5985    # legacy box, HTTP only
exch11.corp.local ansible_host=10.1.2.11 ansible_port=5986 maintenance=True site="'0042'"

[edge]  # DMZ
edge-[a:b].dmz.local ansible_winrm_server_cert_validation=ignore
[2001:db8::25]:5986 ansible_winrm_message_encryption=always

[exchange:children]
mailbox
edge

[legacy]
ex2003.corp.local ansible_winrm_transport=basic ansible_port=5985 ansible_password="'P@ss #2003'"

[mailbox:vars]
ansible_winrm_read_timeout_sec=70
ansible_winrm_operation_timeout_sec=60
site = paris

[exchange:vars]
ansible_winrm_ca_trust_path=/etc/pki/corp-ca.pem
site=lyon
patch_window=Sunday 02:00 # a :vars value runs to the end of the line

[all:vars]
ansible_connection=winrm
ansible_user=CORP\\svc_audit
ansible_password=Summer2024!
ansible_winrm_transport=ntlm
"""

ORDER = [
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


def write(tmp_path: Path, text: str, name: str = "hosts.ini") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def fleet_path(tmp_path: Path) -> Path:
    return write(tmp_path, FLEET)


@pytest.fixture
def fleet(fleet_path: Path) -> Inventory:
    return load_inventory(fleet_path)


def load(tmp_path: Path, text: str) -> Inventory:
    return load_inventory(write(tmp_path, text))


def names(hosts: list[Host]) -> list[str]:
    return [host.name for host in hosts]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# --- a realistic inventory ------------------------------------------------------------------


def test_hosts_come_in_ansibles_order_for_all(fleet: Inventory) -> None:
    assert names(list(fleet.hosts)) == ORDER


def test_groups_children_and_membership(fleet: Inventory, fleet_path: Path) -> None:
    groups = fleet.groups
    assert list(groups) == ["all", "ungrouped", "mailbox", "edge", "exchange", "legacy"]
    assert groups["all"].children == ("ungrouped", "exchange", "legacy")
    assert groups["exchange"].children == ("mailbox", "edge")
    assert groups["mailbox"].parents == ("exchange",)
    assert groups["ungrouped"].hosts == ("jump.corp.local",)
    assert [groups[g].depth for g in ("all", "exchange", "mailbox", "legacy")] == [0, 1, 2, 1]
    assert groups["edge"].source is not None
    assert groups["edge"].source.line == line_of(FLEET, "[edge]")
    assert fleet.host("exch02.corp.local").groups == ("mailbox", "exchange", "all")
    assert fleet.host("jump.corp.local").groups == ("ungrouped", "all")
    assert fleet.path == str(fleet_path)


def test_variables_are_merged_and_typed_as_ansible_does(fleet: Inventory) -> None:
    exch01 = fleet.host("exch01.corp.local")
    assert dict(exch01.vars) == {
        "ansible_connection": "winrm",
        "ansible_user": "CORP\\svc_audit",
        "ansible_password": "Summer2024!",
        "ansible_winrm_transport": "ntlm",
        "ansible_winrm_ca_trust_path": "/etc/pki/corp-ca.pem",
        "site": "paris",
        "patch_window": "Sunday 02:00 # a :vars value runs to the end of the line",
        "ansible_winrm_read_timeout_sec": 70,
        "ansible_winrm_operation_timeout_sec": 60,
    }
    exch11 = fleet.host("exch11.corp.local")
    assert exch11.vars["maintenance"] is True
    assert exch11.vars["site"] == "0042"
    assert exch11.vars["ansible_port"] == 5986
    assert (exch11.address, exch11.port) == ("10.1.2.11", 5986)
    ex2003 = fleet.host("ex2003.corp.local")
    assert ex2003.vars["ansible_password"] == "P@ss #2003"


def test_every_variable_knows_its_file_and_line(fleet: Inventory, fleet_path: Path) -> None:
    exch01 = fleet.host("exch01.corp.local")
    assert str(exch01.origin("site")) == f"{fleet_path}:{line_of(FLEET, 'site = paris')}"
    assert exch01.origin("ansible_user").line == line_of(FLEET, "ansible_user=CORP")
    exch10 = fleet.host("exch10.corp.local")
    assert exch10.origin("ansible_port").line == line_of(FLEET, "exch10")
    assert exch10.source is not None and exch10.source.line == line_of(FLEET, "exch10")


def test_connection_settings_of_the_fleet(fleet: Inventory) -> None:
    exch01 = connection_settings(fleet.host("exch01.corp.local"))
    assert exch01 == WinRMSettings(
        address="exch01.corp.local",
        port=5986,
        scheme="https",
        auth="ntlm",
        username="CORP\\svc_audit",
        password="Summer2024!",
        validate_certificate=True,
        ca_trust_path="/etc/pki/corp-ca.pem",
        message_encryption="auto",
        operation_timeout=60,
        read_timeout=70,
    )
    exch10 = connection_settings(fleet.host("exch10.corp.local"))
    assert isinstance(exch10, WinRMSettings)
    assert exch10.endpoint == "http://exch10.corp.local:5985/wsman"
    edge = connection_settings(fleet.host("edge-b.dmz.local"))
    assert isinstance(edge, WinRMSettings)
    assert edge.validate_certificate is False
    assert (edge.operation_timeout, edge.read_timeout) == (20, 30)
    ipv6 = connection_settings(fleet.host("2001:db8::25"))
    assert isinstance(ipv6, WinRMSettings)
    assert ipv6.endpoint == "https://[2001:db8::25]:5986/wsman"
    assert ipv6.message_encryption == "always"
    jump = connection_settings(fleet.host("jump.corp.local"))
    assert jump == SshSettings(
        address="10.1.0.4", port=22, username="audit", password="Summer2024!"
    )


def test_basic_over_http_is_refused_unless_opted_in(fleet: Inventory, fleet_path: Path) -> None:
    ex2003 = fleet.host("ex2003.corp.local")
    with pytest.raises(InputError) as caught:
        connection_settings(ex2003)
    message = str(caught.value)
    assert f"{fleet_path}:{line_of(FLEET, 'ex2003')}: ex2003.corp.local:" in message
    assert "--allow-insecure" in message and "plaintext" in message
    allowed = connection_settings(ex2003, allow_insecure=True)
    assert isinstance(allowed, WinRMSettings)
    assert (allowed.scheme, allowed.auth, allowed.password) == ("http", "basic", "P@ss #2003")


# --- parsing details ------------------------------------------------------------------------


def test_comments_and_quoting_on_host_lines(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        "# full-line comment\n"
        "  ; indented semicolon comment\n"
        "a.local x=1 # trailing comment y=2\n"
        "b.local note='hash # kept' pw=\"it's\" user=CORP\\\\admin raw=CORP\\admin "
        "glued=ab#cd z=1\n",
    )
    assert dict(inv.host("a.local").vars) == {"x": 1}
    b = inv.host("b.local").vars
    assert b["note"] == "hash # kept"
    assert b["pw"] == "it's"
    assert b["glued"] == "ab"  # shlex: '#' ends the word and starts a comment, as in Ansible
    assert b["user"] == "CORP\\admin"
    assert b["raw"] == "CORPadmin"  # an unquoted backslash escapes, as in Ansible
    assert "z" not in b


def test_literal_values_on_host_lines_and_in_vars_sections(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        "[g]\n"
        "h n=5986 b=False s='5986' q=\"'True'\" f=1.5 l=\"[1, 'two']\" d=\"{'k': 1}\" "
        'z=0123 e= t="(1, 2)" none=None\n'
        "[g:vars]\n"
        "upper=FALSE\n"
        "lower=False\n"
        "num=23\n"
        "text = spaced value \n"
        "quoted='23'\n"
        "eq=a=b\n",
    )
    v = inv.host("h").vars
    assert v["n"] == 5986 and isinstance(v["n"], int)
    assert v["b"] is False
    assert v["s"] == 5986  # shlex removes the quotes: quote twice to keep a string
    assert v["q"] == "True"
    assert v["f"] == 1.5
    assert v["l"] == [1, "two"]
    assert v["d"] == {"k": 1}
    assert v["z"] == "0123"
    assert v["e"] == ""
    assert v["t"] == [1, 2]
    assert v["none"] is None
    assert v["upper"] == "FALSE"
    assert v["lower"] is False
    assert v["num"] == 23
    assert v["text"] == "spaced value"
    assert v["quoted"] == "23"
    assert v["eq"] == "a=b"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("exch[01:03].corp.local", ["exch01.corp.local", "exch02.corp.local", "exch03.corp.local"]),
        ("n[01:10:2]", ["n01", "n03", "n05", "n07", "n09"]),
        ("web[8:10]", ["web8", "web9", "web10"]),
        ("w[:2]", ["w0", "w1", "w2"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("x[a:e:2]", ["xa", "xc", "xe"]),
        ("r[1:2]-n[a:b]", ["r1-na", "r1-nb", "r2-na", "r2-nb"]),
        ("10.0.0.[1:3]", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
        ("[1:2]ex", ["1ex", "2ex"]),
    ],
)
def test_host_ranges(tmp_path: Path, pattern: str, expected: list[str]) -> None:
    assert names(list(load(tmp_path, f"[g]\n{pattern}\n").hosts)) == expected


def test_host_port_forms(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        "[g]\n"
        "a.local:5985\n"
        "b.local:5985 ansible_port=5986\n"
        "10.0.0.[1:2]:2222 ansible_connection=ssh\n"
        "[::1]:5986\n"
        "fe80::1\n"
        "[fe80::2] ansible_port=5985\n",
    )
    ports = {host.name: host.port for host in inv.hosts}
    assert ports == {
        "a.local": 5985,
        "b.local": 5986,
        "10.0.0.1": 2222,
        "10.0.0.2": 2222,
        "::1": 5986,
        "fe80::1": None,
        "fe80::2": 5985,
    }


def test_ungrouped_and_all(tmp_path: Path) -> None:
    inv = load(
        tmp_path,
        "lonely\ntwice\n[all]\nexplicit\n[g]\ntwice\n[empty]\n[g:hosts] # explicit type\nthird\n",
    )
    assert inv.groups["ungrouped"].hosts == ("lonely", "explicit")
    assert inv.host("twice").groups == ("g", "all")
    assert inv.host("explicit").groups == ("ungrouped", "all")
    assert names(list(inv.hosts)) == ["explicit", "lonely", "twice", "third"]
    assert inv.groups["empty"].hosts == ()


def test_a_host_listed_twice_merges_its_variables(tmp_path: Path) -> None:
    inv = load(tmp_path, "[a]\nh x=1 y=1\n[b]\nh y=2 z=2\n")
    assert dict(inv.host("h").vars) == {"x": 1, "y": 2, "z": 2}
    assert inv.host("h").groups == ("b", "a", "all")


def test_children_and_vars_may_come_before_the_group(tmp_path: Path) -> None:
    inv = load(tmp_path, "[top:children]\nlater\n[later:vars]\nv=1\n[later]\nh\n")
    assert inv.groups["top"].children == ("later",)
    assert inv.host("h").vars["v"] == 1
    assert inv.host("h").groups == ("later", "top", "all")


def test_windows_files_with_bom_crlf_and_latin1_comment(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_bytes(b"\xef\xbb\xbf[web]\r\n# caf\xe9 comment\r\nexch01 a=1\r\n")
    inv = load_inventory(path)
    assert names(list(inv.hosts)) == ["exch01"]


# --- precedence -----------------------------------------------------------------------------


PRECEDENCE = """\
[parent:children]
child
[child]
h1 v=host
h2
[other]
h2
[parent:vars]
v=parent
w=parent
[child:vars]
v=child
w=child
[all:vars]
v=all
w=all
u=all
"""


def test_host_beats_child_beats_parent_beats_all(tmp_path: Path) -> None:
    inv = load(tmp_path, PRECEDENCE)
    h1, h2 = inv.host("h1").vars, inv.host("h2").vars
    assert (h1["v"], h1["w"], h1["u"]) == ("host", "child", "all")
    assert (h2["v"], h2["w"], h2["u"]) == ("child", "child", "all")
    assert inv.host("h1").origin("w").line == line_of(PRECEDENCE, "w=child")


def test_same_depth_groups_merge_alphabetically(tmp_path: Path) -> None:
    text = "[zeta]\nh\n[alpha]\nh\n[zeta:vars]\nv=zeta\n[alpha:vars]\nv=alpha\n"
    inv = load(tmp_path, text)
    assert inv.host("h").vars["v"] == "zeta"
    assert inv.host("h").groups == ("zeta", "alpha", "all")


def test_group_priority_beats_the_alphabet(tmp_path: Path) -> None:
    text = "[zeta]\nh\n[alpha]\nh\n[zeta:vars]\nv=zeta\n[alpha:vars]\nv=alpha\n"
    inv = load(tmp_path, text + "ansible_group_priority=10\n")
    assert inv.host("h").vars["v"] == "alpha"
    assert "ansible_group_priority" not in inv.host("h").vars
    assert inv.groups["alpha"].priority == 10


def test_depth_beats_the_alphabet(tmp_path: Path) -> None:
    text = "[zz_parent:children]\naa_child\n[aa_child]\nh\n[zz_parent:vars]\nv=parent\n"
    inv = load(tmp_path, text + "[aa_child:vars]\nv=child\n")
    assert inv.host("h").vars["v"] == "child"


def test_the_deepest_path_sets_the_depth(tmp_path: Path) -> None:
    text = (
        "[a:children]\nb\n[b:children]\nc\n[x:children]\nc\n[c]\nh\n[b:vars]\nv=b\n[x:vars]\nv=x\n"
    )
    inv = load(tmp_path, text)
    assert inv.groups["c"].depth == 3
    assert inv.groups["x"].depth == 1
    assert inv.host("h").vars["v"] == "b"  # b (depth 2) is deeper than x (depth 1)


# --- connection settings --------------------------------------------------------------------


def settings_for(tmp_path: Path, host_vars: str, **options: object) -> WinRMSettings | SshSettings:
    inv = load(tmp_path, f"[g]\nh {host_vars}\n")
    return connection_settings(inv.host("h"), **options)  # type: ignore[arg-type]


def test_winrm_defaults(tmp_path: Path) -> None:
    assert settings_for(tmp_path, "") == WinRMSettings(address="h")


@pytest.mark.parametrize(
    ("host_vars", "endpoint"),
    [
        ("ansible_port=5985", "http://h:5985/wsman"),
        ("ansible_port=5985 ansible_winrm_scheme=https", "https://h:5985/wsman"),
        ("ansible_winrm_scheme=http", "http://h:5986/wsman"),
        ("ansible_port=8443", "https://h:8443/wsman"),
        ("ansible_host=10.0.0.9 ansible_winrm_scheme=HTTPS", "https://10.0.0.9:5986/wsman"),
    ],
)
def test_scheme_follows_the_port_unless_set(tmp_path: Path, host_vars: str, endpoint: str) -> None:
    settings = settings_for(tmp_path, host_vars)
    assert isinstance(settings, WinRMSettings)
    assert settings.endpoint == endpoint


def test_timeouts(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "ansible_winrm_operation_timeout_sec=45")
    assert isinstance(settings, WinRMSettings)
    assert (settings.operation_timeout, settings.read_timeout) == (45, 55)
    explicit = settings_for(tmp_path, "ansible_winrm_read_timeout_sec=90")
    assert isinstance(explicit, WinRMSettings)
    assert (explicit.operation_timeout, explicit.read_timeout) == (20, 90)
    with pytest.raises(InputError, match=r"hosts.ini:2: h: the read timeout must be longer"):
        settings_for(
            tmp_path, "ansible_winrm_operation_timeout_sec=30 ansible_winrm_read_timeout_sec=30"
        )


@pytest.mark.parametrize(
    ("host_vars", "auth"),
    [
        ("ansible_winrm_transport=kerberos,ntlm", "kerberos"),
        ("ansible_winrm_transport=\"['credssp', 'ntlm']\"", "credssp"),
        ("ansible_winrm_transport=NTLM", "ntlm"),
        ("ansible_winrm_transport=ssl", "ssl"),
        ("ansible_winrm_transport=basic", "basic"),
        ("ansible_winrm_transport=plaintext ansible_port=5985", "plaintext"),
        ("ansible_connection=psrp ansible_psrp_auth=negotiate", "ntlm"),
    ],
)
def test_transports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_vars: str, auth: str
) -> None:
    monkeypatch.setattr(inventory_module, "_importable", lambda modules: True)
    settings = settings_for(tmp_path, host_vars)
    assert isinstance(settings, WinRMSettings)
    assert settings.auth == auth


def test_psrp_is_winrm_with_its_own_names(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        "ansible_connection=psrp ansible_psrp_protocol=http ansible_port=5985 "
        "ansible_psrp_cert_validation=ignore ansible_psrp_user=psrp_user",
    )
    assert isinstance(settings, WinRMSettings)
    assert (settings.scheme, settings.validate_certificate) == ("http", False)
    assert settings.username == "psrp_user"


@pytest.mark.parametrize(("transport", "extra"), [("kerberos", "kerberos"), ("credssp", "credssp")])
def test_missing_auth_library_names_the_pip_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: str, extra: str
) -> None:
    monkeypatch.setattr(inventory_module, "_importable", lambda modules: False)
    with pytest.raises(InputError) as caught:
        settings_for(tmp_path, f"ansible_winrm_transport={transport}")
    assert caught.value.host == "h"
    assert f"pywinrm[{extra}]" in str(caught.value)
    assert "hosts.ini:2:" in str(caught.value)


def test_basic_over_http_from_a_group_var_names_that_line(tmp_path: Path) -> None:
    text = "[g]\nh ansible_port=5985\n[g:vars]\nansible_winrm_transport=basic\n"
    inv = load(tmp_path, text)
    with pytest.raises(InputError, match=r"hosts.ini:4: h: Basic authentication over plain HTTP"):
        connection_settings(inv.host("h"))


@pytest.mark.parametrize(
    "host_vars",
    [
        "ansible_winrm_transport=basic ansible_port=5985",
        "ansible_winrm_transport=ssl ansible_winrm_scheme=http",
    ],
)
def test_every_basic_over_http_is_refused(tmp_path: Path, host_vars: str) -> None:
    with pytest.raises(InputError, match="--allow-insecure"):
        settings_for(tmp_path, host_vars)
    assert isinstance(settings_for(tmp_path, host_vars, allow_insecure=True), WinRMSettings)


def test_basic_over_https_and_explicit_plaintext_are_allowed(tmp_path: Path) -> None:
    https = settings_for(tmp_path, "ansible_winrm_transport=basic")
    assert isinstance(https, WinRMSettings)
    assert (https.scheme, https.auth) == ("https", "basic")
    plain = settings_for(tmp_path, "ansible_winrm_transport=plaintext ansible_port=5985")
    assert isinstance(plain, WinRMSettings)
    assert (plain.scheme, plain.auth) == ("http", "plaintext")


def test_aliases_and_their_precedence(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        "ansible_user=generic ansible_winrm_user=specific ansible_port=1 remediate_port=5985 "
        "ansible_ssh_pass=legacy ansible_host=wrong remediate_host=10.9.9.9",
    )
    assert isinstance(settings, WinRMSettings)
    assert (settings.username, settings.password) == ("specific", "legacy")
    assert (settings.address, settings.port, settings.scheme) == ("10.9.9.9", 5985, "http")
    legacy = settings_for(tmp_path, "ansible_ssh_user=old ansible_ssh_host=10.0.0.1")
    assert isinstance(legacy, WinRMSettings)
    assert (legacy.username, legacy.address) == ("old", "10.0.0.1")
    ours = settings_for(tmp_path, "ansible_password=a ansible_winrm_pass=b remediate_password=c")
    assert isinstance(ours, WinRMSettings)
    assert ours.password == "c"


def test_password_argument_is_used_only_when_the_inventory_has_none(tmp_path: Path) -> None:
    given = settings_for(tmp_path, "", password=Secret("from-env"))
    assert isinstance(given, WinRMSettings) and given.password == "from-env"
    kept = settings_for(tmp_path, "ansible_password=inline", password="from-env")
    assert isinstance(kept, WinRMSettings) and kept.password == "inline"


def test_ssh_settings(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path,
        "ansible_connection=ssh ansible_ssh_port=2222 ansible_user=admin "
        "ansible_ssh_private_key_file=~/.ssh/id_ed25519 remediate_known_hosts=/lab/known_hosts",
        accept_new_host_keys=True,
        known_hosts=["/cli/known_hosts"],
    )
    assert settings == SshSettings(
        address="h",
        port=2222,
        username="admin",
        password=None,
        key_file=str(Path("~/.ssh/id_ed25519").expanduser()),
        known_hosts=("/lab/known_hosts", "/cli/known_hosts"),
        accept_new_host_keys=True,
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [("winrm", "winrm"), ("psrp", "winrm"), ("ssh", "ssh"), ("paramiko", "ssh"),
     ("ansible.windows.psrp", "winrm"), ("ansible.builtin.ssh", "ssh")],
)  # fmt: skip
def test_connection_kinds(tmp_path: Path, value: str, kind: str) -> None:
    inv = load(tmp_path, f"h ansible_connection={value}\n")
    assert connection_kind(inv.host("h")) == kind


def test_shell_dialect(tmp_path: Path) -> None:
    inv = load(
        tmp_path, "a remediate_shell=wsh\nb remediate_shell=PowerShell\nc\nd remediate_shell=cmd\n"
    )
    assert [shell_dialect(inv.host(n)) for n in "abc"] == ["wsh", "powershell", None]
    with pytest.raises(InputError, match=r"hosts.ini:4: d: remediate_shell='cmd' is not a shell"):
        shell_dialect(inv.host("d"))


# --- describe -------------------------------------------------------------------------------


def test_describe_masks_every_secret(fleet: Inventory) -> None:
    host = fleet.host("exch01.corp.local")
    extra = {
        "vault_token": "tok-123",
        "api_secret": "sec-456",
        "ansible_ssh_private_key_password": "kp-789",
        "remediate_password": "rp-000",
    }
    host = Host(
        host.name,
        host.address,
        host.port,
        {**host.vars, **extra},
        host.groups,
        {**host.origins, **dict.fromkeys(extra, host.origins["site"])},
    )
    rows = describe(host, connection_settings(host))
    text = "\n".join(f"{key}={value}" for key, value in rows)
    for secret in ("Summer2024!", "rp-000", *extra.values()):
        assert secret not in text
    shown = dict(rows)
    assert shown["password"] == "***"
    assert shown["ansible_password"].startswith("***")
    assert shown["vault_token"].startswith("***")
    assert shown["endpoint"] == "https://exch01.corp.local:5986/wsman"
    assert shown["site"].startswith("'paris'") and "hosts.ini:" in shown["site"]
    assert "Summer2024!" not in repr(host) and "Summer2024!" not in repr(fleet)


def test_describe_ssh_and_without_settings(fleet: Inventory) -> None:
    jump = fleet.host("jump.corp.local")
    shown = dict(describe(jump, connection_settings(jump)))
    assert (shown["connection"], shown["endpoint"]) == ("ssh", "ssh://10.1.0.4:22")
    assert shown["password"] == "***"
    assert "connection" not in dict(describe(jump, None))


# --- bad input: always InputError with file:line --------------------------------------------


BAD_INVENTORIES = [
    ("[web]\nh\n[ghost:vars]\nx=1\n", 3, "Section [ghost:vars] not valid for undefined group"),
    ("[top:children]\nweb\nghost\n[web]\nh\n", 3, "includes undefined group 'ghost'"),
    ("[web]\nweb[3:1]\n", 2, "begin <= end"),
    ("[web]\nweb[z:a]\n", 2, "begin <= end"),
    ("[web]\nweb[1:5:0]\n", 2, "step"),
    ("[web]\nweb[01:5]\n", 2, "same length"),
    ("[web]\nweb[a:5]\n", 2, "two numbers or two letters"),
    ("[web]\nweb[1]\n", 2, "begin:end"),
    ("[web]\nweb[1:3\n", 2, "unterminated"),
    (f"[web]\nweb[0:{MAX_RANGE_HOSTS}]\n", 2, "at most"),
    ("[web]\nh[0:999][0:999]\n", 2, "at most"),
    ('\n[web]\nh user="unterminated\n', 3, "no closing quotation"),
    ("[web]\nh trailing\\\n", 2, "no escaped character"),
    ("[web]\nh:99999\n", 2, "ports are 1 to 65535"),
    ("[web]\nh:0\n", 2, "ports are 1 to 65535"),
    ("[web]\nh:abc\n", 2, "bad port"),
    ("[web]\nh:\n", 2, "gives no port"),
    ("[web]\nh ansible_port=abc\n", 2, "ansible_port='abc' is not a port"),
    ("[web]\nh\n[web:vars]\n\nansible_port=70000\n", 5, "is not a port"),
    ("[web]\nh ansible_port=True\n", 2, "is not a port"),
    ('[web]\nh ansible_host="[1]"\n', 2, "is not a string"),
    ("[web]\nh novalue\n", 2, "expected key=value"),
    ("[web]\nh =1\n", 2, "no name"),
    ("[web:vars]\njust_a_word\n[web]\n", 2, "expected key=value"),
    ("[web:bogus]\n", 1, "unknown type"),
    ("[bad section]\n", 1, "invalid section header"),
    ("[a:children]\nb\n[b:children]\na\n", 4, "loop"),
    ("[a:children]\na\n", 2, "loop"),
    ("[a:children]\nall\n", 2, "cannot be a child"),
    ("[a:children]\nb c\n", 2, "expected a group name"),
    ("[a]\nh\n[a:vars]\nansible_group_priority=high\n", 4, "must be a number"),
    ("---\n", 1, "YAML"),
    ('[web]\n""\n', 2, "empty host name"),
    ("[web]\nx]y[1:2]\n", 2, "unbalanced"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_INVENTORIES)
def test_bad_inventories_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert (caught.value.file, caught.value.line) == (str(path), line)
    assert message.lower() in str(caught.value).lower()


def test_unreadable_inventories(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the inventory"):
        load_inventory(tmp_path / "missing.ini")
    with pytest.raises(InputError, match="is a directory"):
        load_inventory(tmp_path)
    bad = tmp_path / "latin1.ini"
    bad.write_bytes(b"[web]\ncaf\xe9\n")
    with pytest.raises(InputError, match=r"latin1.ini:2: the line is not UTF-8"):
        load_inventory(bad)


@pytest.mark.parametrize(
    ("host_vars", "var", "group_value"),
    [
        ("ansible_winrm_transport=digest", "ansible_winrm_transport", "digest"),
        ("ansible_winrm_transport=certificate", "ansible_winrm_transport", "certificate"),
        ("ansible_connection=local", "ansible_connection", "local"),
        ("ansible_winrm_scheme=ftp", "ansible_winrm_scheme", "ftp"),
        ("ansible_winrm_server_cert_validation=no", "ansible_winrm_server_cert_validation", "no"),
        ("ansible_winrm_message_encryption=x", "ansible_winrm_message_encryption", "x"),
        ("ansible_winrm_operation_timeout_sec=-5", "ansible_winrm_operation_timeout_sec", "0"),
        ("ansible_user=\"['a']\"", "ansible_user", "['b']"),
    ],
)
def test_bad_connection_variables_name_where_they_were_set(
    tmp_path: Path, host_vars: str, var: str, group_value: str
) -> None:
    text = f"[g]\nother\n[g:vars]\nsite=x\n{var}={group_value}\n[h]\nh {host_vars}\n"
    inv = load(tmp_path, text)
    with pytest.raises(InputError) as caught:
        connection_settings(inv.host("h"))
    assert str(caught.value).startswith(f"{tmp_path / 'hosts.ini'}:7: h: {var}=")
    with pytest.raises(InputError) as from_group:
        connection_settings(inv.host("other"))
    assert str(from_group.value).startswith(f"{tmp_path / 'hosts.ini'}:5: other: {var}=")


# --- --limit patterns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("all", ORDER),
        ("*", ORDER),
        ("exch02.corp.local", ["exch02.corp.local"]),
        ("mailbox", ORDER[2:7]),
        ("exchange", ORDER[2:]),
        ("ungrouped", ["jump.corp.local"]),
        ("exch0*", ORDER[2:5]),
        ("exch1?.corp.local", ["exch10.corp.local", "exch11.corp.local"]),
        ("~exch1[01]", ["exch10.corp.local", "exch11.corp.local"]),
        ("~.*\\.dmz\\.", ["edge-a.dmz.local", "edge-b.dmz.local"]),
        ("edge:legacy", [*ORDER[7:], "ex2003.corp.local"]),
        ("legacy,edge", ["ex2003.corp.local", *ORDER[7:]]),
        ("legacy, exch01.corp.local , edge-a.dmz.local", [ORDER[1], ORDER[2], ORDER[7]]),
        ("exchange:&edge", ORDER[7:]),
        ("exchange:!edge", ORDER[2:7]),
        ("!edge,&exchange,all", ORDER[2:7]),
        ("&legacy", ["ex2003.corp.local"]),
        ("!mailbox", [ORDER[0], ORDER[1], *ORDER[7:]]),
        ("all:!exchange:!jump*", ["ex2003.corp.local"]),
        ("mailbox[0]", ["exch01.corp.local"]),
        ("mailbox[-1]", ["exch11.corp.local"]),
        ("mailbox[1:2]", ["exch02.corp.local", "exch03.corp.local"]),
        ("mailbox[3:]", ["exch10.corp.local", "exch11.corp.local"]),
        ("2001:db8::25", ["2001:db8::25"]),
        ("exch01.corp.local,exch01.corp.local,mailbox[0]", ["exch01.corp.local"]),
    ],
)
def test_limit_patterns(fleet: Inventory, pattern: str, expected: list[str]) -> None:
    assert names(select_hosts(fleet, pattern)) == expected


def test_limit_retry_file(fleet: Inventory, tmp_path: Path) -> None:
    retry = tmp_path / "site.retry"
    retry.write_text("exch03.corp.local\n\nedge-b.dmz.local\n", encoding="utf-8")
    assert names(select_hosts(fleet, f"@{retry}")) == ["exch03.corp.local", "edge-b.dmz.local"]
    assert names(select_hosts(fleet, f"@{retry},!edge")) == ["exch03.corp.local"]
    with pytest.raises(InputError, match="limit file"):
        select_hosts(fleet, f"@{tmp_path / 'missing.retry'}")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("nosuchhost", "matches no host or group"),
        ("mailbox:!nosuch", "matches no host or group"),
        ("mailbox:&edge", "selects no host"),
        ("all:!all", "selects no host"),
        ("~(unclosed", "invalid host pattern"),
        ("mailbox[9]", "subscripted pattern"),
        ("", "empty"),
        (" , ", "empty"),
        ("mailbox,!", "names nothing"),
    ],
)
def test_limit_errors(fleet: Inventory, pattern: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        select_hosts(fleet, pattern)


def test_split_pattern_as_ansible() -> None:
    assert split_pattern("a:b:&c:!d") == ["a", "b", "&c", "!d"]
    assert split_pattern("a, b ,c") == ["a", "b", "c"]
    assert split_pattern("web[1:3]:db") == ["web[1:3]", "db"]
    assert split_pattern("fe80::1") == ["fe80::1"]
    assert split_pattern("host.local:5986") == ["host.local:5986"]


# --- fuzzing --------------------------------------------------------------------------------

FRAGMENTS = [
    "[web]", "[web:vars]", "[web:children]", "[db]", "[all:vars]", "[x:y]", "[", "]", "=",
    "h", "h[1:3]", "h[01:03]", "[a:c]", "[3:1]", "[::1]:22", ":5985", ":", "#", ";", " ", "\t",
    "'", '"', "\\", "a=1", "b='x y'", "c=[1,", "d={'k':", "ansible_port=", "ansible_port=5986",
    "ansible_group_priority=", "1e999", "0x" + "f" * 4000, "\u00e9", "\u2028", "\x00", "---",
    "web", "db", "all", "ungrouped", "[" * 300, "(" * 300, "-" * 50 + "1",
]  # fmt: skip


def assemble(parts: list[list[str]]) -> str:
    return "\n".join("".join(line) for line in parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_fuzz_any_text_parses_or_is_an_input_error(text: str) -> None:
    try:
        inv = parse_inventory(text, "fuzz.ini")
    except InputError as exc:
        assert exc.file == "fuzz.ini"
    else:
        assert set(inv.groups) >= {"all", "ungrouped"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=6), max_size=12)
)
def test_fuzz_inventory_like_text_parses_or_is_an_input_error(parts: list[list[str]]) -> None:
    try:
        inv = parse_inventory(assemble(parts), "fuzz.ini")
    except InputError as exc:
        assert exc.file == "fuzz.ini" and exc.line is not None
    else:
        all_hosts = inv.hosts_of("all")
        assert sorted(all_hosts) == sorted(host.name for host in inv.hosts)
        assert len(set(all_hosts)) == len(all_hosts)


PATTERN_PARTS = [
    "all", "mailbox", "edge", "exchange", "legacy", "ungrouped", "exch0*", "~exch", "~(", "*",
    "?", "[0]", "[1:2]", "[-1]", "[", "]", ":", ",", "&", "!", " ", ".", "2001:db8::25",
    "exch01.corp.local", "jump.corp.local",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PATTERN_PARTS) | st.text(max_size=4), max_size=8))
def test_fuzz_limit_patterns(parts: list[str]) -> None:
    pattern = "".join(parts).replace("@", "")
    inv = parse_inventory(FLEET, "hosts.ini")
    try:
        chosen = select_hosts(inv, pattern)
    except InputError:
        return
    chosen_names = names(chosen)
    assert chosen_names and len(set(chosen_names)) == len(chosen_names)
    assert set(chosen_names) <= set(ORDER)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=500),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=1, max_value=7),
    st.integers(min_value=2, max_value=4),
)
def test_fuzz_numeric_ranges(first: int, span: int, step: int, width: int) -> None:
    last = first + span
    pattern = f"n[{first:0{width}d}:{last:0{width}d}:{step}]x"
    padded = f"{first:0{width}d}".startswith("0")
    expected = [f"n{v:0{width}d}x" if padded else f"n{v}x" for v in range(first, last + 1, step)]
    if len(f"{first:0{width}d}") != len(f"{last:0{width}d}") and padded:
        with pytest.raises(ValueError):
            expand_range(pattern)
    else:
        assert expand_range(pattern) == expected
