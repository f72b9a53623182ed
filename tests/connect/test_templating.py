"""Inventory variables rendered lazily in jinja2's sandbox, as ansible-core 2.19 renders them.

The expected values of the native-type cases were taken from ansible-core 2.19.14
(`Templar.template` on trusted templates, and `ansible -m debug -a var=...` on YAML
inventories); `test_same_value_as_ansible` checks them against Ansible itself when it is
installed.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.connect import templating
from remediate.connect.templating import RenderedVars, rendered
from remediate.errors import InputError
from remediate.inventory.model import Host, Origin
from remediate.inventory.vault import VaultedValue, VaultPassword, encrypt

VAULT_PASSWORD = "vault-pass"
FILE = "inventories/prod/group_vars/exchange/vars.yml"


def make_host(
    variables: dict[str, Any],
    *,
    name: str = "ex01.corp.local",
    groups: tuple[str, ...] = ("exchange", "windows", "all"),
) -> Host:
    """A host whose variable number i was written on line i + 1 of FILE."""
    origins = {key: Origin(FILE, index + 1) for index, key in enumerate(variables)}
    return Host(name, variables, groups, origins, Origin("hosts.ini", 1))


def render(variables: dict[str, Any], **options: Any) -> RenderedVars:
    options.setdefault("environ", {})
    options.setdefault("vault_passwords", [VaultPassword(VAULT_PASSWORD)])
    return RenderedVars(make_host(variables), **options)


def vaulted(plaintext: str, line: int = 7) -> VaultedValue:
    return VaultedValue(encrypt(plaintext, VAULT_PASSWORD), "group_vars/exchange/vault.yml", line)


def error_of(variables: dict[str, Any], name: str, **options: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        render(variables, **options)[name]
    return caught.value


# --- the case issue 14 is about -----------------------------------------------------------


def test_templated_vault_password_is_decrypted_and_secret() -> None:
    host = make_host(
        {
            "ansible_user": "CORP\\svc_audit",
            "ansible_password": "{{ vault_exchange_password }}",
            "vault_exchange_password": vaulted("Summer2024!"),
            "backup_json": "{{ backup_settings | to_json }}",  # for another playbook
        }
    )
    host2 = rendered(host, vault_passwords=[VaultPassword(VAULT_PASSWORD)], environ={})
    assert isinstance(host2.vars, RenderedVars)
    assert (host2.name, host2.groups, host2.origins) == (host.name, host.groups, host.origins)
    assert host2.vars["ansible_password"] == "Summer2024!"
    assert host2.vars["ansible_user"] == "CORP\\svc_audit"
    assert host2.vars.is_secret("ansible_password")
    assert host2.vars.is_secret("vault_exchange_password")
    assert not host2.vars.is_secret("ansible_user")


def test_an_unrelated_variable_with_an_ansible_filter_breaks_only_its_own_read() -> None:
    variables = {"ansible_port": "{{ 5986 }}", "backup_json": "{{ settings | to_json }}"}
    values = render(variables)
    assert values["ansible_port"] == 5986
    with pytest.raises(InputError) as caught:
        values["backup_json"]
    error = caught.value
    assert "filter 'to_json' is not available" in error.message
    assert "variable 'backup_json'" in error.message
    assert (error.file, error.line, error.host) == (FILE, 2, "ex01.corp.local")
    assert error.hint is not None and "jinja2's built-in filters" in error.hint
    assert "lookup('env', NAME)" in error.hint
    assert values["ansible_port"] == 5986  # still fine afterwards


def test_keys_length_and_order_are_the_raw_variables() -> None:
    variables = {"b": "{{ undefined_thing }}", "a": 1, "c": "{{ a }}"}
    values = render(variables)
    assert list(values) == ["b", "a", "c"]
    assert len(values) == 3
    assert "b" in values and "inventory_hostname" not in values
    assert values.get("missing", "dflt") == "dflt"
    with pytest.raises(KeyError):
        values["missing"]
    assert values.raw is variables


# --- native types, as ansible-core 2.19 ---------------------------------------------------

BASE = {"flag": True, "port": "5986", "n": 5, "lst": [1, 2], "nested": "{{ n }}"}
NATIVE_CASES = [
    ("{{ 5986 }}", 5986),
    ("{{ flag }}", True),
    ("{{ port }}", "5986"),  # a text variable stays text: no literal_eval
    ("{{ port | int }}", 5986),
    ("{{ '5' }}", "5"),
    ("{{ 'True' }}", "True"),
    ("{{ '[1, 2]' }}", "[1, 2]"),
    ("{{ 5986 }}\n", 5986),  # a YAML block scalar's newline does not make it text
    ("{{ 'a' }}\n", "a\n"),
    (" {{ 5 }}", " 5"),
    ("{{ 5 }} ", "5 "),
    ("{{ n }}{{ n }}", "55"),
    ("{{ true }}{{ false }}", "TrueFalse"),
    ("{{ '' }}{{ 2 }}", "2"),
    ("{{ 1 }}{{ none }}", 1),
    ("{{ none }}", None),
    ("{{ none }}x", "x"),
    ("{# just a comment #}", None),
    ("{% if true %}5{% endif %}", "5"),
    ("{% if true %}{{ 7 }}{% endif %}", 7),
    ("{% if true %}\nA\n{% endif %}\n", "A\n"),
    ("{{ lst }}", [1, 2]),
    ("x{{ lst }}", "x[1, 2]"),
    ("{{ (1, 2) }}", [1, 2]),
    ("a{{ (1, 2) }}", "a[1, 2]"),
    ("{{ {'a': 1} }}", {"a": 1}),
    ("{{ {'a': 1}.items() }}", [["a", 1]]),
    ("{{ [3, 1] | reverse }}", [1, 3]),
    ("{{ [1, 2] | map('string') }}", ["1", "2"]),
    ("{{ 'xy' | list }}", ["x", "y"]),
    ("{{ 'a' ~ none }}", "aNone"),
    ("{{ 1.5 }}", 1.5),
    ("{{ 0x10 }}", 16),
    ("{{ 2 ** 10 }}", 1024),
    ("{{ '%s-%d' | format('a', 3) }}", "a-3"),
    ("{{ 'a' | center(5) }}", "  a  "),
    ("{{ nested }}", 5),
    ("{{ nested + 1 }}", 6),
    ("{{ undefined_x is defined }}", False),
    ("{{ undefined_x | default('q') }}", "q"),
]


@pytest.mark.parametrize(("template", "expected"), NATIVE_CASES)
def test_native_types(template: str, expected: Any) -> None:
    value = render({**BASE, "v": template})["v"]
    assert value == expected
    assert type(value) is type(expected)


def _trusted(value: Any) -> Any:
    """Values as Ansible's YAML loader gives them: every text trusted as a template."""
    from ansible.template import trust_as_template

    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("template", "expected"), NATIVE_CASES)
