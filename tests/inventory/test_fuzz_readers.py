"""Fuzzing the readers of files an administrator hands us: YAML inventories and Ansible Vault.

Whatever the input, the answer is a result or our own InputError (one clear line, file named),
never another exception: a traceback is a bug, and so is a secret in a message.
"""

from __future__ import annotations

import string
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from remediate.errors import InputError
from remediate.inventory import vault
from remediate.inventory.ansible_yaml import load_ansible_yaml
from remediate.inventory.data import InventoryData
from remediate.inventory.model import Inventory
from remediate.inventory.vault import VaultedValue, VaultPassword
from remediate.inventory.yaml_inventory import MAX_YAML_INVENTORY_CHARS, read_yaml_inventory

SOURCE = "inventories/fuzz/hosts.yml"
SECRET = "hunter2-Fuzz-Secret"

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_inventory(text: str) -> Inventory | None:
    """The inventory of `text`, or None when it is refused with our own clear error."""
    warnings: list[str] = []
    try:
        document = load_ansible_yaml(text, SOURCE, warnings, max_chars=MAX_YAML_INVENTORY_CHARS)
        data = InventoryData()
        read_yaml_inventory(document, SOURCE, data, warnings)
        inventory = data.build(SOURCE)
    except InputError as exc:
        assert_clear(exc)
        return None
    assert all(isinstance(warning, str) and warning for warning in warnings)
    for host in inventory.hosts:
        assert isinstance(host.name, str) and host.name
        assert all(isinstance(key, str) for key in host.vars)
        assert host.groups[-1] == "all"
        assert all(name in inventory.groups for name in host.groups)
    return inventory


def assert_clear(exc: InputError) -> None:
    text = str(exc)
    assert exc.message and "\n" not in exc.message
    assert SECRET not in text
    if exc.file is not None:
        assert exc.file == SOURCE
    assert exc.line is None or exc.line >= 1


# --- YAML inventories -------------------------------------------------------------------------

YAML_CHARS = string.ascii_lowercase[:6] + string.digits[:4] + " \n\t:-[]{}#&*!|>'\",?%@`.~\\"


@FUZZ
@given(st.text(max_size=300))
@example("all:\n  hosts:\n    a:\n")
@example("plugin: aws_ec2\n")
@example("a: &a\n  children:\n    b: *a\n")
def test_any_text(text: str) -> None:
    read_inventory(text)


