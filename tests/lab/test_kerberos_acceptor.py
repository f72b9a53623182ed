"""The lab accepts Kerberos as a domain-member Windows host does (issue 20).

Real sockets, a real MIT KDC (tests/kerberos_realm.py), real clients: pywinrm's kerberos
transport with a kinit'ed ticket cache, and a raw python-gssapi client for what pywinrm cannot
be made to send (a ticket for another host, a bare `Kerberos` scheme).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from remediate.lab.fleet import FleetError, load_fleet, parse_fleet
from tests.kerberos_realm import KerberosRealm, RealmError

pytestmark = [pytest.mark.lab]


# --- the fleet file -------------------------------------------------------------------------


def test_fleet_kerberos_settings_and_endpoints(tmp_path: Path) -> None:
    fleet_file = tmp_path / "fleet.yml"
    fleet_file.write_text(
        "kerberos: {realm: CORP.EXAMPLE, keytab: keys/lab.keytab}\n"
        "hosts:\n"
        "  - name: ex2016-01.corp.example\n"
        "    endpoints: {ntlm: false, negotiate: true, kerberos: true}\n"
        "  - name: legacy\n",
        encoding="utf-8",
    )
    fleet = load_fleet(fleet_file)
    assert fleet.kerberos is not None
    assert fleet.kerberos.keytab == tmp_path / "keys" / "lab.keytab"
    modern, legacy = fleet.hosts
    assert (modern.endpoints.ntlm, modern.endpoints.negotiate) == (False, True)
    assert (legacy.endpoints.ntlm, legacy.endpoints.kerberos) == (True, True)
    assert fleet.kerberos.fqdn(modern) == "ex2016-01.corp.example"
    assert fleet.kerberos.service_principals(modern) == (
        "HTTP/ex2016-01.corp.example@CORP.EXAMPLE",
        "HTTP/ex2016-01@CORP.EXAMPLE",
    )


def test_fleet_without_kerberos_has_none() -> None:
    assert parse_fleet("hosts: [{name: a}]").kerberos is None


@pytest.mark.parametrize("realm", ["lab.local", "LAB", "LAB..LOCAL", "-LAB.LOCAL"])
def test_fleet_refuses_a_realm_that_is_no_domain(realm: str) -> None:
    with pytest.raises(FleetError, match="not a Kerberos realm"):
        parse_fleet(f"kerberos: {{realm: '{realm}', keytab: k}}\nhosts: [{{name: a}}]")


# --- the realm fixture ----------------------------------------------------------------------


@pytest.mark.kerberos
def test_realm_issues_tickets_and_refuses_bad_passwords(
    kerberos_realm: KerberosRealm, tmp_path: Path
) -> None:
    principal = kerberos_realm.add_user("fixture-user", "Fixture-Passw0rd!")
    expired = kerberos_realm.add_user("fixture-expired", "Expired-Passw0rd!", expired=True)
    ccache = tmp_path / "user.ccache"
    kerberos_realm.kinit(principal, "Fixture-Passw0rd!", ccache)
    listed = subprocess.run(
        ["klist", "-c", f"FILE:{ccache}"], capture_output=True, text=True, check=True
    ).stdout
    assert f"krbtgt/{kerberos_realm.realm}@{kerberos_realm.realm}" in listed
    with pytest.raises(RealmError, match="Password incorrect") as wrong:
        kerberos_realm.kinit(principal, "Wrong-Passw0rd!", tmp_path / "wrong.ccache")
    assert "Wrong-Passw0rd!" not in str(wrong.value)
    with pytest.raises(RealmError, match="Password expired"):
        kerberos_realm.kinit(expired, "Expired-Passw0rd!", tmp_path / "expired.ccache")
    with pytest.raises(RealmError, match="not found in Kerberos database"):
        kerberos_realm.kinit("nobody@LAB.LOCAL", "x", tmp_path / "nobody.ccache")


@pytest.mark.kerberos
def test_realm_keytab_holds_only_service_keys(kerberos_realm: KerberosRealm) -> None:
    kerberos_realm.add_user("keytab-user", "Keytab-Passw0rd!")
    fqdn = kerberos_realm.add_host("EX-FIXTURE")
    assert fqdn == "ex-fixture.lab.local"
    listed = subprocess.run(
        ["klist", "-k", str(kerberos_realm.keytab)], capture_output=True, text=True, check=True
    ).stdout
    assert "HTTP/ex-fixture.lab.local@LAB.LOCAL" in listed
    assert "HTTP/ex-fixture@LAB.LOCAL" in listed
    assert "keytab-user" not in listed
