"""Certificate logon on the lab's HTTPS listener: client certificates and their mappings.

Windows maps a client certificate to a local account through `winrm/config/service/certmapping`
entries ([MS-WSMV] 2.2.4.3 CertMappingType): `Issuer` is the thumbprint of the certificate that
signed the client's (its direct issuer, not the root), `Subject` a pattern with at most one `*`,
first or last, and `UserName` the local account. The subject matched is the user principal name
in the certificate's subjectAltName otherName 1.3.6.1.4.1.311.20.2.3 (Ansible's "Windows Remote
Management" guide, certificate authentication: "the subjectAltName must be the UPN", with the
Client Authentication EKU 1.3.6.1.5.5.7.3.2). A client asks for it with the header
`Authorization: http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual` (pywinrm's
`transport="certificate"`), over HTTPS only.

The lab is strict where Windows is: no EKU, an expired certificate, another issuer, a subject
that no enabled mapping matches, or a certificate over plain HTTP is refused with 401.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "MUTUAL_AUTH",
    "UPN_OID",
    "CertificateMapping",
    "CertificateRefused",
    "ClientCertificate",
    "issue_client_certificate",
    "mapped_user",
    "thumbprint",
]

MUTUAL_AUTH = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")  # szOID_NT_PRINCIPAL_NAME


class CertificateRefused(Exception):
    """The client's certificate maps to no account on this host (why, for the lab's log)."""


@dataclass(frozen=True)
class CertificateMapping:
    """One certmapping entry: issuer thumbprint, subject pattern, the local account."""

    issuer: str  # 40 hex digits
    subject: str
    username: str
    enabled: bool = True

    def matches(self, upn: str) -> bool:
        # [MS-WSMV] 2.2.4.3: at most one "*", first or last; matched case-insensitively as
        # UPNs are. fnmatch would also take "?" and "[": those are escaped.
        pattern = "".join("[?]" if c == "?" else "[[]" if c == "[" else c for c in self.subject)
        return fnmatch.fnmatchcase(upn.lower(), pattern.lower())


@dataclass(frozen=True)
class ClientCertificate:
    cert_pem: bytes
    key_pem: bytes = b""  # never logged; the client's half


def thumbprint(certificate: x509.Certificate) -> str:
    """The SHA-1 thumbprint Windows shows and certmapping's Issuer holds (upper-case hex)."""
    return certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - an identifier


def issue_client_certificate(
    ca_certificate: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    upn: str,
    *,
    client_auth: bool = True,
    valid_for: timedelta = timedelta(days=30),
    not_before: datetime | None = None,
) -> ClientCertificate:
    """A user's certificate as an enterprise CA issues it: UPN in subjectAltName, client EKU."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, upn.split("@")[0])]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # the otherName value is a DER UTF8String (tag 0x0C); UPNs are short (< 128 bytes)
            x509.SubjectAlternativeName([x509.OtherName(UPN_OID, _utf8_string(upn))]),
            critical=False,
        )
    )
    if client_auth:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    certificate = builder.sign(ca_key, hashes.SHA256())
    return ClientCertificate(
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def mapped_user(
    der: bytes,
    mappings: Iterable[CertificateMapping],
    issuers: Iterable[x509.Certificate],
    *,
    now: datetime | None = None,
) -> str:
    """The local account a client certificate logs on as, or CertificateRefused saying why."""
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CertificateRefused("the client certificate cannot be read") from exc
    moment = now or datetime.now(UTC)
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise CertificateRefused("the client certificate is not valid now")
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = None
    if usages is None or ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise CertificateRefused("the client certificate lacks the Client Authentication EKU")
    issuer = _direct_issuer(certificate, issuers)
    upn = _upn(certificate)
    for mapping in mappings:
        if mapping.enabled and mapping.issuer.upper() == issuer and mapping.matches(upn):
            return mapping.username
    raise CertificateRefused(f"no certificate mapping for {upn} issued by {issuer}")


def _direct_issuer(certificate: x509.Certificate, issuers: Iterable[x509.Certificate]) -> str:
    for candidate in issuers:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return thumbprint(candidate)
    raise CertificateRefused("the client certificate was not issued by a trusted issuer")


def _upn(certificate: x509.Certificate) -> str:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise CertificateRefused("the client certificate has no subjectAltName") from None
    for other in names.get_values_for_type(x509.OtherName):
        if other.type_id == UPN_OID:
            return _read_utf8_string(other.value)
    raise CertificateRefused("the client certificate's subjectAltName has no UPN")


def _utf8_string(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > 127:
        raise ValueError("a UPN over 127 bytes")
    return bytes((0x0C, len(data))) + data


def _read_utf8_string(der: bytes) -> str:
    if len(der) < 2 or der[0] != 0x0C or der[1] > 127 or len(der) != 2 + der[1]:
        raise CertificateRefused("the UPN in subjectAltName is not a short UTF8String")
    try:
        return der[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise CertificateRefused("the UPN in subjectAltName is not UTF-8") from None