def test_same_value_as_ansible(template: str, expected: Any) -> None:
    """The table above, checked against ansible-core itself where it is installed."""
    pytest.importorskip("ansible")
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    templar = Templar(loader=DataLoader(), variables=_trusted(BASE))
    theirs = templar.template(_trusted(template))
    assert theirs == expected
    assert isinstance(theirs, type(expected)) or theirs is None is expected


def test_lists_and_dicts_are_rendered_inside_but_not_dict_keys() -> None:
    values = render({"n": 5, "l": ["{{ n }}", 2, "x{{ n }}"], "d": {"{{ n }}": "{{ n }}"}})
    assert values["l"] == [5, 2, "x5"]
    assert values["d"] == {"{{ n }}": 5}


def test_a_vault_value_is_decrypted_not_rendered() -> None:
    """As Ansible: a decrypted `!vault` value holding `{{` stays literal."""
    values = render({"n": 5, "v": vaulted("{{ n }}-v"), "uses_v": "{{ v }}"})
    assert values["v"] == "{{ n }}-v"
    assert values["uses_v"] == "{{ n }}-v"


def test_text_without_template_markers_is_returned_as_is() -> None:
    values = render({"a": "50%{ x }}", "b": "a}}b", "c": 42, "d": None})
    assert (values["a"], values["b"], values["c"], values["d"]) == ("50%{ x }}", "a}}b", 42, None)


