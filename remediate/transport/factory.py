"""Pick the transport class for a host's connection settings."""

from __future__ import annotations

from remediate.transport import Transport
from remediate.transport.ssh import SshSettings, SshTransport
from remediate.transport.winrm import WinRMSettings, WinRMTransport

ConnectionSettings = WinRMSettings | SshSettings


def open_transport(host: str, settings: ConnectionSettings) -> Transport:
    """A transport for the host; nothing is sent until the first command."""
    if isinstance(settings, WinRMSettings):
        return WinRMTransport(settings, host=host)
    return SshTransport(settings, host=host)


def transport_name(settings: ConnectionSettings) -> str:
    return "winrm" if isinstance(settings, WinRMSettings) else "ssh"
