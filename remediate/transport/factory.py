"""Pick the transport class for a host's connection settings.

The transports are imported when the first host of their kind connects, not before: a run
with no SSH host never loads paramiko.
"""

from __future__ import annotations

from remediate.transport import Transport
from remediate.transport.settings import ConnectionSettings, SshSettings, WinRMSettings

__all__ = ["ConnectionSettings", "SshSettings", "WinRMSettings", "open_transport", "transport_name"]


def open_transport(host: str, settings: ConnectionSettings) -> Transport:
    """A transport for the host; nothing is sent until the first command."""
    if isinstance(settings, WinRMSettings):
        from remediate.transport.winrm import WinRMTransport

        return WinRMTransport(settings, host=host)
    from remediate.transport.ssh import SshTransport

    return SshTransport(settings, host=host)


def transport_name(settings: ConnectionSettings) -> str:
    return "winrm" if isinstance(settings, WinRMSettings) else "ssh"
