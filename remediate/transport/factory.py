"""Pick the transport class for a host's connection settings.

The transports are imported when the first host of their kind connects, not before: a run
with no SSH host never loads paramiko.
"""

from __future__ import annotations

from remediate.transport import Transport
from remediate.transport.settings import ConnectionSettings, SshSettings, WinRMSettings

__all__ = [
    "ConnectionSettings",
    "SshSettings",
    "WinRMSettings",
    "first_use_modules",
    "open_transport",
    "transport_name",
]


def open_transport(host: str, settings: ConnectionSettings) -> Transport:
    """A transport for the host; nothing is sent until the first command."""
    if isinstance(settings, WinRMSettings):
        from remediate.transport.winrm import WinRMTransport

        return WinRMTransport(settings, host=host)
    from remediate.transport.ssh import SshTransport

    return SshTransport(settings, host=host)


def transport_name(settings: ConnectionSettings) -> str:
    return "winrm" if isinstance(settings, WinRMSettings) else "ssh"


def first_use_modules(settings: ConnectionSettings) -> tuple[str, ...]:
    """The modules a connection with these settings imports when it first connects.

    A run over worker processes has its forkserver import them once, before the workers fork
    from it, rather than each worker on its first host: pyspnego (with gssapi and cryptography)
    costs an NTLM worker 0.15 s of CPU (issue 18). A module that cannot be imported there is
    passed over, and the host's own connection reports it.
    """
    if isinstance(settings, WinRMSettings):
        ntlm = ("spnego",) if settings.auth == "ntlm" else ()
        return ("remediate.transport.winrm", *ntlm)
    return ("remediate.transport.ssh",)