def test_a_value_that_cannot_be_a_variable_is_refused() -> None:
    for template in ("{{ range(3) }}", "{% macro m() %}{% endmacro %}{{ m }}", "{{ cycler }}"):
        error = error_of({"v": template}, "v")
        assert "not a value" in error.message


# --- references between variables ---------------------------------------------------------


class CountingEnviron(Mapping[str, str]):
    """An environment that counts how often a template reads it."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.reads = 0

    def __getitem__(self, key: str) -> str:
        self.reads += 1
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_references_resolve_lazily_and_each_template_renders_once() -> None:
    environ = CountingEnviron({"DOMAIN": "CORP"})
    values = render(
        {
            "ansible_user": "{{ domain }}\\{{ account }}",
            "domain": "{{ lookup('env', 'DOMAIN') }}",
            "account": "svc_audit",
            "other": "{{ domain | lower }}",
        },
        environ=environ,
    )
    assert values["ansible_user"] == "CORP\\svc_audit"
    assert values["other"] == "corp"
    assert values["ansible_user"] == "CORP\\svc_audit"
    assert environ.reads == 1


def test_a_reference_loop_names_the_chain() -> None:
    variables = {"a": "{{ b }}", "b": "{{ c }}", "c": "x{{ a }}", "self": "{{ self_ref }}"}
    variables["self_ref"] = "{{ self_ref }}"
    error = error_of(variables, "a")
    assert "loop: a -> b -> c -> a" in error.message
    assert (error.file, error.line) == (FILE, 1)
    assert "loop: self_ref -> self_ref" in error_of(variables, "self").message


def test_a_long_chain_of_references_is_refused_clearly() -> None:
    depth = templating.MAX_CHAIN + 5
    variables: dict[str, Any] = {f"v{i}": f"{{{{ v{i + 1} }}}}" for i in range(depth)}
    variables[f"v{depth}"] = "end"
    assert render(variables)[f"v{depth - templating.MAX_CHAIN + 1}"] == "end"
    assert "more than" in error_of(variables, "v0").message


def test_an_undefined_variable_names_the_variable_the_host_and_the_file() -> None:
    error = error_of(
        {"ansible_user": "x", "ansible_password": "{{ vault_exch_pass }}"}, "ansible_password"
    )
    assert error.message == "variable 'ansible_password': 'vault_exch_pass' is undefined"
    assert (error.file, error.line, error.host) == (FILE, 2, "ex01.corp.local")
    assert str(error).startswith(f"{FILE}:2: ex01.corp.local: variable 'ansible_password'")
    assert error.hint is not None and "default" in error.hint


def test_an_undefined_variable_read_through_another_names_both() -> None:
    error = error_of({"a": "{{ b }}", "b": "{{ c }}"}, "a")
    assert "variable 'b': 'c' is undefined (reading a -> b)" in error.message
    assert error.line == 2  # where b, whose template is wrong, was written


def test_a_variable_undefined_through_its_template_is_undefined_for_default() -> None:
    """As Ansible 2.19: `b | default(...)` and `b is defined` see through b's template."""
    values = render({"a": "{{ b | default('x') }}", "b": "{{ c }}", "d": "{{ b is defined }}"})
    assert values["a"] == "x"
    assert values["d"] is False


def test_undefined_attributes_and_ansible_only_names() -> None:
    assert "undefined in the template" in error_of({"d": {}, "v": "{{ d.missing }}"}, "v").message
    for name in ("hostvars['x']", "groups", "query('env', 'HOME')"):
        error = error_of({"v": f"{{{{ {name} }}}}"}, "v")
        assert "is Ansible's, not available here" in error.message


# --- magic variables ------------------------------------------------------------------------


