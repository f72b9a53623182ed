"""CredSSP and certificate logons against the lab over real sockets, with pywinrm's transports.

CredSSP: requests-credssp (pywinrm[credssp]) over HTTP with MS-WSMV 2.2.9.1.3 sealing and over
HTTPS; the lab checks the delegated password. Certificate: pywinrm's `transport="certificate"`
over HTTPS with a user certificate from the lab CA, mapped by the fleet's certmapping entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError
from winrm.protocol import Protocol

from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from tests.conftest import PASSWORD
from tests.lab.test_winrm_clients import run

FLEET = """
name: logons
address_base: 127.23.0.1
hosts:
  - name: credssp.lab.local
    endpoints: {credssp: true, allow_unencrypted: false}
  - name: cert.lab.local
    endpoints: {certificate: true}
    credentials:
      certificate_mappings:
        - {subject: "*@lab.local", username: Administrator}
  - name: plain.lab.local
"""


@pytest.fixture(scope="module")
def logons() -> Iterator[Lab]:
    with Lab(parse_fleet(FLEET, "logons.yml"), port_mode="ephemeral") as running:
        yield running


def _protocol(lab: Lab, name: str, scheme: str, **options: object) -> Protocol:
    endpoint = lab.endpoint(name)
    port = endpoint.https_port if scheme == "https" else endpoint.http_port
    settings: dict[str, object] = {
        "endpoint": f"{scheme}://{endpoint.address}:{port}/wsman",
        "username": "LAB\\Administrator",
        "password": PASSWORD,
        "ca_trust_path": str(lab.ca_path),
        "server_cert_validation": "validate",
        "operation_timeout_sec": 5,
        "read_timeout_sec": 10,
        **options,
    }
    return Protocol(**settings)  # type: ignore[arg-type]


def _client_certificate(lab: Lab, tmp_path: Path, upn: str, **options: object) -> dict[str, str]:
    issued = lab.authority.issue_client(upn, **options)
    cert, key = tmp_path / "user.pem", tmp_path / "user.key"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem)
    return {"cert_pem": str(cert), "cert_key_pem": str(key)}


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_credssp_logon_runs_commands_sealed_or_over_tls(logons: Lab, scheme: str) -> None:
    protocol = _protocol(logons, "credssp.lab.local", scheme, transport="credssp")
    out, _err, code = run(protocol, "whoami")
    assert (out, code) == (b"lab\\administrator\r\n", 0)
    # a long command line crosses the 16 KiB chunking of CredSSP sealing both ways
    out, _err, code = run(protocol, "cmd", ("/c", "echo", "x" * 20000))
    assert code == 0 and out.strip() == b"x" * 20000


def test_the_sealed_wire_carries_no_plain_soap(logons: Lab) -> None:
    protocol = _protocol(logons, "credssp.lab.local", "http", transport="credssp")
    sent: list[bytes] = []
    session = protocol.transport.build_session()
    original = session.send

    def spy(request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        sent.append(request.body if isinstance(request.body, bytes) else b"")
        return original(request, **kwargs)

    session.send = spy  # type: ignore[method-assign]
    assert run(protocol, "hostname")[2] == 0
    assert sent and not any(b"Envelope" in body for body in sent)
    assert any(b"HTTP-CredSSP-session-encrypted" in body for body in sent)


def test_credssp_with_a_wrong_password_or_where_not_enabled_is_refused(logons: Lab) -> None:
    before = logons.counters("credssp.lab.local")["auth_failures"]
    wrong = _protocol(logons, "credssp.lab.local", "https", transport="credssp", password="not-it")
    with pytest.raises(Exception, match=r"0x8009030c|credentials|CredSSP"):
        run(wrong, "hostname")
    assert logons.counters("credssp.lab.local")["auth_failures"] > before
    # Windows' default: Auth/CredSSP off, so the 401 offers no CredSSP and the client says so
    off = _protocol(logons, "plain.lab.local", "https", transport="credssp")
    with pytest.raises(Exception, match="CredSSP"):
        run(off, "hostname")


def test_certificate_logon_maps_the_users_certificate(logons: Lab, tmp_path: Path) -> None:
    certificate = _client_certificate(logons, tmp_path, "ansible@lab.local")
    protocol = _protocol(logons, "cert.lab.local", "https", transport="certificate", **certificate)
    out, _err, code = run(protocol, "whoami")
    assert code == 0 and out.endswith(b"\\administrator\r\n")  # the mapped account


@pytest.mark.parametrize(
    ("host", "upn", "options"),
    [
        ("cert.lab.local", "ansible@corp.example", {}),  # no mapping matches the UPN
        ("cert.lab.local", "ansible@lab.local", {"client_auth": False}),  # no client EKU
        ("plain.lab.local", "ansible@lab.local", {}),  # Auth/Certificate off
    ],
    ids=["unmapped-subject", "no-client-eku", "not-enabled"],
)
def test_certificates_windows_refuses_get_401(
    logons: Lab, tmp_path: Path, host: str, upn: str, options: dict[str, object]
) -> None:
    before = logons.counters(host)["auth_failures"]
    certificate = _client_certificate(logons, tmp_path, upn, **options)
    protocol = _protocol(logons, host, "https", transport="certificate", **certificate)
    with pytest.raises((InvalidCredentialsError, WinRMTransportError)):
        run(protocol, "hostname")
    assert logons.counters(host)["auth_failures"] > before
