"""How to reach a host, per transport: plain data, without the libraries that do the talking.

The connection settings are read for every host of an inventory (`remediate.connect`), but
paramiko, pywinrm and requests are needed only by the transports that use them: keeping the
settings here lets a WinRM-only run never import paramiko, and a listing import neither
(the imports were a quarter of a 200-host audit's CPU, issue 18).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from remediate.transport.kerberos_auth import TicketCache

__all__ = ["ConnectionSettings", "SshSettings", "WinRMSettings", "bracketed", "wsman_url"]


def bracketed(address: str) -> str:
    """An address as a URL or Host header writes it: an IPv6 literal in brackets (RFC 3986)."""
    return f"[{address}]" if ":" in address else address


def wsman_url(scheme: str, address: str, port: int) -> str:
    return f"{scheme}://{bracketed(address)}:{port}/wsman"


@dataclass(frozen=True)
class WinRMSettings:
    """How to reach one host over WinRM (secrets stay in memory, never in text)."""

    address: str
    port: int = 5986
    scheme: Literal["http", "https"] = "https"
    auth: str = "ntlm"
    username: str = ""
    password: str = field(default="", repr=False)
    validate_certificate: bool = True
    ca_trust_path: str | None = None
    message_encryption: Literal["auto", "always", "never"] = "auto"
    operation_timeout: int = 20
    read_timeout: int = 30
    command_timeout: float = 120.0
    connect_retries: int = 2
    retry_backoff: float = 1.0
    # Kerberos (ansible_winrm_service, _kerberos_delegation, _kerberos_hostname_override,
    # _kinit_mode): managed mode gets the user's ticket into `tickets`, the run's private cache.
    service: str = "HTTP"
    kerberos_delegation: bool = False
    kerberos_hostname_override: str | None = None
    kinit_mode: Literal["managed", "manual"] = "manual"
    tickets: TicketCache | None = field(default=None, repr=False, compare=False)
    # Certificate logon (ansible_winrm_cert_pem, _cert_key_pem): the files' paths; the key's
    # content is never read here, only by the TLS handshake.
    cert_pem: str | None = None
    cert_key_pem: str | None = None

    @property
    def endpoint(self) -> str:
        return wsman_url(self.scheme, self.address, self.port)

    @property
    def spn(self) -> str:
        """The service principal Kerberos asks the KDC for: `HTTP/<name>` (its realm is the
        one krb5.conf's [domain_realm] maps the name to)."""
        return f"{self.service}/{self.kerberos_hostname_override or self.address}"


@dataclass(frozen=True)
class SshSettings:
    """How to reach one host over SSH."""

    address: str
    port: int = 22
    username: str = ""
    password: str | None = field(default=None, repr=False)
    key_file: str | None = None
    known_hosts: tuple[str, ...] = ()
    accept_new_host_keys: bool = False
    connect_timeout: float = 15.0
    command_timeout: float = 120.0
    connect_retries: int = 2
    retry_backoff: float = 1.0


ConnectionSettings = WinRMSettings | SshSettings