def test_magic_variables_as_ansible_sets_them() -> None:
    """inventory/host.py `get_magic_vars`: group_names sorted, without `all` only."""
    variables = {
        "ih": "{{ inventory_hostname }}",
        "short": "{{ inventory_hostname_short }}",
        "groups_": "{{ group_names }}",
        "inventory_hostname": "not-the-name",
    }
    host = make_host(variables, groups=("web", "ungrouped", "db", "all"))
    values = rendered(host, environ={}).vars
    assert values["ih"] == "ex01.corp.local"  # the magic variable wins over the inventory's
    assert values["short"] == "ex01"
    assert values["groups_"] == ["db", "ungrouped", "web"]
    ip_host = make_host({"short": "{{ inventory_hostname_short }}"}, name="10.1.2.11")
    assert rendered(ip_host, environ={}).vars["short"] == "10.1.2.11"


# --- lookup('env') ----------------------------------------------------------------------------


def test_env_lookup_as_ansibles_plugin() -> None:
    """plugins/lookup/env.py: '' when unset, `default=`, the first word of a term; several
    values joined with ',' and a list with wantlist=True (_jinja_plugins.py)."""
    environ = {"HOME": "/root", "PORT": "5986"}
    values = render(
        {
            "home": "{{ lookup('env', 'HOME') }}",
            "builtin": "{{ lookup('ansible.builtin.env', 'HOME') }}",
            "unset": "{{ lookup('env', 'NOT_SET') }}",
            "default": "{{ lookup('env', 'NOT_SET', default='dflt') }}",
            "port": "{{ lookup('env', 'PORT') }}",
            "port_int": "{{ lookup('env', 'PORT') | int }}",
            "several": "{{ lookup('env', 'HOME', 'NOT_SET', 'PORT') }}",
            "wantlist": "{{ lookup('env', 'HOME', wantlist=True) }}",
            "first_word": "{{ lookup('env', 'HOME extra') }}",
            "nothing": "{{ lookup('env') }}",
        },
        environ=environ,
    )
    assert values["home"] == values["builtin"] == values["first_word"] == "/root"
    assert values["unset"] == ""
    assert values["default"] == "dflt"
    assert values["port"] == "5986"  # text, as Ansible: one node is not literal_eval'd
    assert values["port_int"] == 5986
    assert values["several"] == "/root,,5986"
    assert values["wantlist"] == ["/root"]
    assert values["nothing"] == []


def test_env_lookup_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REMEDIATE_TEST_DOMAIN", "CORP")
    host = make_host({"d": "{{ lookup('env', 'REMEDIATE_TEST_DOMAIN') }}"})
    assert rendered(host).vars["d"] == "CORP"


def test_an_env_value_is_not_rendered_again() -> None:
    """Lookup results are data, not templates (as Ansible: they are not trusted)."""
    host = make_host({"y": 1, "a": "{{ lookup('env', 'X') }}"})
    once = rendered(host, environ={"X": "{{ y }}"})
    assert once.vars["a"] == "{{ y }}"
    assert rendered(once, environ={"X": "{{ y }}"}).vars["a"] == "{{ y }}"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ lookup('file', '/etc/passwd') }}", "lookup('file') is not supported"),
        ("{{ lookup('pipe', 'id') }}", "lookup('pipe') is not supported"),
        ("{{ lookup('env', 5) }}", "names of environment variables"),
        ("{{ lookup('env', '') }}", "names of environment variables"),
        ("{{ lookup('env', 'HOME', errors='ignore') }}", "not 'errors'"),
        ("{{ x | regex_replace('a', 'b') }}", "filter 'regex_replace' is not available"),
        ("{{ x is match('a') }}", "test 'match' is not available"),
        ("{{ }}", "template syntax error"),
        ("ab{{cd", "template syntax error"),
        ("ab{#cd", "template syntax error"),
        ("{% include 'other.j2' %}", "the template failed"),
        ("{{ ''.__class__.__mro__ }}", "not allowed in the template sandbox"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recurses"),
    ],
)
def test_what_we_do_not_support_is_a_clear_error_never_the_text(
    template: str, expected: str
) -> None:
    error = error_of({"x": "a", "v": template}, "v", environ={"HOME": "/root"})
    assert expected in error.message
    assert error.message.startswith("variable 'v': ")
    assert (error.file, error.line, error.host) == (FILE, 2, "ex01.corp.local")


