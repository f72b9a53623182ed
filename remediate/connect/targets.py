"""From inventory hosts to audit targets: connection settings, passwords, timeouts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial

from remediate.connect.passwords import resolve_password
from remediate.connect.secrets import Secret
from remediate.connect.variables import connection_settings, shell_dialect
from remediate.inventory import Host
from remediate.inventory.vault import VaultPassword
from remediate.transport import Dialect, Transport
from remediate.transport.factory import open_transport, transport_name
from remediate.transport.ssh import SshSettings
from remediate.transport.winrm import WinRMSettings


@dataclass(frozen=True)
class HostTarget:
    """A host to audit: its name, how to connect, and the dialect if the inventory fixes it."""

    name: str
    connect: Callable[[], Transport]
    shell: Dialect | None = None
    transport: str = "winrm"
    address: str = ""


@dataclass(frozen=True)
class ConnectOptions:
    """How a run connects, from the command line: the same for every host."""

    allow_insecure: bool = False
    ask_pass: bool = False
    accept_new_host_keys: bool = False
    known_hosts: tuple[str, ...] = ()
    timeout: float = 120.0
    vault_passwords: tuple[VaultPassword, ...] = field(default=(), repr=False)
    """For the inventory's vault-encrypted files and `!vault` values (read when used)."""


def settings_for(
    host: Host, options: ConnectOptions, environ: Mapping[str, str] | None = None
) -> tuple[WinRMSettings | SshSettings, list[Secret]]:
    """The host's connection settings (timeouts applied) and the secrets they hold."""
    choice = resolve_password(host, ask_pass=options.ask_pass, environ=environ)
    settings = connection_settings(
        host,
        allow_insecure=options.allow_insecure,
        password=choice.secret if choice else None,
        accept_new_host_keys=options.accept_new_host_keys,
        known_hosts=options.known_hosts,
    )
    if isinstance(settings, WinRMSettings):
        # No single request may outlast the host's timeout: a host that accepts and never
        # answers is given up on within it. A remediation step may run far longer (its own
        # timeout, passed to Transport.run): the transport keeps asking with short Receives.
        read = min(settings.read_timeout, max(2, int(options.timeout)))
        operation = min(settings.operation_timeout, max(1, read - 1))
        settings = replace(
            settings,
            command_timeout=options.timeout,
            read_timeout=read,
            operation_timeout=operation,
        )
    else:
        settings = replace(
            settings,
            command_timeout=options.timeout,
            connect_timeout=min(settings.connect_timeout, options.timeout),
        )
    return settings, [choice.secret] if choice else []


def build_targets(
    hosts: Iterable[Host],
    options: ConnectOptions,
    environ: Mapping[str, str] | None = None,
    probe: bool = False,
) -> tuple[list[HostTarget], list[Secret]]:
    """Targets for the hosts, and every secret in use (for redaction of all output).

    `probe` makes targets that try once: for asking "is it back?" while a host restarts,
    where retries would only hide the answer.
    """
    targets: list[HostTarget] = []
    secrets: list[Secret] = []
    for host in hosts:
        settings, host_secrets = settings_for(host, options, environ)
        if probe:
            settings = replace(settings, connect_retries=0)
        secrets += host_secrets
        targets.append(
            HostTarget(
                name=host.name,
                connect=partial(open_transport, host.name, settings),
                shell=shell_dialect(host),
                transport=transport_name(settings),
                address=settings.address,
            )
        )
    return targets, secrets
