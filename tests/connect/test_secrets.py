"""Secrets: a password never shows in any output, and `redact` hides every form of it."""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import pickle
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.connect.secrets import Secret, redact

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


# --- Kerberos: the password, the tickets -----------------------------------------------------


def test_kerberos_settings_and_errors_never_show_the_password() -> None:
    from remediate.connect.targets import ConnectOptions
    from remediate.transport.kerberos_auth import kerberos_failure
    from remediate.transport.winrm import WinRMSettings

    options = ConnectOptions()
    settings = WinRMSettings(
        address="ex", auth="kerberos", username="a@LAB", password=VALUE, tickets=options.tickets
    )
    assert VALUE not in repr(settings) and "tickets" not in repr(settings)
    assert "tickets" not in repr(options)

    class GSSError(Exception):
        pass

    # A library's text is never shown: only MIT's error name and our words.
    failure = kerberos_failure(GSSError(("bad", 1), (f"echo {VALUE}", -1765328360)), "ex", "a@LAB")
    assert VALUE not in str(failure) and "KRB5KDC_ERR_PREAUTH_FAILED" in str(failure)


@pytest.mark.kerberos
def test_managed_tickets_stay_private_and_go_away(kerberos_realm: Any) -> None:
    from remediate.transport.kerberos_auth import TicketCache

    principal = kerberos_realm.add_user("secrets-user", VALUE)
    default_cache = Path(os.environ["KRB5CCNAME"].removeprefix("FILE:"))
    before = default_cache.read_bytes() if default_cache.exists() else None
    with TicketCache() as tickets:
        path = Path(tickets.ccache_for(principal, VALUE, "ex").removeprefix("FILE:"))
        directory = tickets.directory
        assert directory is not None
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        assert b"krbtgt" in data and VALUE.encode() not in data  # a ticket, no password
    assert not directory.exists()
    after = default_cache.read_bytes() if default_cache.exists() else None
    assert after == before  # the user's own cache was neither read into nor written