@FUZZ
@given(st.text(alphabet=YAML_CHARS, max_size=300))
def test_text_made_of_yaml_syntax(text: str) -> None:
    read_inventory(text)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` eleven times in twelve: a document of several parts is often right enough to
    reach the reader's later steps, and often wrong in one place."""
    return st.integers(0, 11).flatmap(lambda pick: bad if pick == 11 else good)


HOST_KEYS = mostly(
    st.sampled_from(
        ["h", "ex01.corp.local", "h:5986", "::1", "[2001:db8::1]:5986", "web[01:03]", "w[a:c].x"]
    )
    | st.from_regex(r"[a-z][a-z0-9.-]{0,8}[a-z0-9]", fullmatch=True),
    st.sampled_from(
        [
            *("h:0", "h:70000", "h:", "h:abc", "[::1]", "fe80::1%eth0", "x[3:1]", "x[1:3:0]"),
            *("x[01:3]", "x[", "x]", "x[]", "x[a:b:c:d]", "mail server", "", "---"),
        ]
    )
    | st.text(max_size=12)
    | st.integers(-5, 99_999)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=False, allow_infinity=False),
)
GROUP_NAMES = st.sampled_from(["ungrouped", "exchange", "mailbox", "edge", "web-servers"]) | (
    st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
)
CHILD_KEYS = mostly(GROUP_NAMES, st.just("all"))
GROUP_KEYS = mostly(
    st.just("all") | GROUP_NAMES,
    st.sampled_from(["plugin", "hosts", ""])
    | st.text(max_size=8)
    | st.integers(0, 3)
    | st.booleans(),
)
VAR_NAMES = mostly(
    st.sampled_from(["ansible_host", "ansible_port", "site", "x"]),
    st.text(max_size=6) | st.integers(0, 9) | st.booleans(),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=12),
    st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(VAR_NAMES, inner, max_size=3)
    ),
    max_leaves=6,
)
HOST_VARS = st.dictionaries(VAR_NAMES, VALUES, max_size=3)
PRIORITY = mostly(st.integers(-3, 20) | st.from_regex(r"[0-9]{1,2}", fullmatch=True), VALUES)


def groups(depth: int) -> st.SearchStrategy[Any]:
    """A group as the plugin reads it, mostly right, sometimes of the wrong shape."""
    hosts = st.dictionaries(
        HOST_KEYS, mostly(st.none() | HOST_VARS, VALUES), min_size=1, max_size=4
    )
    sections: dict[str, st.SearchStrategy[Any]] = {
        "hosts": mostly(hosts, st.text(max_size=8) | VALUES),
        "vars": mostly(
            HOST_VARS | st.fixed_dictionaries({"ansible_group_priority": PRIORITY}), VALUES
        ),
        "weird": VALUES,
        "host": hosts,
    }
    if depth > 0:
        children = st.dictionaries(CHILD_KEYS, groups(depth - 1), max_size=3)
        sections["children"] = mostly(children, st.text(max_size=8) | VALUES)
    group = st.fixed_dictionaries({}, optional=sections)
    return mostly(group, st.none() | VALUES)


INVENTORIES = st.dictionaries(GROUP_KEYS, groups(3), max_size=4)


@FUZZ
@given(INVENTORIES)
def test_inventory_shaped_documents(document: dict[Any, Any]) -> None:
    try:
        text = yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        return  # nothing YAML can write
    read_inventory(text)


SAMPLE = """\
all:
  vars:
    ansible_connection: winrm
  hosts:
    jump.corp.local:
      ansible_host: 10.1.0.4
  children:
    exchange:
      vars: {site: lyon, ansible_group_priority: 2}
      children:
        mailbox:
          hosts:
            exch[01:03].corp.local:
            exch10.corp.local:5985:
            "[2001:db8::25]:5986":
              ansible_winrm_message_encryption: always
        edge: &edge
          hosts: edge-[a:b].dmz.local
    dmz:
      children:
        edge: *edge
"""


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = SAMPLE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line"]))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 30)) :]
        elif kind == "insert":
            text = text[:at] + draw(st.text(alphabet=YAML_CHARS, max_size=6)) + text[at:]
        elif kind == "replace":
            text = text[:at] + draw(st.sampled_from(list(YAML_CHARS))) + text[at + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
            text = "".join(lines)
    return text


@FUZZ
@given(mutated())
def test_mutations_of_a_real_inventory(text: str) -> None:
    read_inventory(text)


def test_the_sample_itself_reads() -> None:
    inventory = read_inventory(SAMPLE)
    assert inventory is not None
    assert inventory.host("edge-a.dmz.local").groups == ("edge", "exchange", "dmz", "all")


# --- Ansible Vault ------------------------------------------------------------------------------

ENVELOPE = vault.encrypt(f"ansible_password: {SECRET}\n", "pw", vault_id="prod", salt=b"s" * 32)
HEXISH = st.text(alphabet="0123456789abcdefABCDEF;\n\r \t$zA\u0663\x00", max_size=20)
ENVELOPE_LIKE = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    st.text(max_size=120).map(lambda tail: "$ANSIBLE_VAULT;" + tail),
    HEXISH.map(lambda body: "$ANSIBLE_VAULT;1.1;AES256\n" + body),
    HEXISH.map(lambda body: "$ANSIBLE_VAULT;1.2;AES256;prod\n" + body),
    st.integers(0, len(ENVELOPE)).map(lambda cut: ENVELOPE[:cut]),
)
PASSWORDS = st.one_of(
    st.just("pw"),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.builds(
        VaultPassword,
        st.one_of(st.text(max_size=8), st.binary(max_size=8)),
        st.one_of(st.just("prod"), st.text(max_size=6)),
    ),
    st.lists(
        st.builds(VaultPassword, st.sampled_from(["pw", "", "wrong", "\ud800"]), st.text()),
        max_size=3,
    ),
)
LINES = st.one_of(st.none(), st.integers(1, 100_000))


def only_our_errors(data: str | bytes, passwords: vault.Passwords, line: int | None) -> None:
    assert vault.is_vault(data) in (True, False)
    try:
        envelope = vault.parse(data, file=SOURCE, line=line)
    except InputError as exc:
        assert_clear(exc)
    else:
        assert envelope.version in vault.VERSIONS
    try:
        plain = vault.decrypt_text(data, passwords, file=SOURCE, line=line)
    except InputError as exc:
        assert_clear(exc)
    else:
        assert plain == f"ansible_password: {SECRET}\n"


@FUZZ
@given(ENVELOPE_LIKE, PASSWORDS, LINES)
@example(ENVELOPE, "pw", None)
@example(ENVELOPE, [VaultPassword("\ud800", "prod")], 3)
@example(ENVELOPE, [], None)
@example(ENVELOPE.encode("ascii") + b"\xff", "pw", None)
def test_vault_parse_and_decrypt(data: str | bytes, passwords: Any, line: int | None) -> None:
    only_our_errors(data, passwords, line)


@FUZZ
@given(ENVELOPE_LIKE.filter(lambda data: isinstance(data, str)), PASSWORDS)
@example(ENVELOPE, "pw")
def test_vault_values_in_a_yaml_inventory(envelope: Any, passwords: Any) -> None:
    """A `!vault` value read by the YAML inventory, then decrypted, as the loader will do."""
    body = "\n".join("        " + row for row in str(envelope).splitlines()) or "        x"
    text = f"g:\n  hosts:\n    h:\n      ansible_password: !vault |\n{body}\n"
    inventory = read_inventory(text)
    if inventory is None:
        return
    value = inventory.host("h").vars["ansible_password"]
    assert isinstance(value, VaultedValue)
    assert value.line == 4
    try:
        value.vault_id  # noqa: B018 (parses the envelope)
        plain = value.decrypt(passwords)
    except InputError as exc:
        assert_clear(exc)
    else:
        assert plain == f"ansible_password: {SECRET}\n"


@FUZZ
@given(st.text(alphabet=YAML_CHARS, max_size=60))
def test_vault_tag_on_anything(text: str) -> None:
    read_inventory(f"g:\n  vars:\n    v: !vault {text}\n")
