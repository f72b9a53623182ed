"""Kerberos pieces of the WinRM transport that need no KDC: error words, the run's ticket
cache, the per-thread cache name, and why a host answered 401."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from remediate.errors import AuthenticationError
from remediate.transport import kerberos_auth
from remediate.transport.kerberos_auth import (
    KRB5_KDC_UNREACH,
    KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN,
    KRB5KDC_ERR_KEY_EXP,
    KRB5KDC_ERR_PREAUTH_FAILED,
    KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN,
    KRB5KRB_AP_ERR_SKEW,
    TicketCache,
    kerberos_failure,
    thread_ccache,
)
from remediate.transport.winrm import WinRMSettings, WinRMTransport
from remediate.transport.wsman_http import offered_schemes


class GSSError(Exception):
    """Shaped as pykerberos' kerberos.GSSError: ((major text, code), (minor text, code))."""


class MissingCredentialsError(Exception):
    """Shaped as python-gssapi's errors: `min_code` unsigned."""

    def __init__(self, minor: int) -> None:
        super().__init__("Major (458752): ..., Minor: secret-free library text")
        self.min_code = minor & 0xFFFFFFFF


class KerberosExchangeError(Exception):
    """Shaped as pywinrm's vendored requests_kerberos error: the codes inside its text."""


def pykerberos(minor: int, text: str = "library text") -> GSSError:
    return GSSError(("Unspecified GSS failure", 851968), (text, minor))


@pytest.mark.parametrize(
    ("error", "words", "name"),
    [
        (pykerberos(KRB5KRB_AP_ERR_SKEW), "clock skew", "KRB5KRB_AP_ERR_SKEW"),
        (
            KerberosExchangeError(
                "authGSSClientStep() failed: (('Unspecified GSS failure.  Minor code may "
                "provide more information', 851968), ('Server HTTP/127.0.0.5@LAB.LOCAL not "
                f"found in Kerberos database', {KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN}))"
            ),
            "unknown SPN",
            "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN",
        ),
        (
            KerberosExchangeError(
                "authGSSClientInit() failed: (('No credentials were supplied', 458752), "
                '("Can\'t find client principal alice@LAB.LOCAL in cache collection", '
                "-1765328243))"
            ),
            "no Kerberos ticket for alice@LAB.LOCAL",
            "KRB5_CC_NOTFOUND",
        ),
        (MissingCredentialsError(KRB5KDC_ERR_KEY_EXP), "has expired", "KRB5KDC_ERR_KEY_EXP"),
        (MissingCredentialsError(KRB5_KDC_UNREACH), "no KDC", "KRB5_KDC_UNREACH"),
        (MissingCredentialsError(KRB5KDC_ERR_PREAUTH_FAILED), "wrong password", "PREAUTH"),
        (pykerberos(KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN), "unknown user", "C_PRINCIPAL_UNKNOWN"),
    ],
)
def test_mit_errors_become_words_a_domain_administrator_knows(
    error: Exception, words: str, name: str
) -> None:
    failure = kerberos_failure(error, "ex2016-01", "alice@LAB.LOCAL", "HTTP/127.0.0.5")
    assert isinstance(failure, AuthenticationError) and failure.reason == "authentication"
    assert words in failure.message and name in failure.message
    assert failure.host == "ex2016-01" and failure.hint
    assert "library text" not in str(failure)


def test_an_unknown_code_is_still_a_kerberos_authentication_error() -> None:
    failure = kerberos_failure(pykerberos(-1765328000), "h")
    assert failure.message.startswith("Kerberos failed") and "-1765328000" in failure.message
    assert "KRB5_TRACE" in (failure.hint or "")


def test_every_kerberos_library_error_is_recognised_by_its_class() -> None:
    assert kerberos_auth.is_kerberos_error(pykerberos(KRB5KRB_AP_ERR_SKEW))
    assert kerberos_auth.is_kerberos_error(KerberosExchangeError("x"))
    assert not kerberos_auth.is_kerberos_error(ValueError("x"))


# --- the run's tickets -----------------------------------------------------------------------


