"""Passwords: where a host's password comes from, in the documented order, decided once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.connect import passwords
from remediate.connect.passwords import (
    env_name,
    env_names,
    find_password,
    password_in_inventory,
    prompt_password_once,
    resolve_password,
)
from remediate.connect.variables import connection_settings
from remediate.errors import InputError
from remediate.inventory import Inventory, load_inventory
from remediate.transport.winrm import WinRMSettings

INVENTORY = """\
inline.corp.local ansible_password=from-inventory
[exchange:children]
mailbox
[mailbox]
exch01.corp.local
exch-02.corp.local
[edge]
edge01.dmz.local ansible_user=DMZ\\\\audit
[mailbox:vars]
ansible_user=CORP\\svc
[legacy]
exch01.corp.local
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "hosts.ini"
    path.write_text(INVENTORY, encoding="utf-8")
    return load_inventory(path)


@pytest.fixture(autouse=True)
def fresh_prompt() -> Iterator[None]:
    passwords.forget_prompted_password()
    yield
    passwords.forget_prompted_password()


# --- where a password comes from ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("exch01.corp.local", "REMEDIATE_PASSWORD_EXCH01_CORP_LOCAL"),
        ("exch-02", "REMEDIATE_PASSWORD_EXCH_02"),
        ("mailbox", "REMEDIATE_PASSWORD_MAILBOX"),
        ("Exchange 2003", "REMEDIATE_PASSWORD_EXCHANGE_2003"),
        ("2001:db8::25", "REMEDIATE_PASSWORD_2001_DB8__25"),
        ("caf\u00e9", "REMEDIATE_PASSWORD_CAF_"),
    ],
)
def test_environment_name_rule(name: str, variable: str) -> None:
    assert env_name(name) == variable


def test_environment_names_in_order(inventory: Inventory) -> None:
    assert env_names(inventory.host("exch01.corp.local")) == [
        "REMEDIATE_PASSWORD_EXCH01_CORP_LOCAL",
        "REMEDIATE_PASSWORD_MAILBOX",
        "REMEDIATE_PASSWORD_LEGACY",
        "REMEDIATE_PASSWORD_EXCHANGE",
        "REMEDIATE_PASSWORD_ALL",
        "REMEDIATE_PASSWORD",
    ]


def test_inventory_beats_environment(inventory: Inventory) -> None:
    host = inventory.host("inline.corp.local")
    environ = {"REMEDIATE_PASSWORD_INLINE_CORP_LOCAL": "env", "REMEDIATE_PASSWORD": "env"}
    choice = find_password(host, environ)
    assert choice is not None
    assert choice.secret.reveal() == "from-inventory"
    assert choice.source == f"ansible_password ({host.origin('ansible_password')})"


@pytest.mark.parametrize(
    ("environ", "expected", "source"),
    [
        (
            {
                "REMEDIATE_PASSWORD_EXCH01_CORP_LOCAL": "host",
                "REMEDIATE_PASSWORD_MAILBOX": "mailbox",
                "REMEDIATE_PASSWORD": "default",
            },
            "host",
            "REMEDIATE_PASSWORD_EXCH01_CORP_LOCAL",
        ),
        (
            {
                "REMEDIATE_PASSWORD_EXCHANGE": "parent",
                "REMEDIATE_PASSWORD_MAILBOX": "mailbox",
                "REMEDIATE_PASSWORD": "default",
            },
            "mailbox",
            "REMEDIATE_PASSWORD_MAILBOX",
        ),
        (
            {"REMEDIATE_PASSWORD_EXCHANGE": "parent", "REMEDIATE_PASSWORD_LEGACY": "legacy"},
            "legacy",
            "REMEDIATE_PASSWORD_LEGACY",
        ),
        ({"REMEDIATE_PASSWORD_EXCHANGE": "parent"}, "parent", "REMEDIATE_PASSWORD_EXCHANGE"),
        ({"REMEDIATE_PASSWORD_MAILBOX": "", "REMEDIATE_PASSWORD": "d"}, "d", "REMEDIATE_PASSWORD"),
    ],
)
def test_environment_order(
    inventory: Inventory, environ: dict[str, str], expected: str, source: str
) -> None:
    choice = find_password(inventory.host("exch01.corp.local"), environ)
    assert choice is not None
    assert (choice.secret.reveal(), choice.source) == (expected, f"environment {source}")
    assert choice.secret.user == "CORP\\svc"


def test_real_environment_is_read(inventory: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDIATE_PASSWORD_EDGE01_DMZ_LOCAL", "edge-pw")
    choice = find_password(inventory.host("edge01.dmz.local"))
    assert choice is not None and choice.secret.reveal() == "edge-pw"
    assert choice.secret.user == "DMZ\\audit"


def test_no_password_without_ask_pass(inventory: Inventory) -> None:
    assert resolve_password(inventory.host("exch01.corp.local"), environ={}) is None


def test_prompt_is_asked_once_for_all_hosts(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def fake_getpass(prompt: str = "Password: ") -> str:
        asked.append(prompt)
        return "typed"

    monkeypatch.setattr(passwords.getpass, "getpass", fake_getpass)
    first = resolve_password(inventory.host("exch01.corp.local"), ask_pass=True, environ={})
    second = resolve_password(inventory.host("edge01.dmz.local"), ask_pass=True, environ={})
    inline = resolve_password(inventory.host("inline.corp.local"), ask_pass=True, environ={})
    assert first is not None and second is not None and inline is not None
    assert (first.secret.reveal(), first.source) == ("typed", "prompt")
    assert second.secret.reveal() == "typed" and second.secret.user == "DMZ\\audit"
    assert inline.secret.reveal() == "from-inventory"
    assert len(asked) == 1
    assert prompt_password_once().reveal() == "typed" and len(asked) == 1


def test_prompt_end_of_file_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(passwords.getpass, "getpass", no_input)
    with pytest.raises(InputError, match="no password was typed"):
        prompt_password_once()


def test_resolved_password_reaches_the_settings(inventory: Inventory) -> None:
    host = inventory.host("exch01.corp.local")
    choice = resolve_password(host, environ={"REMEDIATE_PASSWORD": "pw"})
    assert choice is not None
    settings = connection_settings(host, password=choice.secret)
    assert isinstance(settings, WinRMSettings)
    assert (settings.username, settings.password) == ("CORP\\svc", "pw")


def test_the_inventory_password_wins_and_reaches_the_settings(inventory: Inventory) -> None:
    host = inventory.host("inline.corp.local")
    choice = resolve_password(host, ask_pass=True, environ={"REMEDIATE_PASSWORD": "from-env"})
    assert choice is not None
    kept = connection_settings(host, password=choice.secret)
    assert isinstance(kept, WinRMSettings) and kept.password == "from-inventory"


def test_password_in_inventory_is_the_first_step_only(inventory: Inventory) -> None:
    inline = password_in_inventory(inventory.host("inline.corp.local"))
    assert inline is not None and inline.secret.reveal() == "from-inventory"
    assert inline.source.startswith("ansible_password (") and "hosts.ini:1" in inline.source
    assert password_in_inventory(inventory.host("exch01.corp.local")) is None
