"""The lab accepts Kerberos as a domain-member Windows host does (issue 20).

Real sockets, a real MIT KDC (tests/kerberos_realm.py), real clients: pywinrm's kerberos
transport with a kinit'ed ticket cache, and a raw python-gssapi client for what pywinrm cannot
be made to send (a ticket for another host, a bare `Kerberos` scheme).
"""

from __future__ import annotations

import base64
import http.client
import os
import signal
import ssl
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import spnego
from winrm.protocol import Protocol

from remediate.lab.fleet import FleetError, KerberosSettings, load_fleet, parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.protocols.kerberos import KerberosAcceptor, KerberosService, token_mechanism
from remediate.lab.protocols.ntlm import EncryptionError
from remediate.lab.server import Lab, LabError
from tests.conftest import PASSWORD, interruptible
from tests.kerberos_realm import KerberosRealm, RealmError
from tests.lab.test_lab_cli import REMEDIATE, wait_for

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


# --- a Kerberos lab -------------------------------------------------------------------------

MODERN_OS = (
    "{caption: Microsoft Windows Server 2016 Standard, version: 10.0.14393, build: 14393, "
    'service_pack: 0, architecture: x64, powershell: "5.1"}'
)
KERBEROS_FLEET = f"""
name: kerberos
address_base: 127.41.0.1
defaults:
  os: {MODERN_OS}
hosts:
  - name: ex2016-01.lab.local
    description: NTLM denied, no plain SOAP over HTTP (a hardened domain member)
    endpoints: {{ntlm: false, allow_unencrypted: false, basic: false}}
  - name: ex2016-02.lab.local
    endpoints: {{allow_unencrypted: false}}
  - name: nonego.lab.local
    endpoints: {{negotiate: false, ntlm: false}}
  - name: nokrb.lab.local
    endpoints: {{kerberos: false}}
"""
HARDENED, OTHER, NO_NEGOTIATE, NO_KERBEROS = (
    "ex2016-01.lab.local",
    "ex2016-02.lab.local",
    "nonego.lab.local",
    "nokrb.lab.local",
)


@pytest.fixture(scope="module")
def kerberos_lab(kerberos_realm: KerberosRealm) -> Iterator[Lab]:
    fleet = parse_fleet(KERBEROS_FLEET, "kerberos.yml")
    kerberos_realm.add_user("Administrator", PASSWORD)
    for spec in fleet.hosts:
        kerberos_realm.add_host(spec.hostname)
    settings = KerberosSettings(realm=kerberos_realm.realm, keytab=kerberos_realm.keytab)
    with Lab(fleet, port_mode="ephemeral", admin_port=None, kerberos=settings) as lab:
        yield lab


@pytest.fixture(scope="module")
def ticket_cache(kerberos_lab: Lab, kerberos_realm: KerberosRealm, tmp_path_factory) -> Path:
    """The administrator's own `kinit` ticket cache (the manual ticket source)."""
    ccache = tmp_path_factory.mktemp("krb5cc") / "administrator.ccache"
    kerberos_realm.kinit("Administrator@LAB.LOCAL", PASSWORD, ccache)
    return ccache


@pytest.fixture
def in_cache(ticket_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pykerberos reads the default cache: point KRB5CCNAME at the administrator's."""
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ticket_cache}")
    return ticket_cache


def pywinrm(lab: Lab, name: str, scheme: str = "http", **options: object) -> Protocol:
    endpoint = lab.endpoint(name)
    port = endpoint.https_port if scheme == "https" else endpoint.http_port
    settings: dict[str, object] = {
        "endpoint": f"{scheme}://{endpoint.address}:{port}/wsman",
        "transport": "kerberos",
        "username": "Administrator@LAB.LOCAL",
        "kerberos_hostname_override": lab.fqdn(name),
        "ca_trust_path": str(lab.ca_path),
        "operation_timeout_sec": 5,
        "read_timeout_sec": 10,
        **options,
    }
    return Protocol(**settings)  # type: ignore[arg-type]


