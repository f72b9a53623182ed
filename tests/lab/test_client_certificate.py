"""Certificate mapping as WinRM does it: issuer thumbprint, UPN subject pattern, client EKU."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from remediate.lab.protocols.client_certificate import (
    CertificateMapping,
    CertificateRefused,
    issue_client_certificate,
    mapped_user,
    thumbprint,
)


def _ca(name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


CA, CA_KEY = _ca("lab CA")
OTHER, OTHER_KEY = _ca("lab CA")  # same name, another key: only the signature tells them apart
MAPPING = CertificateMapping(issuer=thumbprint(CA), subject="*@lab.local", username="ansible")


def test_a_users_certificate_maps_to_the_mapped_account() -> None:
    issued = issue_client_certificate(CA, CA_KEY, "Ansible@LAB.local")
    assert mapped_user(_der(issued.cert_pem), [MAPPING], [OTHER, CA]) == "ansible"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: issue_client_certificate(OTHER, OTHER_KEY, "ansible@lab.local"), "mapping"),
        (lambda: issue_client_certificate(CA, CA_KEY, "ansible@corp.example"), "no certificate"),
        (lambda: issue_client_certificate(CA, CA_KEY, "a@lab.local", client_auth=False), "EKU"),
        (
            lambda: issue_client_certificate(
                CA, CA_KEY, "a@lab.local", not_before=datetime.now(UTC) - timedelta(days=40)
            ),
            "not valid now",
        ),
    ],
    ids=["other-issuer", "other-subject", "no-client-eku", "expired"],
)
def test_certificates_windows_would_refuse_are_refused(make, why: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CertificateRefused, match=why):
        mapped_user(_der(make().cert_pem), [MAPPING], [CA, OTHER])


def test_untrusted_issuer_and_disabled_mapping_are_refused() -> None:
    issued = _der(issue_client_certificate(OTHER, OTHER_KEY, "ansible@lab.local").cert_pem)
    with pytest.raises(CertificateRefused, match="trusted issuer"):
        mapped_user(issued, [MAPPING], [CA])
    own = _der(issue_client_certificate(CA, CA_KEY, "ansible@lab.local").cert_pem)
    disabled = CertificateMapping(MAPPING.issuer, MAPPING.subject, "ansible", enabled=False)
    with pytest.raises(CertificateRefused):
        mapped_user(own, [disabled], [CA])


def test_subject_patterns_are_literal_except_one_star() -> None:
    exact = CertificateMapping(thumbprint(CA), "ops?@lab.local", "ops")
    assert not exact.matches("ops1@lab.local")
    assert exact.matches("OPS?@lab.local")
    assert CertificateMapping(thumbprint(CA), "ops*", "ops").matches("ops-admin@lab.local")
    with pytest.raises(CertificateRefused, match="read"):
        mapped_user(b"not a certificate", [exact], [CA])
