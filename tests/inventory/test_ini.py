"""Ansible INI inventories: parsing as Ansible does, precedence, errors with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.errors import InputError
from remediate.inventory import Inventory, load_inventory, parse_inventory
from remediate.inventory.ini import MAX_RANGE_HOSTS, expand_range
from tests.inventory.samples import FLEET, ORDER, line_of, load, names, write


@pytest.fixture
def fleet_path(tmp_path: Path) -> Path:
    return write(tmp_path, FLEET)


@pytest.fixture
def fleet(fleet_path: Path) -> Inventory:
    return load_inventory(fleet_path)


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
    ex2003 = fleet.host("ex2003.corp.local")
    assert ex2003.vars["ansible_password"] == "P@ss #2003"


def test_every_variable_knows_its_file_and_line(fleet: Inventory, fleet_path: Path) -> None:
    exch01 = fleet.host("exch01.corp.local")
    assert str(exch01.origin("site")) == f"{fleet_path}:{line_of(FLEET, 'site = paris')}"
    assert exch01.origin("ansible_user").line == line_of(FLEET, "ansible_user=CORP")
    exch10 = fleet.host("exch10.corp.local")
    assert exch10.origin("ansible_port").line == line_of(FLEET, "exch10")
    assert exch10.source is not None and exch10.source.line == line_of(FLEET, "exch10")


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
    ports = {host.name: host.vars.get("ansible_port") for host in inv.hosts}
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


def test_connection_variables_are_read_not_interpreted(tmp_path: Path) -> None:
    """The parser types `ansible_port` and `ansible_host`; judging them is `connect`'s part."""
    inv = load(tmp_path, '[web]\nh ansible_port=abc ansible_host="[1]"\n[web:vars]\nx=1\n')
    assert (inv.host("h").vars["ansible_port"], inv.host("h").vars["ansible_host"]) == ("abc", [1])
    assert not hasattr(inv.host("h"), "address") and not hasattr(inv.host("h"), "port")


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
