"""Connection variables: a host's Ansible variables read into WinRM or SSH settings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from remediate.connect import variables
from remediate.connect.passwords import password_in_inventory
from remediate.connect.secrets import Secret
from remediate.connect.variables import (
    connection_kind,
    connection_settings,
    describe,
    host_address,
    shell_dialect,
)
from remediate.errors import InputError
from remediate.inventory import Host, Inventory, load_inventory
from remediate.transport.ssh import SshSettings
from remediate.transport.winrm import WinRMSettings
from tests.inventory.samples import FLEET, line_of, load, write


@pytest.fixture
def fleet_path(tmp_path: Path) -> Path:
    return write(tmp_path, FLEET)


@pytest.fixture
def fleet(fleet_path: Path) -> Inventory:
    return load_inventory(fleet_path)


def with_own_password(host: Host, **options: Any) -> WinRMSettings | SshSettings:
    """The settings with the password the inventory gives, as `remediate inventory` shows them."""
    choice = password_in_inventory(host)
    return connection_settings(host, password=choice.secret if choice else None, **options)


def test_address_and_port_of_the_fleet(fleet: Inventory) -> None:
    exch11 = fleet.host("exch11.corp.local")
    assert host_address(exch11) == ("10.1.2.11", 5986)
    assert host_address(fleet.host("exch10.corp.local")) == ("exch10.corp.local", 5985)
    assert host_address(fleet.host("exch01.corp.local")) == ("exch01.corp.local", None)


def test_connection_settings_of_the_fleet(fleet: Inventory) -> None:
    exch01 = with_own_password(fleet.host("exch01.corp.local"))
    assert exch01 == WinRMSettings(
        address="exch01.corp.local",
        port=5986,
        scheme="https",
        auth="ntlm",
        username="CORP\\svc_audit",
        password="Summer2024!",
        validate_certificate=True,
        ca_trust_path="/etc/pki/corp-ca.pem",
        message_encryption="auto",
        operation_timeout=60,
        read_timeout=70,
    )
    exch10 = with_own_password(fleet.host("exch10.corp.local"))
    assert isinstance(exch10, WinRMSettings)
    assert exch10.endpoint == "http://exch10.corp.local:5985/wsman"
    edge = with_own_password(fleet.host("edge-b.dmz.local"))
    assert isinstance(edge, WinRMSettings)
    assert edge.validate_certificate is False
    assert (edge.operation_timeout, edge.read_timeout) == (20, 30)
    ipv6 = with_own_password(fleet.host("2001:db8::25"))
    assert isinstance(ipv6, WinRMSettings)
    assert ipv6.endpoint == "https://[2001:db8::25]:5986/wsman"
    assert ipv6.message_encryption == "always"
    jump = with_own_password(fleet.host("jump.corp.local"))
    assert jump == SshSettings(
        address="10.1.0.4", port=22, username="audit", password="Summer2024!"
    )


def test_basic_over_http_is_refused_unless_opted_in(fleet: Inventory, fleet_path: Path) -> None:
    ex2003 = fleet.host("ex2003.corp.local")
    with pytest.raises(InputError) as caught:
        with_own_password(ex2003)
    message = str(caught.value)
    assert f"{fleet_path}:{line_of(FLEET, 'ex2003')}: ex2003.corp.local:" in message
    assert "--allow-insecure" in message and "plaintext" in message
    allowed = with_own_password(ex2003, allow_insecure=True)
    assert isinstance(allowed, WinRMSettings)
    assert (allowed.scheme, allowed.auth, allowed.password) == ("http", "basic", "P@ss #2003")


# --- connection settings --------------------------------------------------------------------


def settings_of(tmp_path: Path, host_vars: str, **options: Any) -> WinRMSettings | SshSettings:
    inv = load(tmp_path, f"[g]\nh {host_vars}\n")
    return with_own_password(inv.host("h"), **options)


def test_winrm_defaults(tmp_path: Path) -> None:
    assert settings_of(tmp_path, "") == WinRMSettings(address="h")


@pytest.mark.parametrize(
    ("host_vars", "endpoint"),
    [
        ("ansible_port=5985", "http://h:5985/wsman"),
        ("ansible_port=5985 ansible_winrm_scheme=https", "https://h:5985/wsman"),
        ("ansible_winrm_scheme=http", "http://h:5986/wsman"),
        ("ansible_port=8443", "https://h:8443/wsman"),
        ("ansible_host=10.0.0.9 ansible_winrm_scheme=HTTPS", "https://10.0.0.9:5986/wsman"),
    ],
)
def test_scheme_follows_the_port_unless_set(tmp_path: Path, host_vars: str, endpoint: str) -> None:
    settings = settings_of(tmp_path, host_vars)
    assert isinstance(settings, WinRMSettings)
    assert settings.endpoint == endpoint


def test_timeouts(tmp_path: Path) -> None:
    settings = settings_of(tmp_path, "ansible_winrm_operation_timeout_sec=45")
    assert isinstance(settings, WinRMSettings)
    assert (settings.operation_timeout, settings.read_timeout) == (45, 55)
    explicit = settings_of(tmp_path, "ansible_winrm_read_timeout_sec=90")
    assert isinstance(explicit, WinRMSettings)
    assert (explicit.operation_timeout, explicit.read_timeout) == (20, 90)
    with pytest.raises(InputError, match=r"hosts.ini:2: h: the read timeout must be longer"):
        settings_of(
            tmp_path, "ansible_winrm_operation_timeout_sec=30 ansible_winrm_read_timeout_sec=30"
        )


@pytest.mark.parametrize(
    ("host_vars", "auth"),
    [
        ("ansible_winrm_transport=kerberos,ntlm", "kerberos"),
        ("ansible_winrm_transport=\"['credssp', 'ntlm']\"", "credssp"),
        ("ansible_winrm_transport=NTLM", "ntlm"),
        ("ansible_winrm_transport=ssl", "ssl"),
        ("ansible_winrm_transport=basic", "basic"),
        ("ansible_winrm_transport=plaintext ansible_port=5985", "plaintext"),
        ("ansible_connection=psrp ansible_psrp_auth=negotiate", "ntlm"),
    ],
)
def test_transports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_vars: str, auth: str
) -> None:
    monkeypatch.setattr(variables, "_importable", lambda modules: True)
    settings = settings_of(tmp_path, host_vars)
    assert isinstance(settings, WinRMSettings)
    assert settings.auth == auth


def test_psrp_is_winrm_with_its_own_names(tmp_path: Path) -> None:
    settings = settings_of(
        tmp_path,
        "ansible_connection=psrp ansible_psrp_protocol=http ansible_port=5985 "
        "ansible_psrp_cert_validation=ignore ansible_psrp_user=psrp_user",
    )
    assert isinstance(settings, WinRMSettings)
    assert (settings.scheme, settings.validate_certificate) == ("http", False)
    assert settings.username == "psrp_user"


@pytest.mark.parametrize(("transport", "extra"), [("kerberos", "kerberos"), ("credssp", "credssp")])
def test_missing_auth_library_names_the_pip_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: str, extra: str
) -> None:
    monkeypatch.setattr(variables, "_importable", lambda modules: False)
    with pytest.raises(InputError) as caught:
        settings_of(tmp_path, f"ansible_winrm_transport={transport}")
    assert caught.value.host == "h"
    assert f"pywinrm[{extra}]" in str(caught.value)
    assert "hosts.ini:2:" in str(caught.value)


def test_basic_over_http_from_a_group_var_names_that_line(tmp_path: Path) -> None:
    text = "[g]\nh ansible_port=5985\n[g:vars]\nansible_winrm_transport=basic\n"
    inv = load(tmp_path, text)
    with pytest.raises(InputError, match=r"hosts.ini:4: h: Basic authentication over plain HTTP"):
        with_own_password(inv.host("h"))


@pytest.mark.parametrize(
    "host_vars",
    [
        "ansible_winrm_transport=basic ansible_port=5985",
        "ansible_winrm_transport=ssl ansible_winrm_scheme=http",
    ],
)
def test_every_basic_over_http_is_refused(tmp_path: Path, host_vars: str) -> None:
    with pytest.raises(InputError, match="--allow-insecure"):
        settings_of(tmp_path, host_vars)
    assert isinstance(settings_of(tmp_path, host_vars, allow_insecure=True), WinRMSettings)


def test_basic_over_https_and_explicit_plaintext_are_allowed(tmp_path: Path) -> None:
    https = settings_of(tmp_path, "ansible_winrm_transport=basic")
    assert isinstance(https, WinRMSettings)
    assert (https.scheme, https.auth) == ("https", "basic")
    plain = settings_of(tmp_path, "ansible_winrm_transport=plaintext ansible_port=5985")
    assert isinstance(plain, WinRMSettings)
    assert (plain.scheme, plain.auth) == ("http", "plaintext")


def test_aliases_and_their_precedence(tmp_path: Path) -> None:
    settings = settings_of(
        tmp_path,
        "ansible_user=generic ansible_winrm_user=specific ansible_port=1 remediate_port=5985 "
        "ansible_ssh_pass=legacy ansible_host=wrong remediate_host=10.9.9.9",
    )
    assert isinstance(settings, WinRMSettings)
    assert (settings.username, settings.password) == ("specific", "legacy")
    assert (settings.address, settings.port, settings.scheme) == ("10.9.9.9", 5985, "http")
    legacy = settings_of(tmp_path, "ansible_ssh_user=old ansible_ssh_host=10.0.0.1")
    assert isinstance(legacy, WinRMSettings)
    assert (legacy.username, legacy.address) == ("old", "10.0.0.1")
    ours = settings_of(tmp_path, "ansible_password=a ansible_winrm_pass=b remediate_password=c")
    assert isinstance(ours, WinRMSettings)
    assert ours.password == "c"


def test_the_password_given_is_the_one_used(tmp_path: Path) -> None:
    """Which password wins is decided once, in `passwords`; the settings take it as given."""
    inv = load(
        tmp_path,
        "[g]\nh\ninline ansible_password=inline\n"
        "ssh ansible_connection=ssh ansible_password=inline\n",
    )
    given = connection_settings(inv.host("h"), password=Secret("from-env"))
    assert isinstance(given, WinRMSettings) and given.password == "from-env"
    chosen = connection_settings(inv.host("inline"), password=Secret("chosen"))
    assert isinstance(chosen, WinRMSettings) and chosen.password == "chosen"
    none = connection_settings(inv.host("inline"))
    assert isinstance(none, WinRMSettings) and none.password == ""
    ssh = connection_settings(inv.host("ssh"))
    assert isinstance(ssh, SshSettings) and ssh.password is None


def test_ssh_settings(tmp_path: Path) -> None:
    settings = settings_of(
        tmp_path,
        "ansible_connection=ssh ansible_ssh_port=2222 ansible_user=admin "
        "ansible_ssh_private_key_file=~/.ssh/id_ed25519 remediate_known_hosts=/lab/known_hosts",
        accept_new_host_keys=True,
        known_hosts=["/cli/known_hosts"],
    )
    assert settings == SshSettings(
        address="h",
        port=2222,
        username="admin",
        password=None,
        key_file=str(Path("~/.ssh/id_ed25519").expanduser()),
        known_hosts=("/lab/known_hosts", "/cli/known_hosts"),
        accept_new_host_keys=True,
    )


@pytest.mark.parametrize(
    ("value", "kind"),
    [("winrm", "winrm"), ("psrp", "winrm"), ("ssh", "ssh"), ("paramiko", "ssh"),
     ("ansible.windows.psrp", "winrm"), ("ansible.builtin.ssh", "ssh")],
)  # fmt: skip
def test_connection_kinds(tmp_path: Path, value: str, kind: str) -> None:
    inv = load(tmp_path, f"h ansible_connection={value}\n")
    assert connection_kind(inv.host("h")) == kind


def test_shell_dialect(tmp_path: Path) -> None:
    inv = load(
        tmp_path, "a remediate_shell=wsh\nb remediate_shell=PowerShell\nc\nd remediate_shell=cmd\n"
    )
    assert [shell_dialect(inv.host(n)) for n in "abc"] == ["wsh", "powershell", None]
    with pytest.raises(InputError, match=r"hosts.ini:4: d: remediate_shell='cmd' is not a shell"):
        shell_dialect(inv.host("d"))


# --- describe -------------------------------------------------------------------------------


def test_describe_masks_every_secret(fleet: Inventory) -> None:
    host = fleet.host("exch01.corp.local")
    extra = {
        "vault_token": "tok-123",
        "api_secret": "sec-456",
        "ansible_ssh_private_key_password": "kp-789",
        "remediate_password": "rp-000",
    }
    host = replace(
        host,
        vars={**host.vars, **extra},
        origins={**host.origins, **dict.fromkeys(extra, host.origins["site"])},
    )
    rows = describe(host, with_own_password(host))
    text = "\n".join(f"{key}={value}" for key, value in rows)
    for secret in ("Summer2024!", "rp-000", *extra.values()):
        assert secret not in text
    shown = dict(rows)
    assert shown["password"] == "***"
    assert shown["ansible_password"].startswith("***")
    assert shown["vault_token"].startswith("***")
    assert shown["endpoint"] == "https://exch01.corp.local:5986/wsman"
    assert shown["site"].startswith("'paris'") and "hosts.ini:" in shown["site"]
    assert "Summer2024!" not in repr(host) and "Summer2024!" not in repr(fleet)


def test_describe_ssh_and_without_settings(fleet: Inventory) -> None:
    jump = fleet.host("jump.corp.local")
    shown = dict(describe(jump, with_own_password(jump)))
    assert (shown["connection"], shown["endpoint"]) == ("ssh", "ssh://10.1.0.4:22")
    assert shown["password"] == "***"
    assert "connection" not in dict(describe(jump, None))
    assert dict(describe(jump, None))["address"] == "10.1.0.4"


# --- bad input: InputError with file:line -------------------------------------------------

BAD_ADDRESSES = [
    ("[web]\nh ansible_port=abc\n", 2, "ansible_port='abc' is not a port"),
    ("[web]\nh\n[web:vars]\n\nansible_port=70000\n", 5, "is not a port"),
    ("[web]\nh ansible_port=True\n", 2, "is not a port"),
    ('[web]\nh ansible_host="[1]"\n', 2, "is not a string"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_ADDRESSES)
def test_bad_address_variables_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    inv = load(tmp_path, text)
    path = tmp_path / "hosts.ini"
    for resolve in (host_address, connection_settings):
        with pytest.raises(InputError) as caught:
            resolve(inv.host("h"))
        assert str(caught.value).startswith(f"{path}:{line}: ")
        assert (caught.value.file, caught.value.line) == (str(path), line)
        assert message.lower() in str(caught.value).lower()


@pytest.mark.parametrize(
    ("host_vars", "var", "group_value"),
    [
        ("ansible_winrm_transport=digest", "ansible_winrm_transport", "digest"),
        ("ansible_winrm_transport=certificate", "ansible_winrm_transport", "certificate"),
        ("ansible_connection=local", "ansible_connection", "local"),
        ("ansible_winrm_scheme=ftp", "ansible_winrm_scheme", "ftp"),
        ("ansible_winrm_server_cert_validation=no", "ansible_winrm_server_cert_validation", "no"),
        ("ansible_winrm_message_encryption=x", "ansible_winrm_message_encryption", "x"),
        ("ansible_winrm_operation_timeout_sec=-5", "ansible_winrm_operation_timeout_sec", "0"),
        ("ansible_user=\"['a']\"", "ansible_user", "['b']"),
    ],
)
def test_bad_connection_variables_name_where_they_were_set(
    tmp_path: Path, host_vars: str, var: str, group_value: str
) -> None:
    text = f"[g]\nother\n[g:vars]\nsite=x\n{var}={group_value}\n[h]\nh {host_vars}\n"
    inv = load(tmp_path, text)
    with pytest.raises(InputError) as caught:
        with_own_password(inv.host("h"))
    assert str(caught.value).startswith(f"{tmp_path / 'hosts.ini'}:7: h: {var}=")
    with pytest.raises(InputError) as from_group:
        with_own_password(inv.host("other"))
    assert str(from_group.value).startswith(f"{tmp_path / 'hosts.ini'}:5: other: {var}=")
