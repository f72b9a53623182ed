"""Audits over CredSSP and certificate logons, from an Ansible inventory to the report (issue 20).

CredSSP: pywinrm's `credssp` transport (requests-credssp) against a lab host with
Auth/CredSSP on and NTLM-over-HTTP sealing off, over HTTP (CredSSP-sealed) and HTTPS.
Certificate: `ansible_winrm_cert_pem`/`_cert_key_pem` over HTTPS against a host whose
certmapping maps the user's UPN. Then the refusals an administrator meets, in their words.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.audit.session import audit_and_report
from remediate.connect.targets import ConnectOptions
from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from remediate.rules.results import AuditRun, HostResult
from tests.conftest import PASSWORD, AuditRequestFactory

pytestmark = pytest.mark.lab

FLEET = """
name: logon-audit
address_base: 127.44.0.1
defaults:
  os: {caption: Microsoft Windows Server 2016 Standard, version: 10.0.14393, build: 14393,
       service_pack: 0, architecture: x64, powershell: "5.1"}
  endpoints: {allow_unencrypted: false}
hosts:
  - name: cs2016.lab.local
    endpoints: {credssp: true}
  - name: cert2016.lab.local
    endpoints: {certificate: true}
    credentials:
      certificate_mappings: [{subject: "ansible@lab.local", username: Administrator}]
  - name: plain2016.lab.local
"""
CREDSSP, CERTIFICATE, PLAIN = "cs2016.lab.local", "cert2016.lab.local", "plain2016.lab.local"


@pytest.fixture(scope="module")
def logon_lab() -> Iterator[Lab]:
    with Lab(parse_fleet(FLEET, "logon-audit.yml"), port_mode="ephemeral") as lab:
        yield lab


def line(lab: Lab, name: str, scheme: str, **variables: str) -> str:
    endpoint = lab.endpoint(name)
    fields = {
        "ansible_host": endpoint.address,
        "ansible_port": str(endpoint.https_port if scheme == "https" else endpoint.http_port),
        "ansible_winrm_scheme": scheme,
        "ansible_winrm_ca_trust_path": str(lab.ca_path),
        "ansible_winrm_operation_timeout_sec": "5",
        "ansible_winrm_read_timeout_sec": "15",
        **variables,
    }
    return name + "".join(f' {key}="{value}"' for key, value in fields.items())


def audit(audit_request: AuditRequestFactory, tmp_path: Path, *lines: str) -> AuditRun:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[windows]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    request = audit_request(inventory, tmp_path / "out", connect=ConnectOptions())
    return audit_and_report(request).run


def results(run: AuditRun) -> dict[str, HostResult]:
    return {result.host: result for result in run.results}


def certificate(lab: Lab, folder: Path, upn: str, **options: object) -> dict[str, str]:
    issued = lab.authority.issue_client(upn, **options)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "user.pem").write_bytes(issued.cert_pem)
    (folder / "user.key").write_bytes(issued.key_pem)
    return {
        "ansible_winrm_cert_pem": str(folder / "user.pem"),
        "ansible_winrm_cert_key_pem": str(folder / "user.key"),
    }


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_audit_over_credssp(
    logon_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path, scheme: str
) -> None:
    credssp = {
        "ansible_winrm_transport": "credssp",
        "ansible_user": "LAB\\Administrator",
        "ansible_password": PASSWORD,
    }
    run = audit(audit_request, tmp_path, line(logon_lab, CREDSSP, scheme, **credssp))
    result = results(run)[CREDSSP]
    assert result.error is None, result.error
    assert result.evidence is not None and result.evidence.os.hostname == "CS2016"


def test_credssp_refusals_say_why(
    logon_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    def credssp(password: str) -> dict[str, str]:
        return {
            "ansible_winrm_transport": "credssp",
            "ansible_user": "LAB\\Administrator",
            "ansible_password": password,
        }

    run = audit(
        audit_request,
        tmp_path,
        line(logon_lab, CREDSSP, "https", **credssp("Not-The-Passw0rd")),
        line(logon_lab, PLAIN, "https", **credssp(PASSWORD)),
    )
    for name in (CREDSSP, PLAIN):
        error = results(run)[name].error
        assert error is not None and error.reason == "authentication", (name, error)
        assert "Not-The-Passw0rd" not in str(error)
    assert "SEC_E_LOGON_DENIED: wrong user or password" in str(results(run)[CREDSSP].error)
    assert "does not offer CredSSP" in str(results(run)[PLAIN].error)  # Windows' default


def test_an_audit_with_a_client_certificate(
    logon_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    files = certificate(logon_lab, tmp_path / "pki", "ansible@lab.local")
    run = audit(
        audit_request,
        tmp_path,
        line(logon_lab, CERTIFICATE, "https", ansible_winrm_transport="certificate", **files),
    )
    result = results(run)[CERTIFICATE]
    assert result.error is None, result.error
    assert result.evidence is not None


def test_refused_certificates_and_missing_files_are_named(
    logon_lab: Lab, audit_request: AuditRequestFactory, tmp_path: Path
) -> None:
    stranger = certificate(logon_lab, tmp_path / "a", "someone@lab.local")
    no_eku = certificate(logon_lab, tmp_path / "b", "ansible@lab.local", client_auth=False)
    run = audit(
        audit_request,
        tmp_path,
        line(logon_lab, CERTIFICATE, "https", ansible_winrm_transport="certificate", **stranger),
        line(logon_lab, PLAIN, "https", ansible_winrm_transport="certificate", **no_eku),
    )
    for name in (CERTIFICATE, PLAIN):
        error = results(run)[name].error
        assert error is not None and error.reason == "authentication", (name, error)
        assert "client certificate" in error.message and "certmapping" in (error.hint or "")
    # a certificate over HTTP and a missing key file are this host's configuration errors
    missing = {**stranger, "ansible_winrm_cert_key_pem": str(tmp_path / "absent.key")}
    run = audit(
        audit_request,
        tmp_path,
        line(logon_lab, CERTIFICATE, "http", ansible_winrm_transport="certificate", **stranger),
        line(logon_lab, PLAIN, "https", ansible_winrm_transport="certificate", **missing),
    )
    assert "needs HTTPS" in str(results(run)[CERTIFICATE].error)
    assert "absent.key" in str(results(run)[PLAIN].error)