@pytest.fixture
def fake_kdc(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """`_acquire` without a KDC: records who asked, writes a cache file, refuses 'wrong'."""
    asked: list[tuple[str, str]] = []

    def acquire(principal: str, password: str, ccache: str, forwardable: bool = False) -> None:
        asked.append((principal, ccache))
        time.sleep(0.05)  # long enough for the other threads to queue behind the first
        if password == "wrong":
            raise pykerberos(KRB5KDC_ERR_PREAUTH_FAILED)
        Path(ccache.removeprefix("FILE:")).write_bytes(b"ticket")

    monkeypatch.setattr(kerberos_auth, "_acquire", acquire)
    return asked


def test_one_ticket_per_principal_shared_by_its_hosts(fake_kdc: list[tuple[str, str]]) -> None:
    with TicketCache() as tickets:
        names: list[str] = []
        threads = [
            threading.Thread(
                target=lambda i=i: names.append(
                    tickets.ccache_for(f"user{i % 2}@LAB.LOCAL", "pw", f"host{i}")
                )
            )
            for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(p for p, _ in fake_kdc) == ["user0@LAB.LOCAL", "user1@LAB.LOCAL"]
        assert len(set(names)) == 2 and tickets.acquired == 2
        directory = tickets.directory
        assert directory is not None
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert all(name.startswith(f"FILE:{directory}{os.sep}") for name in names)
    assert not directory.exists()


def test_a_refused_password_is_not_tried_again_for_the_next_host(
    fake_kdc: list[tuple[str, str]],
) -> None:
    with TicketCache() as tickets:
        for name in ("h1", "h2", "h3"):
            with pytest.raises(AuthenticationError, match="wrong password") as caught:
                tickets.ccache_for("alice@LAB.LOCAL", "wrong", name)
            assert caught.value.host == name
        assert len(fake_kdc) == 1  # the account lockout counter moved once


def test_the_cache_is_wiped_when_the_run_is_forgotten(fake_kdc: list[tuple[str, str]]) -> None:
    tickets = TicketCache()
    tickets.ccache_for("alice@LAB.LOCAL", "pw", "h")
    directory = tickets.directory
    assert directory is not None and any(directory.iterdir())
    del tickets  # a finalizer, which also runs at interpreter exit
    assert not directory.exists()


def test_closing_before_any_ticket_makes_nothing() -> None:
    tickets = TicketCache()
    tickets.close()
    tickets.close()
    assert tickets.directory is None


# --- the cache name is per thread ----------------------------------------------------------


def test_the_cache_name_is_set_for_the_calling_thread_only() -> None:
    raw = pytest.importorskip("gssapi.raw")

    def current() -> bytes:
        name = raw.krb5_ccache_name(None)  # reads (and leaves) the thread's default
        return name

    default = current()
    seen: dict[str, bytes] = {}
    with thread_ccache("FILE:/nonexistent/remediate-test"):
        other = threading.Thread(target=lambda: seen.setdefault("other", current()))
        other.start()
        other.join()
        inside = raw.krb5_ccache_name(b"FILE:/nonexistent/remediate-test")
    assert inside == b"FILE:/nonexistent/remediate-test"
    assert seen["other"] == default
    assert current() == default


# --- why a host answered 401 -----------------------------------------------------------------


def test_the_schemes_a_host_offers_are_read_from_every_header_and_leg() -> None:
    first = ", ".join(("Negotiate", "Kerberos", 'Basic realm="WSMAN"'))  # as requests joins them
    last = "Negotiate oRswGaADCgEAoxIEEAEAAA=="
    assert offered_schemes([first, last]) == {"negotiate", "kerberos", "basic"}
    assert offered_schemes(["CredSSP", "Negotiate"]) == {"credssp", "negotiate"}  # one each


@pytest.mark.parametrize(
    ("auth", "offers", "words"),
    [
        ("kerberos", {"basic"}, "does not accept Kerberos"),
        ("kerberos", {"negotiate", "kerberos"}, "refused the Kerberos ticket for HTTP/ex.lab"),
        ("ntlm", {"kerberos"}, "refuses NTLM"),
        ("ntlm", {"negotiate", "kerberos"}, "wrong user or password, or the host denies NTLM"),
        ("basic", {"basic"}, "credentials were rejected"),
    ],
)
def test_a_401_says_which_side_refused(auth: str, offers: set[str], words: str) -> None:
    settings = WinRMSettings(
        address="127.0.0.5",
        auth=auth,
        username="alice@LAB.LOCAL",
        kerberos_hostname_override="ex.lab",
    )
    transport = WinRMTransport(settings, host="ex")
    transport._offers = frozenset(offers)
    refused = transport._refused()
    assert words in refused.message and refused.hint


# --- against a real KDC ----------------------------------------------------------------------


def flags_of(ccache: str) -> str:
    """The ticket-granting ticket's flags as `klist -f` shows them (F: forwardable)."""
    listed = subprocess.run(
        ["klist", "-f", "-c", ccache], capture_output=True, text=True, check=True
    ).stdout
    return listed.split("Flags: ", 1)[1].split()[0]


@pytest.mark.kerberos
def test_delegation_gets_a_forwardable_ticket_as_kinit_f_does(kerberos_realm: Any) -> None:
    principal = kerberos_realm.add_user("delegating-user", "Deleg-Passw0rd!")
    with TicketCache() as tickets:
        plain = tickets.ccache_for(principal, "Deleg-Passw0rd!", "h1")
        forwardable = tickets.ccache_for(principal, "Deleg-Passw0rd!", "h2", forwardable=True)
        assert plain != forwardable and tickets.acquired == 2
        assert "F" not in flags_of(plain)  # the realm's krb5.conf has no `forwardable = true`
        assert "F" in flags_of(forwardable)
        again = tickets.ccache_for(principal, "Deleg-Passw0rd!", "h3", forwardable=True)
        assert again == forwardable and tickets.acquired == 2


@pytest.mark.kerberos
@pytest.mark.parametrize(
    ("password", "words"),
    [("Wrong-Passw0rd!", "wrong password"), (None, "has expired")],
)
def test_kinit_refusals_are_named_as_gssapi_ones(
    kerberos_realm: Any, password: str | None, words: str
) -> None:
    expired = password is None
    name = "kinit-expired" if expired else "kinit-wrong"
    principal = kerberos_realm.add_user(name, "Right-Passw0rd!", expired=expired)
    with TicketCache() as tickets, pytest.raises(AuthenticationError, match=words) as caught:
        tickets.ccache_for(principal, password or "Right-Passw0rd!", "h", forwardable=True)
    assert "Passw0rd" not in str(caught.value)


def test_the_kerberos_settings_reach_pywinrm() -> None:
    settings = WinRMSettings(
        address="127.0.0.5",
        auth="kerberos",
        username="alice@LAB.LOCAL",
        service="WSMAN",
        kerberos_delegation=True,
        kerberos_hostname_override="ex.lab.local",
    )
    transport = WinRMTransport(settings, host="ex")._protocol.transport.pywinrm
    assert (transport.service, transport.kerberos_delegation) == ("WSMAN", True)
    assert transport.kerberos_hostname_override == "ex.lab.local"
    assert transport.username == "alice@LAB.LOCAL"  # pywinrm's principal