def hostname_over(protocol: Protocol) -> bytes:
    shell = protocol.open_shell()
    try:
        command = protocol.run_command(shell, "hostname")
        out, _, code = protocol.get_command_output(shell, command)
        protocol.cleanup_command(shell, command)
    finally:
        protocol.close_shell(shell)
    assert code == 0
    return out


def gss_client(
    spn_host: str, ccache: Path, *, spnego: bool = False, bindings: bytes | None = None
) -> Any:
    """A raw python-gssapi initiator asking for `HTTP/<spn_host>` with the given ticket cache
    (imported here: the realm fixture has already skipped or failed when it is missing)."""
    import gssapi

    creds = gssapi.Credentials(usage="initiate", store={"ccache": f"FILE:{ccache}"})
    flags = gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.integrity
    return gssapi.SecurityContext(
        name=gssapi.Name(f"HTTP@{spn_host}", gssapi.NameType.hostbased_service),
        creds=creds,
        usage="initiate",
        flags=flags,
        mech=gssapi.OID.from_int_seq("1.3.6.1.5.5.2") if spnego else None,
        channel_bindings=(
            gssapi.raw.ChannelBindings(application_data=bindings) if bindings else None
        ),
    )


def post(
    lab: Lab, name: str, authorization: str | None = None, scheme: str = "http"
) -> tuple[int, list[str]]:
    """One empty POST /wsman (what pywinrm sends to set up encryption); status and offers."""
    endpoint = lab.endpoint(name)
    connection: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context(cafile=str(lab.ca_path))
        connection = http.client.HTTPSConnection(
            endpoint.address, endpoint.https_port, context=context, timeout=10
        )
    else:
        connection = http.client.HTTPConnection(endpoint.address, endpoint.http_port, timeout=10)
    headers = {"Content-Length": "0"}
    if authorization:
        headers["Authorization"] = authorization
    try:
        connection.request("POST", "/wsman", body=b"", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.headers.get_all("WWW-Authenticate") or []
    finally:
        connection.close()


def negotiate(context: Any, scheme: str = "Negotiate") -> str:
    return f"{scheme} {base64.b64encode(context.step()).decode()}"


# --- real clients ---------------------------------------------------------------------------


@pytest.mark.kerberos
def test_pywinrm_kerberos_encrypted_over_http_on_a_host_that_denies_ntlm(
    kerberos_lab: Lab, in_cache: Path
) -> None:
    before = kerberos_lab.counters(HARDENED)["auth_failures"]
    # The host takes no plain SOAP over HTTP: only the sealed messages can get through.
    assert hostname_over(pywinrm(kerberos_lab, HARDENED)) == b"EX2016-01\r\n"
    assert kerberos_lab.counters(HARDENED)["auth_failures"] == before
    assert kerberos_lab.counters(HARDENED)["shells_open"] == 0


@pytest.mark.kerberos
def test_pywinrm_kerberos_over_https_with_channel_binding(
    kerberos_lab: Lab, in_cache: Path
) -> None:
    protocol = pywinrm(kerberos_lab, HARDENED, scheme="https", send_cbt=True)
    assert hostname_over(protocol) == b"EX2016-01\r\n"


@pytest.mark.kerberos
def test_pywinrm_kerberos_reaches_a_host_that_also_allows_ntlm(
    kerberos_lab: Lab, in_cache: Path
) -> None:
    assert hostname_over(pywinrm(kerberos_lab, OTHER)) == b"EX2016-02\r\n"


@pytest.mark.kerberos
def test_ntlm_is_refused_where_the_host_denies_it(kerberos_lab: Lab) -> None:
    ntlm = {"transport": "ntlm", "username": "LAB\\Administrator", "password": PASSWORD}
    assert hostname_over(pywinrm(kerberos_lab, OTHER, **ntlm)) == b"EX2016-02\r\n"
    before = kerberos_lab.counters(HARDENED)["auth_failures"]
    # The NEGOTIATE_MESSAGE already gets the bare 401 (no CHALLENGE), which requests_ntlm
    # reports as PermissionError, unlike a wrong password (refused after AUTHENTICATE).
    with pytest.raises(PermissionError, match="did not respond with NTLM challenge"):
        hostname_over(pywinrm(kerberos_lab, HARDENED, **ntlm))
    assert kerberos_lab.counters(HARDENED)["auth_failures"] > before
    # Denying NTLM does not change what the host offers (Windows offers Negotiate still).
    assert post(kerberos_lab, HARDENED)[1] == ["Negotiate", "Kerberos"]


@pytest.mark.kerberos
def test_raw_client_completes_mutual_authentication(kerberos_lab: Lab, ticket_cache: Path) -> None:
    for wrapped in (False, True):
        client = gss_client(kerberos_lab.fqdn(HARDENED) or "", ticket_cache, spnego=wrapped)
        status, offers = post(kerberos_lab, HARDENED, negotiate(client))
        assert status == 200
        assert len(offers) == 1 and offers[0].startswith("Negotiate ")
        client.step(base64.b64decode(offers[0].split(" ", 1)[1]))  # the AP-REP checks out
        assert client.complete


@pytest.mark.kerberos
def test_the_netbios_spn_is_this_host_too(kerberos_lab: Lab, ticket_cache: Path) -> None:
    client = gss_client("ex2016-01", ticket_cache)
    assert post(kerberos_lab, HARDENED, negotiate(client))[0] == 200


@pytest.mark.kerberos
def test_a_ticket_for_another_hosts_spn_is_refused(kerberos_lab: Lab, ticket_cache: Path) -> None:
    before = kerberos_lab.counters(HARDENED)["auth_failures"]
    client = gss_client(kerberos_lab.fqdn(OTHER) or "", ticket_cache)
    status, offers = post(kerberos_lab, HARDENED, negotiate(client))
    assert (status, offers) == (401, ["Negotiate", "Kerberos"])
    assert kerberos_lab.counters(HARDENED)["auth_failures"] == before + 1


@pytest.mark.kerberos
def test_a_user_who_is_not_admitted_is_refused(
    kerberos_lab: Lab, kerberos_realm: KerberosRealm, tmp_path: Path
) -> None:
    kerberos_realm.add_user("mailbox-user", "Mailbox-Passw0rd!")
    ccache = tmp_path / "user.ccache"
    kerberos_realm.kinit("mailbox-user@LAB.LOCAL", "Mailbox-Passw0rd!", ccache)
    client = gss_client(kerberos_lab.fqdn(HARDENED) or "", ccache)
    assert post(kerberos_lab, HARDENED, negotiate(client))[0] == 401


@pytest.mark.kerberos
def test_https_checks_the_channel_binding_the_client_sends(
    kerberos_lab: Lab, ticket_cache: Path
) -> None:
    fqdn = kerberos_lab.fqdn(HARDENED) or ""
    wrong = gss_client(fqdn, ticket_cache, bindings=b"tls-server-end-point:" + bytes(32))
    assert post(kerberos_lab, HARDENED, negotiate(wrong), scheme="https")[0] == 401
    unbound = gss_client(fqdn, ticket_cache)  # no bindings: accepted (CbtHardeningLevel Relaxed)
    assert post(kerberos_lab, HARDENED, negotiate(unbound), scheme="https")[0] == 200


@pytest.mark.kerberos
def test_no_negotiate_offered_when_the_host_disables_it(
    kerberos_lab: Lab, ticket_cache: Path
) -> None:
    assert post(kerberos_lab, NO_NEGOTIATE) == (401, ["Kerberos", 'Basic realm="WSMAN"'])
    fqdn = kerberos_lab.fqdn(NO_NEGOTIATE) or ""
    refused = post(kerberos_lab, NO_NEGOTIATE, negotiate(gss_client(fqdn, ticket_cache)))
    assert refused[0] == 401
    client = gss_client(fqdn, ticket_cache)
    status, offers = post(kerberos_lab, NO_NEGOTIATE, negotiate(client, "Kerberos"))
    assert status == 200
    assert len(offers) == 1 and offers[0].startswith("Kerberos ")


@pytest.mark.kerberos
def test_a_host_without_kerberos_refuses_tickets(kerberos_lab: Lab, ticket_cache: Path) -> None:
    assert post(kerberos_lab, NO_KERBEROS)[1] == ["Negotiate", 'Basic realm="WSMAN"']
    client = gss_client(kerberos_lab.fqdn(NO_KERBEROS) or "", ticket_cache)
    assert post(kerberos_lab, NO_KERBEROS, negotiate(client))[0] == 401


@pytest.mark.kerberos
def test_a_missing_keytab_stops_the_lab_with_a_clear_error(
    kerberos_realm: KerberosRealm, tmp_path: Path
) -> None:
    fleet = parse_fleet("hosts: [{name: lonely.lab.local}]")
    settings = KerberosSettings(keytab=tmp_path / "nowhere.keytab")
    with pytest.raises(LabError, match=r"lonely.lab.local: cannot accept Kerberos: keytab .* not"):
        Lab(fleet, port_mode="ephemeral", admin_port=None, kerberos=settings).start()


# --- the acceptor and its sealing, without sockets ------------------------------------------

SEALED_TYPE = (
    'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";'
    'boundary="Encrypted Boundary"'
)


def sealed_body(header: bytes, ciphertext: bytes, length: int) -> bytes:
    """A request body laid out as pywinrm's winrm/encryption.py sends it."""
    return (
        b"--Encrypted Boundary\r\n"
        b"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n"
        b"--Encrypted Boundary\r\n"
        b"\tContent-Type: application/octet-stream\r\n"
        % length
        + struct.pack("<I", len(header))
        + header
        + ciphertext
        + b"--Encrypted Boundary--\r\n"
    )


@pytest.fixture
def handshake(kerberos_lab: Lab, in_cache: Path) -> tuple[Any, KerberosAcceptor]:
    """pykerberos (what pywinrm drives) authenticated to an acceptor of the hardened host."""
    import kerberos

    fqdn = kerberos_lab.fqdn(HARDENED)
    settings = kerberos_lab.kerberos
    assert settings is not None and fqdn is not None
    service = KerberosService(
        keytab=settings.keytab,
        realm=settings.realm,
        service_principals=settings.service_principals(kerberos_lab.host(HARDENED).spec),
        admitted_user="Administrator",
    )
    flags = kerberos.GSS_C_MUTUAL_FLAG | kerberos.GSS_C_SEQUENCE_FLAG
    _, client = kerberos.authGSSClientInit(f"HTTP@{fqdn}", gssflags=flags)
    kerberos.authGSSClientStep(client, "")
    acceptor = KerberosAcceptor(service)
    step = acceptor.step("Negotiate " + kerberos.authGSSClientResponse(client))
    assert step.done and step.username == "LAB\\Administrator"
    assert step.www_authenticate is not None
    assert kerberos.authGSSClientStep(client, step.www_authenticate.split(" ", 1)[1]) == 1
    return client, acceptor


@pytest.mark.kerberos
def test_sealed_messages_round_trip_with_pykerberos(handshake: tuple[Any, Any]) -> None:
    import kerberos

    client, acceptor = handshake
    message = b"<s:Envelope>" + "\u00e9t\u00e9 \u6771\u4eac ".encode() * 2000 + b"</s:Envelope>"
    ciphertext, header = kerberos.authGSSWinRMEncryptMessage(client, message)
    assert ciphertext != message
    body = sealed_body(header, ciphertext, len(message))
    assert acceptor.unwrap(body, SEALED_TYPE) == message
    answer, content_type = acceptor.wrap(b"<answer/>")
    assert content_type == SEALED_TYPE
    assert b"<answer/>" not in answer
    octets = answer.split(b"application/octet-stream\r\n", 1)[1]
    octets = octets.removesuffix(b"--Encrypted Boundary--\r\n")
    (length,) = struct.unpack_from("<I", octets)
    header, ciphertext = octets[4 : 4 + length], octets[4 + length :]
    plain = kerberos.authGSSWinRMDecryptMessage(client, ciphertext, header)
    assert plain == b"<answer/>"


@pytest.mark.kerberos
def test_tampered_ciphertext_is_refused_and_ends_the_context(handshake: tuple[Any, Any]) -> None:
    import kerberos

    client, acceptor = handshake
    ciphertext, header = kerberos.authGSSWinRMEncryptMessage(client, b"<s:Envelope/>")
    flipped = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    with pytest.raises(EncryptionError, match="Kerberos unwrap failed"):
        acceptor.unwrap(sealed_body(header, flipped, 13), SEALED_TYPE)
    assert not acceptor.complete
    with pytest.raises(EncryptionError, match="no authenticated security context"):
        acceptor.unwrap(sealed_body(header, ciphertext, 13), SEALED_TYPE)


@pytest.mark.kerberos
def test_malformed_sealed_bodies_are_refused(handshake: tuple[Any, Any]) -> None:
    import kerberos

    client, acceptor = handshake
    ciphertext, header = kerberos.authGSSWinRMEncryptMessage(client, b"<s:Envelope/>")
    with pytest.raises(EncryptionError, match="closing boundary"):
        acceptor.unwrap(sealed_body(header, ciphertext, 12), SEALED_TYPE)
    with pytest.raises(EncryptionError, match="not multipart/encrypted"):
        acceptor.unwrap(sealed_body(header, ciphertext, 13), "application/soap+xml")
    huge = struct.pack("<I", 1 << 30)
    body = sealed_body(header, ciphertext, 13).replace(struct.pack("<I", len(header)), huge, 1)
    with pytest.raises(EncryptionError, match="does not fit"):
        acceptor.unwrap(body, SEALED_TYPE)
    assert acceptor.complete  # framing errors are found before the keys are touched


def test_token_mechanism_names_what_a_negotiate_token_carries() -> None:
    ntlm = spnego.client("LAB\\a", "b", protocol="ntlm")
    negotiate_message = ntlm.step()
    assert token_mechanism(negotiate_message) == "ntlm"
    wrapped = spnego.client(
        "LAB\\a", "b", hostname="h", protocol="negotiate", options=spnego.NegotiateOptions.use_ntlm
    )
    assert token_mechanism(wrapped.step()) == "ntlm"
    authenticate = ntlm.step(
        base64.b64decode(
            "TlRMTVNTUAACAAAADAAMADgAAAAFgomiESIzRFVmd4gAAAAAAAAAAEAAQABEAAAABgGxHQAAAA9MAEEAQgAC"
            "AAwATABBAEIAAQAIAEgATwBTAFQABAASAGwAYQBiAC4AbABvAGMAYQBsAAAAAAA="
        )
    )
    assert token_mechanism(authenticate) == "continuation"
    assert token_mechanism(b"\xa1\x03\x0a\x01\x00") == "continuation"
    for garbage in (b"", b"\x60", b"\x60\x84\xff\xff\xff\xff", b"\x60\x02\x06\x00", b"hello"):
        assert token_mechanism(garbage) == "unknown"


@pytest.mark.kerberos
def test_token_mechanism_knows_kerberos_bare_and_in_spnego(
    kerberos_lab: Lab, ticket_cache: Path
) -> None:
    fqdn = kerberos_lab.fqdn(HARDENED) or ""
    assert token_mechanism(gss_client(fqdn, ticket_cache).step()) == "kerberos"
    assert token_mechanism(gss_client(fqdn, ticket_cache, spnego=True).step()) == "kerberos"


# --- what the lab writes and how it is started ----------------------------------------------


@pytest.mark.kerberos
def test_inventory_names_kerberos_hosts_as_ansible_does(kerberos_lab: Lab, tmp_path: Path) -> None:
    lines = write_inventory(kerberos_lab, tmp_path / "hosts.ini").read_text().splitlines()
    by_host = {line.split()[0]: line for line in lines if ".lab.local " in line}
    hardened = by_host[HARDENED].split()
    assert "ansible_winrm_transport=kerberos" in hardened
    assert "ansible_user='Administrator@LAB.LOCAL'" in hardened
    assert "ansible_winrm_kerberos_hostname_override=ex2016-01.lab.local" in hardened
    assert not any(field.startswith("ansible_password") for field in hardened)
    assert "kerberos" not in by_host[NO_KERBEROS]
    assert "ansible_winrm_transport=ntlm" in lines  # the group default for the others


@pytest.mark.kerberos
def test_lab_up_serves_kerberos_with_a_keytab(
    kerberos_realm: KerberosRealm, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text("address_base: 127.41.1.1\nhosts: [{name: ex2019.lab.local}]\n")
    kerberos_realm.add_host("EX2019")
    inventory = tmp_path / "hosts.ini"
    command = [*REMEDIATE, "lab", "up", "--fleet", str(fleet), "--ports", "ephemeral"]
    command += ["--write-inventory", str(inventory), "--state-dir", str(tmp_path / "state")]
    command += ["--kerberos-keytab", str(kerberos_realm.keytab)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=interruptible,
    )
    try:
        output = wait_for(process, "serving")
        assert "Kerberos realm LAB.LOCAL" in output and "HTTP/<host>.lab.local" in output
        text = inventory.read_text()
        assert "ansible_winrm_kerberos_hostname_override=ex2019.lab.local" in text
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--kerberos-keytab", "/nonexistent/lab.keytab"], "keytab /nonexistent/lab.keytab"),
        (["--kerberos-keytab", "k", "--kerberos-realm", "lab.local"], "not a Kerberos realm"),
    ],
)
def test_lab_up_refuses_unusable_kerberos_options(
    tmp_path: Path, options: list[str], message: str
) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text("address_base: 127.41.2.1\nhosts: [{name: a.lab.local}]\n")
    result = subprocess.run(
        [*REMEDIATE, "lab", "up", "--fleet", str(fleet), "--ports", "ephemeral", *options],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.kerberos
def test_the_kerberos_scheme_seals_as_kerberos_session_encrypted(
    kerberos_lab: Lab, ticket_cache: Path
) -> None:
    import gssapi.raw

    settings = kerberos_lab.kerberos
    assert settings is not None
    spec = kerberos_lab.host(NO_NEGOTIATE).spec
    service = KerberosService(
        keytab=settings.keytab,
        realm=settings.realm,
        service_principals=settings.service_principals(spec),
        admitted_user="administrator",
    )
    client = gss_client(settings.fqdn(spec), ticket_cache)
    acceptor = KerberosAcceptor(service)
    step = acceptor.step(negotiate(client, "Kerberos"))
    assert step.done and step.www_authenticate is not None
    client.step(base64.b64decode(step.www_authenticate.split(" ", 1)[1]))
    body, content_type = acceptor.wrap(b"<sealed/>")
    assert 'protocol="application/HTTP-Kerberos-session-encrypted"' in content_type
    assert b"\tContent-Type: application/HTTP-Kerberos-session-encrypted\r\n" in body
    octets = body.split(b"application/octet-stream\r\n", 1)[1]
    octets = octets.removesuffix(b"--Encrypted Boundary--\r\n")
    (length,) = struct.unpack_from("<I", octets)
    raw = gssapi.raw
    iov = raw.IOV(
        (raw.IOVBufferType.header, False, octets[4 : 4 + length]),
        octets[4 + length :],
        raw.IOVBufferType.data,
        std_layout=False,
    )
    raw.unwrap_iov(client, iov)
    assert iov[1].value == b"<sealed/>"


def test_the_lab_runs_without_gssapi_unless_kerberos_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "gssapi", None)  # `import gssapi` now fails
    fleet = parse_fleet("address_base: 127.41.3.1\nhosts: [{name: plain.lab.local}]")
    with Lab(fleet, port_mode="ephemeral", admin_port=None) as lab:
        assert post(lab, "plain.lab.local")[1] == ["Negotiate", "Kerberos", 'Basic realm="WSMAN"']
    keytab = tmp_path / "lab.keytab"
    keytab.write_bytes(b"\x05\x02")
    settings = KerberosSettings(keytab=keytab)
    with pytest.raises(LabError, match="python-gssapi is not installed"):
        Lab(fleet, port_mode="ephemeral", admin_port=None, kerberos=settings).start()
