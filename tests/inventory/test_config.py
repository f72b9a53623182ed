"""ansible.cfg: which file, how it reads, which inventory a run without one uses (issue 14).

Where ansible-core is installed, the same layouts and files go through its own
`find_ini_config_file` and `ConfigManager`, and the answers must agree.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.errors import InputError
from remediate.inventory.config import (
    AnsibleConfig,
    _parse_ini,
    default_sources,
    expand_path,
    find_config,
    list_setting,
    read_config,
)


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """A project directory, a home and a system directory, none holding a config yet."""
    places = {name: tmp_path / name for name in ("project", "home", "etc", "elsewhere")}
    for place in places.values():
        place.mkdir(mode=0o755)
        place.chmod(0o755)  # whatever the umask: world-writability is tested on purpose
    return places


def cfg(directory: Path, text: str = "[defaults]\n", name: str = "ansible.cfg") -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def found(tree: dict[str, Path], environ: dict[str, str] | None = None) -> Path | None:
    path, _ = find_config(
        environ or {}, tree["project"], tree["home"], system=tree["etc"] / "ansible.cfg"
    )
    return path


# --- find_config ------------------------------------------------------------------------------


def test_the_first_of_env_project_home_system_is_used(tree: dict[str, Path]) -> None:
    system = cfg(tree["etc"])
    assert found(tree) == system
    home = cfg(tree["home"], name=".ansible.cfg")
    assert found(tree) == home
    local = cfg(tree["project"])
    assert found(tree) == local
    chosen = cfg(tree["elsewhere"], name="team.cfg")
    assert found(tree, {"ANSIBLE_CONFIG": str(chosen)}) == chosen


def test_no_config_anywhere_is_none_without_warnings(tree: dict[str, Path]) -> None:
    assert find_config({}, tree["project"], tree["home"], system=tree["etc"] / "x.cfg") == (
        None,
        (),
    )


def test_ansible_config_may_name_a_directory_relative_to_cwd(tree: dict[str, Path]) -> None:
    chosen = cfg(tree["elsewhere"])
    assert found(tree, {"ANSIBLE_CONFIG": "../elsewhere"}) == chosen


def test_ansible_config_expands_tilde_and_variables(tree: dict[str, Path]) -> None:
    chosen = cfg(tree["home"], name="work.cfg")
    assert found(tree, {"ANSIBLE_CONFIG": "~/work.cfg"}) == chosen
    assert found(tree, {"ANSIBLE_CONFIG": "$CFGDIR/work.cfg", "CFGDIR": str(tree["home"])}) == (
        chosen
    )


def test_a_missing_ansible_config_falls_through_with_a_warning(tree: dict[str, Path]) -> None:
    local = cfg(tree["project"])
    path, warnings = find_config(
        {"ANSIBLE_CONFIG": "/nonexistent/site.cfg"},
        tree["project"],
        tree["home"],
        system=tree["etc"] / "ansible.cfg",
    )
    assert path == local
    assert len(warnings) == 1
    assert "ANSIBLE_CONFIG=/nonexistent/site.cfg" in warnings[0]
    assert str(local) in warnings[0]


def test_an_empty_ansible_config_is_unset(tree: dict[str, Path]) -> None:
    home = cfg(tree["home"], name=".ansible.cfg")
    assert find_config({"ANSIBLE_CONFIG": ""}, tree["project"], tree["home"]) == (home, ())


def test_a_world_writable_directory_s_config_is_ignored_with_a_warning(
    tree: dict[str, Path],
) -> None:
    cfg(tree["project"])
    home = cfg(tree["home"], name=".ansible.cfg")
    tree["project"].chmod(0o777)
    path, warnings = find_config({}, tree["project"], tree["home"], system=tree["etc"] / "x.cfg")
    assert path == home
    assert len(warnings) == 1
    assert "world-writable" in warnings[0]
    assert str(tree["project"] / "ansible.cfg") in warnings[0]
    assert "chmod o-w" in warnings[0]


def test_world_writable_warns_even_when_no_other_config_exists(tree: dict[str, Path]) -> None:
    cfg(tree["project"])
    tree["project"].chmod(0o777)
    path, warnings = find_config({}, tree["project"], tree["home"], system=tree["etc"] / "x.cfg")
    assert path is None
    assert "world-writable" in warnings[0]


def test_world_writable_but_named_by_ansible_config_is_used_quietly(
    tree: dict[str, Path],
) -> None:
    local = cfg(tree["project"])
    tree["project"].chmod(0o777)
    assert find_config({"ANSIBLE_CONFIG": str(local)}, tree["project"], tree["home"]) == (
        local,
        (),
    )


def test_world_writable_without_a_config_there_says_nothing(tree: dict[str, Path]) -> None:
    tree["project"].chmod(0o777)
    assert find_config({}, tree["project"], tree["home"], system=tree["etc"] / "x.cfg") == (
        None,
        (),
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_config_is_skipped(tree: dict[str, Path]) -> None:
    cfg(tree["project"]).chmod(0)
    home = cfg(tree["home"], name=".ansible.cfg")
    assert found(tree) == home


LAYOUTS = {
    "nothing": ([], {}, False),
    "project only": (["project"], {}, False),
    "home only": (["home"], {}, False),
    "project and home": (["project", "home"], {}, False),
    "env file beats project": (["project", "elsewhere"], {"ANSIBLE_CONFIG": "@elsewhere"}, False),
    "env directory": (["project"], {"ANSIBLE_CONFIG": "../elsewhere"}, False),
    "env missing": (["home"], {"ANSIBLE_CONFIG": "/nonexistent/x.cfg"}, False),
    "world-writable project": (["project", "home"], {}, True),
    "world-writable, env names it": (["project"], {"ANSIBLE_CONFIG": "@project"}, True),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_find_config_agrees_with_ansible(
    layout: str, tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = pytest.importorskip("ansible.config.manager")
    if Path("/etc/ansible/ansible.cfg").exists():
        pytest.skip("this machine has a system-wide ansible.cfg")
    places, environ, world_writable = LAYOUTS[layout]
    names = {"home": ".ansible.cfg"}
    for place in places:
        cfg(tree[place], name=names.get(place, "ansible.cfg"))
    environ = {
        key: str(tree[value[1:]] / "ansible.cfg") if value.startswith("@") else value
        for key, value in environ.items()
    }
    if world_writable:
        tree["project"].chmod(0o777)
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    for key, value in {**environ, "HOME": str(tree["home"])}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tree["project"])
    their_warnings: set[str] = set()
    theirs = manager.find_ini_config_file(their_warnings)

    ours, our_warnings = find_config(
        {**environ, "HOME": str(tree["home"])}, tree["project"], tree["home"]
    )
    assert (str(ours) if ours else None) == theirs
    assert any("world-writable" in w for w in our_warnings) == bool(their_warnings)


# --- read_config: configparser's rules ------------------------------------------------------


def test_relative_paths_are_relative_to_the_config_file(tree: dict[str, Path]) -> None:
    path = cfg(
        tree["project"],
        """\
        [defaults]
        inventory = inventories/prod, ../shared/hosts.ini ,/abs/hosts
        vault_password_file = secrets/../vault-pass.txt
        vault_identity_list = prod@prod.pw, dev@prompt
        """,
    )
    config = read_config(path, cwd=tree["elsewhere"], environ={})
    project = tree["project"]
    assert config == AnsibleConfig(
        path,
        (
            str(project / "inventories/prod"),
            str(tree["project"].parent / "shared/hosts.ini"),
            "/abs/hosts",
        ),
        str(project / "vault-pass.txt"),
        ("prod@prod.pw", "dev@prompt"),
        (),
    )


def test_tilde_variables_and_cwd_are_expanded(tree: dict[str, Path]) -> None:
    path = cfg(
        tree["project"],
        """\
        [defaults]
        inventory = ~/inv, $TEAM/hosts, ${TEAM}x/hosts, $UNSET/h, {{CWD}}/local
        vault_password_file = ~/.vault_pass
        """,
    )
    environ = {"HOME": "/home/ops", "TEAM": "/srv/team"}
    config = read_config(path, environ=environ, cwd=tree["elsewhere"])
    assert config.inventory == (
        "/home/ops/inv",
        "/srv/team/hosts",
        "/srv/teamx/hosts",
        str(tree["project"] / "$UNSET/h"),
        str(tree["elsewhere"] / "local"),
    )
    assert config.vault_password_file == "/home/ops/.vault_pass"


def test_comments_continuations_case_and_percent(tree: dict[str, Path]) -> None:
    path = cfg(
        tree["project"],
        """\
        # a comment
        ; another
        [defaults]
          # an indented comment
        INVENTORY = a%(x)s#1 ; inline comment
            b;c,
            d

        vault_password_file: pw;1 ;comment
        vault_identity_list = x@y # not a comment
        """,
    )
    config = read_config(path, environ={}, cwd=tree["project"])
    project = tree["project"]
    assert config.inventory == (str(project / "a%(x)s#1\nb;c"), str(project / "d"))
    assert config.vault_password_file == str(project / "pw;1")
    assert config.vault_identity_list == ("x@y # not a comment",)


def test_a_default_section_feeds_defaults_only_when_defaults_exists(
    tree: dict[str, Path],
) -> None:
    with_defaults = cfg(tree["project"], "[DEFAULT]\ninventory = hosts\n[defaults]\n")
    assert read_config(with_defaults).inventory == (str(tree["project"] / "hosts"),)
    alone = cfg(tree["elsewhere"], "[DEFAULT]\ninventory = hosts\n[Defaults]\ninventory = x\n")
    assert read_config(alone).inventory == ()


def test_empty_entries_and_quotes_warn(tree: dict[str, Path]) -> None:
    path = cfg(
        tree["project"],
        """\
        [defaults]
        inventory = hosts,
        vault_password_file = "pw.txt"
        vault_identity_list = 'a@b', ,"c@d"
        """,
    )
    config = read_config(path, environ={}, cwd=tree["project"])
    assert config.inventory == (str(tree["project"] / "hosts"),)
    assert config.vault_password_file == str(tree["project"] / '"pw.txt"')  # as Ansible
    assert config.vault_identity_list == ("a@b", "c@d")
    assert len(config.warnings) == 3
    assert "empty entry in `inventory`" in config.warnings[0]
    assert "quotes" in config.warnings[1]


def test_an_empty_password_file_setting_is_ignored_with_a_warning(tree: dict[str, Path]) -> None:
    config = read_config(cfg(tree["project"], "[defaults]\nvault_password_file =\n"))
    assert config.vault_password_file is None
    assert "vault_password_file` is empty" in config.warnings[0]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("inventory = x\n", 1, "before the first [section]"),
        ("[defaults]\ninventory = a\nINVENTORY = b\n", 3, "set twice"),
        ("[defaults]\n[other]\n[defaults]\n", 3, "appears twice"),
        ("[defaults]\njust words\n", 2, "not a setting"),
        ("[defaults]\n= value\n", 2, "has no name"),
        ("[defaults]\n[]\n", 2, "not a setting"),
        ("\ufeff[defaults]\n", 1, "byte-order mark"),
    ],
)
def test_a_config_ansible_refuses_is_an_error_naming_file_and_line(
    tree: dict[str, Path], text: str, line: int, words: str
) -> None:
    path = cfg(tree["project"], text)
    with pytest.raises(InputError) as caught:
        read_config(path)
    assert caught.value.file == str(path)
    assert caught.value.line == line
    assert words in str(caught.value)


def test_a_config_that_is_not_utf8_names_the_line(tree: dict[str, Path]) -> None:
    path = tree["project"] / "ansible.cfg"
    path.write_bytes(b"[defaults]\n# ok\ninventory = caf\xe9\n")
    with pytest.raises(InputError) as caught:
        read_config(path)
    assert (caught.value.file, caught.value.line) == (str(path), 3)
    assert "UTF-8" in caught.value.message


@pytest.mark.parametrize("name", ["ansible.conf", "ansible.yml", "ansiblecfg"])
def test_a_config_must_be_named_cfg_or_ini(tree: dict[str, Path], name: str) -> None:
    with pytest.raises(InputError, match=r"\*\.cfg or \*\.ini"):
        read_config(cfg(tree["project"], name=name))
    assert read_config(cfg(tree["project"], name="site.ini")).inventory == ()


def test_missing_directory_and_oversized_configs_are_clear_errors(tree: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="cannot read the Ansible config") as caught:
        read_config(tree["project"] / "missing.cfg")
    assert caught.value.file == str(tree["project"] / "missing.cfg")
    (tree["project"] / "dir.cfg").mkdir()
    with pytest.raises(InputError, match="cannot read the Ansible config"):
        read_config(tree["project"] / "dir.cfg")
    big = tree["project"] / "big.cfg"
    big.write_text("[defaults]\n" + "#" * (1024 * 1024) + "\n")
    with pytest.raises(InputError, match="over 1024 KB"):
        read_config(big)


PATHOLOGICAL = {
    "spaces without a delimiter": "[defaults]\na" + " " * 900_000 + "b\n",
    "spaces before a delimiter": "[defaults]\na" + " \t" * 450_000 + "b=1\n",
    "semicolons": "[defaults]\ninventory = " + ";" * 900_000 + "\n",
    "unclosed braces": "[defaults]\ninventory = " + "${" * 450_000 + "\n",
    "dollars": "[defaults]\ninventory = " + "$a$" * 300_000 + "\n",
    "section never closed": "[" + "a" * 900_000 + "\n",
    "many continuation lines": "[defaults]\ninventory = a\n" + "  b,\n" * 180_000,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
@pytest.mark.timeout(60)
def test_reading_is_linear_on_pathological_configs(tree: dict[str, Path], name: str) -> None:
    """configparser itself takes minutes on the first two (its option pattern backtracks);
    the reader must answer, a result or its own error, in a child process within budget."""
    path = cfg(tree["project"], PATHOLOGICAL[name])
    code = textwrap.dedent(
        f"""
        import time
        from remediate.errors import InputError
        from remediate.inventory.config import read_config
        start = time.monotonic()
        try:
            read_config({str(path)!r}, environ={{"HOME": "/h"}})
        except InputError:
            pass
        print(time.monotonic() - start)
        """
    )
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading a 1 MB config took more than 30 s (super-linear?)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip()) < 10


# --- read_config against ansible-core's ConfigManager -----------------------------------------

CONFIGS = {
    "plain": "[defaults]\ninventory = inventories/prod\n",
    "several": "[defaults]\ninventory = a, b/c ,/abs/d\nvault_identity_list = p@f, q@prompt\n",
    "home and vars": "[defaults]\ninventory = ~/inv,$TEAM/h\nvault_password_file = ~/.pw\n",
    "cwd magic": "[defaults]\ninventory = {{CWD}}/hosts\n",
    "comments": "# c\n[defaults]\n; c\ninventory = x ; c\nvault_password_file = pw#1\n",
    "continuation": "[defaults]\ninventory = a,\n  b\n\n  c\n",
    "percent": "[defaults]\ninventory = 100%(x)s\n",
    "colon and case": "[defaults]\nInventory: hosts\nVAULT_PASSWORD_FILE : pw\n",
    "default section": "[DEFAULT]\ninventory = fromdefault\n[defaults]\n",
    "other sections": "[ssh_connection]\npipelining = True\n[defaults]\ninventory = h\n",
    "quoted": "[defaults]\nvault_password_file = \"pw\"\nvault_identity_list = 'a@b'\n",
    "dotdot": "[defaults]\ninventory = ../up/./hosts\n",
}


def _clean_ansible_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ANSIBLE_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("name", CONFIGS)
def test_read_config_agrees_with_ansible(
    name: str, tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    manager_module = pytest.importorskip("ansible.config.manager")
    _clean_ansible_env(monkeypatch)
    monkeypatch.setenv("HOME", str(tree["home"]))
    monkeypatch.setenv("TEAM", "/srv/team")
    monkeypatch.chdir(tree["elsewhere"])
    path = cfg(tree["project"], CONFIGS[name])
    manager = manager_module.ConfigManager(str(path))

    ours = read_config(path)
    theirs_inventory = manager.get_config_value("DEFAULT_HOST_LIST")
    if manager.get_config_value_and_origin("DEFAULT_HOST_LIST")[1] == "default":
        theirs_inventory = []
    assert list(ours.inventory) == theirs_inventory
    assert ours.vault_password_file == manager.get_config_value("DEFAULT_VAULT_PASSWORD_FILE")
    assert list(ours.vault_identity_list) == manager.get_config_value("DEFAULT_VAULT_IDENTITY_LIST")


BROKEN = {
    "no section": "inventory = x\n",
    "duplicate option": "[defaults]\ninventory = a\ninventory = b\n",
    "duplicate section": "[defaults]\n[defaults]\n",
    "no delimiter": "[defaults]\nwords\n",
    "no name": "[defaults]\n: x\n",
}


@pytest.mark.parametrize("name", BROKEN)
def test_configs_ansible_refuses_we_refuse(
    name: str, tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    manager_module = pytest.importorskip("ansible.config.manager")
    errors = pytest.importorskip("ansible.errors")
    _clean_ansible_env(monkeypatch)
    path = cfg(tree["project"], BROKEN[name])
    with pytest.raises(errors.AnsibleOptionsError):
        manager_module.ConfigManager(str(path))
    with pytest.raises(InputError):
        read_config(path)


# --- list settings and paths ------------------------------------------------------------------


def test_list_setting_splits_strips_and_unquotes() -> None:
    assert list_setting(" a@b , 'c@d',\"e\" ,, ") == ("a@b", "c@d", "e")
    assert list_setting("") == ()
    assert list_setting("'x\\'") == ("'x\\'",)  # an escaped closing quote is no quote


def test_expand_path_as_unfrackpath(tmp_path: Path) -> None:
    environ = {"HOME": "/home/me", "A": "x"}
    assert expand_path("~", base=tmp_path, environ=environ) == "/home/me"
    assert expand_path("$A/${A}/$B/${", base=Path("/b"), environ=environ) == "/b/x/x/$B/${"
    assert expand_path("$", base=Path("/b"), environ=environ) == "/b/$"
    assert expand_path("a/../b/./c", base=Path("/base"), environ=environ) == "/base/b/c"
    assert expand_path("~/x", base=tmp_path, environ={}, home="/h") == "/h/x"


@pytest.mark.parametrize(
    "text", ["$HOME/a", "${HOME}b/c", "~/x", "$NOPE/y", "${NOPE}", "a$", "$$HOME", "${}x", "~"]
)
def test_expand_path_agrees_with_ansible(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path_module = pytest.importorskip("ansible.utils.path")
    monkeypatch.setenv("HOME", "/home/tester")
    monkeypatch.delenv("NOPE", raising=False)
    theirs = path_module.unfrackpath(text, follow=False, basedir=str(tmp_path))
    assert expand_path(text, base=tmp_path, environ=os.environ) == theirs


# --- default_sources --------------------------------------------------------------------------


def test_ansible_inventory_beats_the_config(tree: dict[str, Path]) -> None:
    config = read_config(cfg(tree["project"], "[defaults]\ninventory = prod\n"))
    environ = {"ANSIBLE_INVENTORY": "staging/hosts, /abs/other", "HOME": "/h"}
    sources, where = default_sources(environ, config, cwd=tree["elsewhere"])
    assert sources == (str(tree["elsewhere"] / "staging/hosts"), "/abs/other")
    assert where == "ANSIBLE_INVENTORY"


def test_the_config_inventory_is_used_when_the_environment_has_none(
    tree: dict[str, Path],
) -> None:
    config = read_config(cfg(tree["project"], "[defaults]\ninventory = prod\n"))
    for environ in ({}, {"ANSIBLE_INVENTORY": ""}, {"ANSIBLE_INVENTORY": " , "}):
        sources, where = default_sources(environ, config, system_inventory=tree["etc"] / "h")
        assert sources == (str(tree["project"] / "prod"),)
        assert where == f"ansible.cfg at {tree['project'] / 'ansible.cfg'}"


def test_etc_ansible_hosts_only_when_it_exists(tree: dict[str, Path]) -> None:
    hosts = tree["etc"] / "hosts"
    config = read_config(cfg(tree["project"]))
    with pytest.raises(InputError) as caught:
        default_sources({}, config, system_inventory=hosts)
    assert caught.value.message == "no inventory given"
    hint = caught.value.hint or ""
    for way in ("-i", "ANSIBLE_INVENTORY", "ansible.cfg", str(hosts), "sets no `inventory`"):
        assert way in hint
    hosts.write_text("ex01\n")
    assert default_sources({}, config, system_inventory=hosts) == (
        (str(hosts),),
        f"{hosts} (Ansible's default)",
    )


def test_no_config_at_all_says_so(tree: dict[str, Path]) -> None:
    with pytest.raises(InputError) as caught:
        default_sources({}, None, system_inventory=tree["etc"] / "hosts")
    assert "no ansible.cfg was found" in (caught.value.hint or "")


def test_ansible_inventory_agrees_with_ansible(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    manager_module = pytest.importorskip("ansible.config.manager")
    _clean_ansible_env(monkeypatch)
    monkeypatch.chdir(tree["elsewhere"])
    monkeypatch.setenv("HOME", str(tree["home"]))
    value = "inv/a, ~/b,/abs/c,{{CWD}}/d"
    monkeypatch.setenv("ANSIBLE_INVENTORY", value)
    path = cfg(tree["project"], "[defaults]\ninventory = from-config\n")
    theirs = manager_module.ConfigManager(str(path)).get_config_value("DEFAULT_HOST_LIST")
    ours, _ = default_sources(os.environ, read_config(path))
    assert list(ours) == theirs


def test_messages_bound_what_they_quote_from_the_file(tree: dict[str, Path]) -> None:
    name = "s" * 10_000
    path = cfg(tree["project"], f"[{name}]\n[{name}]\n")
    with pytest.raises(InputError) as caught:
        read_config(path)
    assert "appears twice" in caught.value.message
    assert len(caught.value.message) < 200


# --- the reader against configparser itself, on generated files ---------------------------------

_TOKENS = st.sampled_from(
    [
        *("[", "]", "=", ":", ";", "#", " ", "\t", "\xa0", "\r", "a", "B", "%", "defaults"),
        *("DEFAULT", "inventory", "Inventory", "[defaults]", "[DEFAULT]", "x = 1", "a: b"),
    ]
)
_LINE = st.tuples(
    st.sampled_from(["", "", " ", "  ", "\t"]), st.lists(_TOKENS, max_size=6).map("".join)
).map("".join)
_FILES = st.tuples(st.booleans(), st.lists(_LINE, max_size=12)).map(
    lambda parts: ("[defaults]\n" if parts[0] else "") + "\n".join(parts[1])
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FILES)
def test_the_reader_reads_as_configparser_does(text: str) -> None:
    """Ansible's own parser (ConfigParser(inline_comment_prefixes=(';',)), values raw) and ours
    agree on every generated file: the same sections, options and values, or both refuse."""
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        with pytest.raises(InputError):
            _parse_ini(text, "ansible.cfg")
        return
    sections, defaults = _parse_ini(text, "ansible.cfg")
    assert defaults == dict(parser.defaults())
    assert list(sections) == parser.sections()
    for name, options in sections.items():
        expected = {key: parser.get(name, key, raw=True) for key in parser.options(name)}
        assert {**defaults, **options} == expected
