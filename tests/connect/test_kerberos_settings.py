"""Kerberos connection variables, as Ansible's winrm connection plugin reads them."""

from __future__ import annotations

import pytest

from remediate.connect import variables
from remediate.connect.secrets import Secret
from remediate.connect.targets import ConnectOptions, targets_for
from remediate.connect.variables import connection_settings, describe, kerberos_principal
from remediate.errors import InputError
from remediate.inventory import Host
from remediate.inventory.ini import parse_inventory
from remediate.transport.winrm import WinRMSettings

NO_ENVIRONMENT: dict[str, str] = {}


def host(line: str) -> Host:
    (found,) = parse_inventory(line + "\n", "hosts.ini").hosts
    return found


def settings(line: str, password: str | None = None) -> WinRMSettings:
    result = connection_settings(host(line), password=Secret(password) if password else None)
    assert isinstance(result, WinRMSettings)
    return result


KERBEROS = "ex2016-01 ansible_host=127.0.0.5 ansible_winrm_transport=kerberos"


@pytest.mark.parametrize(
    ("user", "principal"),
    [
        ("alice@lab.local", "alice@LAB.LOCAL"),
        ("alice@LAB.LOCAL", "alice@LAB.LOCAL"),
        ("Alice@Corp.Example.Com", "Alice@CORP.EXAMPLE.COM"),
        ("alice", "alice"),
        ("svc@x@corp.local", "svc@x@CORP.LOCAL"),
    ],
)
def test_the_realm_of_the_user_principal_is_written_in_capitals(user: str, principal: str) -> None:
    assert kerberos_principal(user) == principal
    assert settings(f"{KERBEROS} ansible_user={user}").username == principal


def test_defaults_as_ansible_managed_with_a_password_manual_without() -> None:
    managed = settings(f"{KERBEROS} ansible_user=alice@lab.local", "pw")
    assert (managed.kinit_mode, managed.service, managed.kerberos_delegation) == (
        "managed",
        "HTTP",
        False,
    )
    assert managed.kerberos_hostname_override is None
    assert managed.spn == "HTTP/127.0.0.5"
    manual = settings(f"{KERBEROS} ansible_user=alice@lab.local")
    assert manual.kinit_mode == "manual"
    assert settings(KERBEROS).kinit_mode == "manual"  # no user: the cache's default principal


def test_service_delegation_and_hostname_override_are_honoured() -> None:
    found = settings(
        f"{KERBEROS} ansible_user=alice@LAB.LOCAL ansible_winrm_kinit_mode=manual"
        " ansible_winrm_service=WSMAN ansible_winrm_kerberos_delegation=yes"
        " ansible_winrm_kerberos_hostname_override=ex2016-01.lab.local",
        "pw",
    )
    assert found.kinit_mode == "manual"  # the mode wins over the password, as in Ansible
    assert found.service == "WSMAN"
    assert found.kerberos_delegation is True
    assert found.spn == "WSMAN/ex2016-01.lab.local"
    assert found.password == "pw"


@pytest.mark.parametrize(("value", "expected"), [("True", True), ("0", False), ("off", False)])
def test_delegation_reads_ansible_booleans(value: str, expected: bool) -> None:
    line = f"{KERBEROS} ansible_winrm_kerberos_delegation={value}"
    assert settings(line).kerberos_delegation is expected


@pytest.mark.parametrize(
    ("extra", "password", "words"),
    [
        ("ansible_winrm_kerberos_delegation=maybe", None, "is not a boolean"),
        ("ansible_winrm_kinit_mode=auto", None, "is not valid"),
        ("ansible_user=alice@LAB.LOCAL ansible_winrm_kinit_mode=managed", None, "needs the user"),
        ("ansible_winrm_kinit_mode=managed", "pw", "needs a user"),
        ("ansible_user=LAB\\\\alice", "pw", "down-level logon name"),
    ],
)
def test_settings_that_cannot_work_name_the_variable(
    extra: str, password: str | None, words: str
) -> None:
    with pytest.raises(InputError, match=words) as caught:
        settings(f"{KERBEROS} {extra}", password)
    assert caught.value.file == "hosts.ini" and caught.value.host == "ex2016-01"


def test_a_missing_gssapi_is_the_hosts_configuration_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = variables._importable
    monkeypatch.setattr(
        variables, "_importable", lambda names: "gssapi" not in names and real(names)
    )
    line = f"{KERBEROS} ansible_user=alice@LAB.LOCAL ansible_password=pw"
    (target,) = targets_for([host(line)], ConnectOptions(), NO_ENVIRONMENT).targets
    assert target.problem is not None and target.problem.reason == "configuration"
    assert "gssapi" in target.problem.message
    assert "remediate[kerberos]" in (target.problem.hint or "")
    assert "pw" not in str(target.problem).replace("pywinrm", "")


def test_a_missing_pykerberos_is_the_hosts_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(variables, "_importable", lambda names: False)
    (target,) = targets_for([host(KERBEROS)], ConnectOptions(), NO_ENVIRONMENT).targets
    assert target.problem is not None and target.problem.reason == "configuration"
    assert "not installed" in target.problem.message
    assert "remediate[kerberos]" in (target.problem.hint or "")


def test_the_runs_ticket_cache_reaches_every_hosts_settings() -> None:
    options = ConnectOptions()
    hosts = [
        host(f"{KERBEROS} ansible_user=alice@LAB.LOCAL ansible_password=pw"),
        host("ex2016-02 ansible_winrm_transport=kerberos ansible_user=alice@LAB.LOCAL"),
    ]
    found = targets_for(hosts, options, NO_ENVIRONMENT)
    assert all(t.problem is None for t in found.targets)
    built = [connection_settings(h, tickets=options.tickets) for h in hosts]
    assert all(isinstance(s, WinRMSettings) and s.tickets is options.tickets for s in built)
    assert options.tickets.directory is None  # nothing made before a ticket is needed
    assert "tickets" not in repr(options) and "tickets" not in repr(built[0])


def test_inventory_vars_show_the_kerberos_settings_and_never_the_password() -> None:
    line = (
        f"{KERBEROS} ansible_user=alice@lab.local ansible_password=Sekr1t!"
        " ansible_winrm_kerberos_hostname_override=ex2016-01.lab.local"
    )
    shown = dict(describe(host(line), settings(line, "Sekr1t!")))
    assert shown["user"] == "alice@LAB.LOCAL"
    assert shown["kinit mode"] == "managed"
    assert shown["service principal"] == "HTTP/ex2016-01.lab.local"
    assert shown["kerberos delegation"] == "no"
    assert "Sekr1t!" not in repr(shown)