def test_a_long_template_is_refused() -> None:
    template = "{{ 1 }}" * (templating.MAX_TEMPLATE_CHARS // 7 + 1)
    assert "a template of" in error_of({"v": template}, "v").message


# --- secrets ----------------------------------------------------------------------------------


def test_what_is_secret() -> None:
    values = render(
        {
            "vault_pw": vaulted("S3cret!"),
            "plain": "not secret",
            "reads_vault": "{{ vault_pw }}",
            "reads_vault_indirectly": "x{{ reads_vault }}",
            "ansible_password": "literal",
            "reads_password": "{{ ansible_password }}",
            "reads_env_password": "{{ lookup('env', 'REMEDIATE_PASSWORD_EX01') }}",
            "reads_env": "{{ lookup('env', 'HOME') }}",
            "vault_in_list": ["a", vaulted("x")],
            "reads_plain": "{{ plain }}",
            "broken": "{{ nope }}",
        },
        environ={"REMEDIATE_PASSWORD_EX01": "pw", "HOME": "/root"},
    )
    secret = {name for name in values if values.is_secret(name)}
    assert secret == {
        "vault_pw",
        "reads_vault",
        "reads_vault_indirectly",
        "ansible_password",
        "reads_password",
        "reads_env_password",
        "vault_in_list",
        "broken",  # cannot tell: hidden to be safe
    }
    assert values["reads_vault_indirectly"] == "xS3cret!"
    assert not values.is_secret("inventory_hostname")


def test_messages_never_show_a_secret_value() -> None:
    secret = "S3cretValue"
    variables = {
        "vault_pw": vaulted(secret),
        "lookup_by_secret": "{{ {'a': 1}[vault_pw] }}",
        "int_of_secret": "{{ vault_pw | int + [] }}",
        "ansible_password": "Pa{{" + secret,  # a literal password that looks like a template
        "remediate_password": "{{ " + secret + " }",
    }
    for name in ("lookup_by_secret", "int_of_secret", "ansible_password", "remediate_password"):
        error = error_of(variables, name)
        assert secret not in str(error), name
        assert secret not in repr(error.args), name


def test_a_wrong_vault_password_names_the_variable_and_the_vault_file() -> None:
    variables = {"ansible_password": "{{ vault_pw }}", "vault_pw": vaulted("S3cret!", line=12)}
    error = error_of(variables, "ansible_password", vault_passwords=[VaultPassword("wrong")])
    assert "variable 'vault_pw'" in error.message and "wrong vault password" in error.message
    assert (error.file, error.line) == ("group_vars/exchange/vault.yml", 12)
    assert "S3cret" not in str(error)
    no_password = error_of(variables, "ansible_password", vault_passwords=[])
    assert "no vault password was given" in no_password.message


# --- bounded work ------------------------------------------------------------------------------

HUGE = [
    '{{ "x" * 10**9 }}',
    "{{ [1] * 10**9 }}",
    "{{ 'x' | center(10**9) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'.zfill(10**9) }}",
    "{{ ('\t' * 100000).expandtabs(1000) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ ('{0}' * 100000).format('x' * 100) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '%999999999d' | format(1) }}",
    "{{ (1).to_bytes(10**9, 'big') }}",
    "{{ 2 ** 10000000 }}",
    "{{ ('x' * 999999) | replace('x', 'yy') }}",
    "{{ ('x' * 999999).replace('x', 'yy') }}",
    "{{ (['x' * 1000] * 1000) | join('y' * 1000) }}",
    "{{ ('y' * 1000).join(['x' * 1000] * 1000) }}",
    "{{ ('a\n' * 400000) | indent(100) }}",
    "{{ 'x' | indent(10**9, true) }}",
    "{{ ('x ' * 400000) | wordwrap(1, wrapstring='y' * 100) }}",
    "{{ ['x' * 100000] * 20 }}",
    "{% set ns = namespace(a='x' * 1000) %}{% for i in range(40) %}"
    "{% set ns.a = ns.a ~ ns.a %}{% endfor %}{{ ns.a | length }}",
    "{% set ns = namespace(a='x' * 1000) %}{% for i in range(40) %}"
    "{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a | length }}",
    "{% set ns = namespace(a=[1]) %}{% for i in range(60) %}"
    "{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a | tojson }}",
    "{{ [1] | tojson(indent=10**6) }}",
]


ENDLESS = [
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}",
    "{{ ([[1]] * 100000) | sum(start=[]) }}",
    "{% set s = 'x' * 900000 %}{% for i in range(20000) %}{% if 'y' in s %}{% endif %}{% endfor %}",
]


