"""Passwords: where they come from, and that they never show in any output."""

from __future__ import annotations

import base64
import copy
import json
import logging
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.connect import credentials
from remediate.connect.credentials import (
    Secret,
    env_name,
    env_names,
    find_password,
    prompt_password_once,
    redact,
    resolve_password,
)
from remediate.errors import InputError
from remediate.inventory.ini import Inventory, connection_settings, load_inventory
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
    credentials.forget_prompted_password()
    yield
    credentials.forget_prompted_password()


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

    monkeypatch.setattr(credentials.getpass, "getpass", fake_getpass)
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

    monkeypatch.setattr(credentials.getpass, "getpass", no_input)
    with pytest.raises(InputError, match="no password was typed"):
        prompt_password_once()


def test_resolved_password_reaches_the_settings(inventory: Inventory) -> None:
    host = inventory.host("exch01.corp.local")
    choice = resolve_password(host, environ={"REMEDIATE_PASSWORD": "pw"})
    assert choice is not None
    settings = connection_settings(host, password=choice.secret)
    assert isinstance(settings, WinRMSettings)
    assert (settings.username, settings.password) == ("CORP\\svc", "pw")


# --- Secret never leaks ---------------------------------------------------------------------

VALUE = "Hunter2-p@ss/w:rd"


def test_secret_shows_as_stars_everywhere() -> None:
    secret = Secret(VALUE, user="CORP\\svc")
    for text in (
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret!s}",
        f"{secret:>20}",
        "%s %r" % (secret, secret),  # noqa: UP031
        "{} {!r}".format(secret, secret),  # noqa: UP032
        repr([secret, {"pw": secret}]),
        str((secret,)),
    ):
        assert VALUE not in text
        assert "***" in text
    assert f"{secret:>5}" == "  ***"
    assert secret.reveal() == VALUE


def test_secret_in_a_dataclass_repr_and_an_exception() -> None:
    @dataclass
    class Login:
        user: str
        password: Secret

    login = Login("svc", Secret(VALUE))
    assert VALUE not in repr(login)
    assert VALUE not in str(ValueError(login.password))


def test_secret_through_logging(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(VALUE)
    logger = logging.getLogger("remediate.test")
    with caplog.at_level(logging.DEBUG, logger="remediate.test"):
        logger.info("password %s", secret)
        logger.warning("password %r", secret)
        logger.error(secret)
        logger.debug("args %s", {"password": secret})
        logger.info("extra", extra={"secret": secret})
    assert len(caplog.records) == 5
    output = caplog.text + "".join(record.getMessage() for record in caplog.records)
    assert VALUE not in output
    assert "***" in output


def test_secret_cannot_be_serialised() -> None:
    secret = Secret(VALUE)
    with pytest.raises(TypeError):
        json.dumps({"password": secret})
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"s": secret})["s"] is secret


def test_secret_equality_and_truth() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert not Secret("")
    assert Secret(Secret("x", user="u")).user == "u"
    assert {Secret("a"), Secret("a")} == {Secret("a")}
    with pytest.raises(TypeError):
        Secret(1234)  # type: ignore[arg-type]


# --- redact ---------------------------------------------------------------------------------


def test_redact_plain_and_url_encoded_forms() -> None:
    secret = Secret("p@ss w/rd&1")
    text = (
        f"raw={secret.reveal()} "
        f"q={quote(secret.reveal(), safe='')} "
        f"q2={quote(secret.reveal())} "
        f"plus={quote_plus(secret.reveal())} "
        f"lower={quote(secret.reveal(), safe='').lower()}"
    )
    redacted = redact(text, [secret])
    assert redacted == "raw=*** q=*** q2=*** plus=*** lower=***"


def test_redact_basic_auth_header_from_requests() -> None:
    secret = Secret("Summer2024!", user="CORP\\svc_audit")
    request = requests.Request(
        "POST", "http://h:5985/wsman", auth=("CORP\\svc_audit", "Summer2024!")
    ).prepare()
    header = request.headers["Authorization"]
    assert header.startswith("Basic ")
    redacted = redact(f"sent Authorization: {header}", [secret])
    assert redacted == "sent Authorization: Basic ***"
    token = base64.b64encode(b"CORP\\svc_audit:Summer2024!").decode()
    assert redact(token.rstrip("="), [secret]) == "***"


def test_redact_base64_with_users_given_separately() -> None:
    token = base64.b64encode(b"root:pw-123").decode()
    assert redact(f"Basic {token}", ["pw-123"], users=["root"]) == "Basic ***"
    assert redact(f"Basic {token}", ["pw-123"]) == f"Basic {token}"


def test_redact_json_escaped_and_several_secrets() -> None:
    first, second = Secret('quo"te\\back'), Secret("second-one")
    document = json.dumps({"a": first.reveal(), "b": [second.reveal()]})
    redacted = redact(document, [first, second])
    assert json.loads(redacted) == {"a": "***", "b": ["***"]}


def test_redact_overlapping_secrets_prefers_the_longest() -> None:
    assert redact("abcdef and abc", ["abc", "abcdef"]) == "*** and ***"


def test_redact_nothing_to_hide() -> None:
    assert redact("text", []) == "text"
    assert redact("text", [Secret(""), ""]) == "text"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=30), st.text(max_size=40), st.text(max_size=40))
def test_fuzz_redact_leaves_no_copy(value: str, before: str, after: str) -> None:
    redacted = redact(before + value + after, [Secret(value)])
    assert value not in redacted or value in "***"
