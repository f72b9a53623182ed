"""From inventory hosts to audit targets: connection settings, passwords, timeouts.

One host's settings never stop a run. A host whose variables cannot make a connection (no
user, an unknown transport, a library that is not installed, an undefined template variable,
a `!vault` value the vault passwords do not open) becomes a target whose `connect` raises that
host's ConfigurationError: the audit records it as the host's `error` (reason
`configuration`), an apply as the host's failure, and every other host goes on.

A host whose `ansible_connection` is one remediate does not speak (`local`, `docker`, any
other collection's plugin) is skipped: listed with the reason, never contacted, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import NoReturn

from remediate.connect.host_target import HostTarget, SkippedHost
from remediate.connect.passwords import resolve_password
from remediate.connect.secrets import Secret
from remediate.connect.templating import rendered
from remediate.connect.variables import connection_settings, shell_dialect
from remediate.errors import ConfigurationError, RemediateError
from remediate.inventory import Host
from remediate.inventory.model import show_value
from remediate.inventory.vault import VaultPassword
from remediate.transport.factory import first_use_modules, open_transport, transport_name
from remediate.transport.kerberos_auth import TicketCache
from remediate.transport.settings import SshSettings, WinRMSettings


@dataclass(frozen=True)
class Targets:
    """What a run contacts (`targets`), what it leaves alone (`skipped`), and every secret in
    use (for redaction of all output)."""

    targets: list[HostTarget]
    skipped: list[SkippedHost]
    secrets: list[Secret] = field(repr=False)


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
    tickets: TicketCache = field(default_factory=TicketCache, repr=False, compare=False)
    """The run's private Kerberos tickets (managed mode), shared by every host of the run
    and removed when the run ends: `close()` it, or at exit (see kerberos_auth)."""


# --- connections remediate does not speak ---------------------------------------------------

CONNECTION_VARS = ("remediate_connection", "ansible_connection")
"""Where a host's connection is named, the first set winning (connect/variables' rule)."""

OUR_COLLECTIONS = ("ansible.builtin", "ansible.legacy")

OTHER_CONNECTIONS = frozenset(
    {
        # ansible-core's own, for the controller itself (lib/ansible/plugins/connection/).
        "local",
        # Short names ansible-core redirects to collections (plugin_routing.connection in
        # lib/ansible/config/ansible_builtin_runtime.yml, 2.19): written bare in old
        # inventories, e.g. `ansible_connection=docker`.
        *("buildah", "podman", "aws_ssm", "chroot", "docker", "funcd", "iocage", "jail"),
        *("kubectl", "libvirt_lxc", "lxc", "lxd", "oc", "qubes", "saltstack", "zone"),
        *("vmware_tools", "httpapi", "napalm", "netconf", "network_cli", "persistent"),
    }
)
"""Connection plugins that exist in Ansible but reach no Windows host as remediate does.

