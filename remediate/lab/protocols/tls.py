"""Certificates for the lab's HTTPS listeners: one lab CA, one certificate per host.

The CA is created when the lab starts and written as PEM so that clients can be given it
(`ansible_winrm_ca_trust_path`) to test validation both ways. Host keys are EC P-256, which
take a millisecond each, so a fleet of 1,000 hosts starts quickly.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from remediate.lab.protocols.client_certificate import ClientCertificate, issue_client_certificate

_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class IssuedCertificate:
    cert_pem: bytes
    key_pem: bytes


class LabAuthority:
    """A throwaway certificate authority that signs the lab hosts' certificates."""

    def __init__(self, name: str = "remediate lab CA") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    def issue_client(self, upn: str, **options: Any) -> ClientCertificate:
        """A user's logon certificate signed by the lab CA (see client_certificate)."""
        return issue_client_certificate(self._cert, self._key, upn, **options)

    @property
    def ca_pem(self) -> bytes:
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def write_ca(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.ca_pem)
        return path

    def issue(
        self, common_name: str, dns_names: list[str], addresses: list[str]
    ) -> IssuedCertificate:
        """A server certificate for one host, valid for its names and addresses."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys(dns_names)]
        alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in dict.fromkeys(addresses)]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return IssuedCertificate(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def server_context(
        self,
        issued: IssuedCertificate,
        directory: Path,
        name: str,
        *,
        client_certificates: bool = False,
    ) -> ssl.SSLContext:
        """An SSL context serving `issued` (ssl needs files, written to the lab's state dir).

        With `client_certificates`, the handshake asks for a client certificate signed by the
        lab CA (optional: the other schemes still log on over the same listener).
        """
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / f"{name}.crt"
        key_path = directory / f"{name}.key"
        cert_path.write_bytes(issued.cert_pem + self.ca_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(issued.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        if client_certificates:
            context.verify_mode = ssl.CERT_OPTIONAL
            context.load_verify_locations(cadata=self.ca_pem.decode("ascii"))
        return context


def tls_server_end_point(cert_pem: bytes) -> bytes:
    """Channel-binding application data of a server certificate (RFC 5929 section 4.1):
    `tls-server-end-point:` and the certificate's hash under its signature's hash
    algorithm, SHA-256 when that is MD5 or SHA-1 (what clients send with Kerberos over HTTPS)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    return b"tls-server-end-point:" + digest.finalize()