@pytest.mark.parametrize("template", HUGE)
def test_huge_values_are_refused_before_they_eat_memory(template: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        error = error_of({"v": template}, "v")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert any(
        words in error.message
        for words in ("would exceed", "steps", "characters", "bits", "indent is at most")
    ), error.message
    assert peak < 64 * 1024 * 1024, peak
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("template", ENDLESS)
def test_endless_work_is_refused_in_bounded_time(template: str) -> None:
    started = time.monotonic()
    error = error_of({"v": template}, "v")
    assert "steps" in error.message or "characters" in error.message, error.message
    assert time.monotonic() - started < 30


def test_a_value_just_under_the_limit_is_fine() -> None:
    values = render({"v": "{{ 'x' * 999000 }}", "w": "{{ ('ab' * 1000) | replace('a', 'c') }}"})
    assert values["v"] == "x" * 999_000
    assert values["w"] == "cb" * 1000


def test_loops_filters_and_macros_of_normal_size_work() -> None:
    values = render(
        {
            "hosts": ["ex01", "ex02"],
            "list": "{% for h in hosts %}{{ h }}{% if not loop.last %},{% endif %}{% endfor %}",
            "joined": "{{ hosts | join(';') | upper }}",
            "macro": "{% macro m(a) %}{{ a }}-{{ a }}{% endmacro %}{{ m(2) }}",
            "block": "{% set x %}{{ 3 }}{% endset %}{{ x }}",
            "recursive": "{% for x in [{'c': [{'c': []}]}] recursive %}<{{ loop(x.c) }}>"
            "{% endfor %}",
            "pairs": "{% for a, b in [(1, 2)] %}{{ a + b }}{% endfor %}",
            "ns": "{% set ns = namespace(n=0) %}{% for i in range(10) %}{% set ns.n = ns.n + i %}"
            "{% endfor %}{{ ns.n }}",
        }
    )
    assert values["list"] == "ex01,ex02"
    assert values["joined"] == "EX01;EX02"
    assert values["macro"] == "2-2"
    assert values["block"] == 3
    assert values["recursive"] == "<<>>"
    assert values["pairs"] == 3
    assert values["ns"] == 45


def test_threads_reading_one_host_see_one_rendering() -> None:
    environ = CountingEnviron({"DOMAIN": "CORP"})
    values = render(
        {"a": "{{ b }}\\{{ c }}", "b": "{{ lookup('env', 'DOMAIN') }}", "c": "{{ b | lower }}"},
        environ=environ,
    )
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda name: values[name], ["a", "c", "b"] * 20))
    assert set(results) == {"CORP\\corp", "corp", "CORP"}
    assert environ.reads == 1


def test_equality_of_hosts_does_not_render() -> None:
    host = make_host({"broken": "{{ nope }}"})
    assert rendered(host, environ={}) == rendered(host, environ={})
    assert (
        repr(rendered(host, environ={}).vars) == "<RenderedVars of 'ex01.corp.local': 1 variables>"
    )


# --- anything at all ------------------------------------------------------------------------

PIECES = [
    *"{}%#()[]'\"|~+-*/.,:=<>!_ \n\\0123456789abcxyz",
    *("{{", "}}", "{%", "%}", "{#", "#}", " if ", " for ", " in ", "endfor", "endif"),
    *("lookup", "'env'", "a", "b", "loop", "range", "**", "9999999", "join", "set "),
]
TEMPLATE_TEXT = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=TEMPLATE_TEXT, other=TEMPLATE_TEXT)
def test_any_template_gives_a_value_or_our_error(template: str, other: str) -> None:
    values = render({"v": template, "a": other, "b": [other, {"k": template}]}, environ={})
    for name in ("v", "a", "b"):
        try:
            values[name]
        except InputError as error:
            assert error.message.startswith("variable '")
            assert error.host == "ex01.corp.local"