Any plugin of another collection (`community.docker.docker`, `ansible.netcommon.libssh`) is
skipped too. A bare name that is none of these nor ours (`winrn`) is taken for a typing
mistake: that host's configuration error, not a quiet skip.
"""

SUPPORTED = "remediate connects over winrm or psrp (WinRM) and ssh or paramiko (SSH) only"


def skipped_connection(host: Host) -> SkippedHost | None:
    """The skip when `host` names a connection remediate does not speak, else None.

    `host` is read as given: pass the rendered host when its variables may be templated. A
    value that cannot be read (an undefined template variable) is not a skip: the settings
    report it as the host's configuration error.
    """
    for name in CONNECTION_VARS:
        try:
            value = host.vars.get(name)
        except RemediateError:
            return None
        if value is None:
            continue
        if not isinstance(value, str):
            return None
        connection = value.strip()
        collection, _, plugin = connection.lower().rpartition(".")
        if plugin in OTHER_CONNECTIONS or (collection and collection not in OUR_COLLECTIONS):
            return SkippedHost(
                host.name, connection, f"{name}={show_value(connection, 60)}: {SUPPORTED}"
            )
        return None
    return None


def split_skipped(
    hosts: Iterable[Host], options: ConnectOptions, environ: Mapping[str, str] | None = None
) -> tuple[list[Host], list[SkippedHost]]:
    """The hosts to contact and those skipped, in order (for `--list-hosts`)."""
    contact: list[Host] = []
    skipped: list[SkippedHost] = []
    for host in hosts:
        skip = skipped_connection(_rendered(host, options, environ))
        if skip is None:
            contact.append(host)
        else:
            skipped.append(skip)
    return contact, skipped


# --- settings --------------------------------------------------------------------------------


def _rendered(host: Host, options: ConnectOptions, environ: Mapping[str, str] | None) -> Host:
    """The host with `{{ }}` rendered and `!vault` values decrypted as they are read."""
    return rendered(host, vault_passwords=options.vault_passwords, environ=environ)


def settings_for(
    host: Host, options: ConnectOptions, environ: Mapping[str, str] | None = None
) -> tuple[WinRMSettings | SshSettings, list[Secret]]:
    """The host's connection settings (timeouts applied) and the secrets they hold.

    Its variables are templated first. InputError (naming the variable, file and host) when
    they cannot make a connection; `targets_for` makes that the host's own error.
    """
    return _settings(_rendered(host, options, environ), options, environ)


def _settings(
    host: Host, options: ConnectOptions, environ: Mapping[str, str] | None
) -> tuple[WinRMSettings | SshSettings, list[Secret]]:
    choice = resolve_password(host, ask_pass=options.ask_pass, environ=environ)
    settings = connection_settings(
        host,
        allow_insecure=options.allow_insecure,
        password=choice.secret if choice else None,
        accept_new_host_keys=options.accept_new_host_keys,
        known_hosts=options.known_hosts,
        tickets=options.tickets,
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


# pywinrm's extras name the libraries (its package metadata: `kerberos` installs pykerberos,
# winkerberos on Windows; `credssp` installs requests-credssp); ours pull them in through it
# (pyproject.toml, [project.optional-dependencies]).
LIBRARY_HINTS = {
    "pywinrm[kerberos]": "pip install 'remediate[kerberos]' (installs pykerberos through"
    " pywinrm[kerberos], and gssapi for managed tickets; both build against the MIT Kerberos"
    " headers: libkrb5-dev or krb5-devel)",
    "pywinrm[credssp]": "pip install 'remediate[credssp]' (installs requests-credssp through"
    " pywinrm[credssp])",
}


def configuration_error(host: str, error: RemediateError) -> ConfigurationError:
    """The host's ConfigurationError for a settings error: where it was written stays in
    the message, since reports show the message and hint only."""
    where = f"{error.file}:{error.line}: " if error.file and error.line else ""
    where = where or (f"{error.file}: " if error.file else "")
    hint = error.hint
    for extra, better in LIBRARY_HINTS.items():
        if hint and extra in hint:
            hint = better
    return ConfigurationError(f"{where}{error.message}", hint=hint, host=host)


def _raise(error: ConfigurationError) -> NoReturn:
    raise error


def _failing_target(host: Host, error: ConfigurationError) -> HostTarget:
    return HostTarget(name=host.name, connect=partial(_raise, error), transport="", problem=error)


def _target(
    host: Host, options: ConnectOptions, environ: Mapping[str, str] | None, probe: bool
) -> tuple[HostTarget, list[Secret]]:
    """The host's target; one whose `connect` raises when its settings cannot work."""
    try:
        settings, secrets = _settings(host, options, environ)
        shell = shell_dialect(host)
    except RemediateError as exc:
        if not (exc.host or exc.file):  # not about this host (no password typed at the prompt)
            raise
        return _failing_target(host, configuration_error(host.name, exc)), []
    except Exception as exc:  # a surprise in one host's variables must not stop the run
        error = ConfigurationError(
            f"unexpected {type(exc).__name__} while reading the connection variables",
            host=host.name,
            hint="check this host's variables with `remediate inventory --vars`",
        )
        return _failing_target(host, error), []
    if probe:
        settings = replace(settings, connect_retries=0)
    target = HostTarget(
        name=host.name,
        connect=partial(open_transport, host.name, settings),
        shell=shell,
        transport=transport_name(settings),
        address=settings.address,
        modules=first_use_modules(settings),
    )
    return target, secrets


def targets_for(
    hosts: Iterable[Host],
    options: ConnectOptions,
    environ: Mapping[str, str] | None = None,
    probe: bool = False,
) -> Targets:
    """Targets for the hosts, the hosts skipped, and every secret in use.

    Never raises for one host's settings (see the module's docstring). `probe` makes targets
    that try once: for asking "is it back?" while a host restarts, where retries would only
    hide the answer.
    """
    targets: list[HostTarget] = []
    skipped: list[SkippedHost] = []
    secrets: list[Secret] = []
    for host in hosts:
        rendered = _rendered(host, options, environ)
        skip = skipped_connection(rendered)
        if skip is not None:
            skipped.append(skip)
            continue
        target, host_secrets = _target(rendered, options, environ, probe)
        targets.append(target)
        secrets += host_secrets
    return Targets(targets, skipped, secrets)


def build_targets(
    hosts: Iterable[Host],
    options: ConnectOptions,
    environ: Mapping[str, str] | None = None,
    probe: bool = False,
) -> tuple[list[HostTarget], list[Secret]]:
    """A target for every host, and every secret in use: `targets_for` for callers that
    contact each host they name (apply). A skipped host's target raises its reason."""
    hosts = list(hosts)
    found = targets_for(hosts, options, environ, probe)
    skipped = {
        skip.name: ConfigurationError(f"not contacted: {skip.reason}", host=skip.name)
        for skip in found.skipped
    }
    targets = {target.name: target for target in found.targets}
    ordered = [
        targets.get(host.name) or _failing_target(host, skipped[host.name]) for host in hosts
    ]
    return ordered, found.secrets
