"""A host's connection settings from its Ansible variables: which names, which defaults.

The inventory only reads variables; this module says what they mean for a connection, as
Ansible's connection plugins declare the variables they read. The password itself is chosen in
`remediate.connect.passwords` and handed to `connection_settings`.

Every `ansible_*` name below also answers to `remediate_*` (e.g. `remediate_port`), which
wins; a connection-specific name (`ansible_winrm_user`, `ansible_ssh_port`) wins over the
generic one (`ansible_user`), as in Ansible; the legacy `ansible_ssh_user/pass/port/host` names
are honoured for WinRM hosts too.

* `ansible_connection`: `winrm` (the default here, unlike Ansible's `ssh`: this is a Windows
  tool), `psrp` (treated as WinRM, its `ansible_psrp_*` names read too), or `ssh`/`paramiko`.
* WinRM: `ansible_winrm_transport` (`ntlm` by default, where Ansible defaults to Basic that
  Windows refuses by default; `kerberos` and `credssp` need pywinrm's extras; `basic`,
  `ssl` = Basic over HTTPS, `plaintext` = Basic with HTTP allowed; `certificate` over HTTPS
  with `ansible_winrm_cert_pem` and `ansible_winrm_cert_key_pem`; a list takes its first
  item), port 5986 (even with scheme http, as Ansible)
  and https by default, http when the port is 5985 unless `ansible_winrm_scheme` says so,
  `ansible_winrm_server_cert_validation`, `ansible_winrm_ca_trust_path`,
  `ansible_winrm_message_encryption`, `ansible_winrm_operation_timeout_sec` (20) and
  `ansible_winrm_read_timeout_sec` (operation timeout + 10). Basic authentication over plain
  HTTP is refused unless `--allow-insecure` or `ansible_winrm_transport=plaintext`.
* Kerberos (`ansible_winrm_transport=kerberos`), as Ansible's winrm plugin reads it:
  `ansible_winrm_kinit_mode` (`managed`: remediate gets the ticket with the password into the
  run's private cache; `manual`: the user's `kinit` ticket; unset: managed when a password
  is set), `ansible_winrm_service` (`HTTP`), `ansible_winrm_kerberos_delegation` (false),
  `ansible_winrm_kerberos_hostname_override` (the SPN's host name when `ansible_host` is an
  address); the user is a principal `user@REALM`, the realm written in capitals here.
* SSH: port 22, `ansible_ssh_private_key_file`, `remediate_known_hosts` (a known_hosts file).
* `remediate_shell`: `powershell` or `wsh` fixes the dialect instead of detecting it.
* `ansible_host` (with its connection's aliases) is the address, the inventory name when unset;
  `ansible_port` (which `host:port` in the INI file sets) the port, 1 to 65535.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from remediate.connect.secrets import MASK, Secret
from remediate.errors import InputError, RemediateError
from remediate.inventory import Host
from remediate.inventory.model import is_secret_name, show_value
from remediate.transport import Dialect
from remediate.transport.kerberos_auth import TicketCache
from remediate.transport.settings import SshSettings, WinRMSettings

ConnectionKind = Literal["winrm", "ssh"]

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "winrm": {
        "host": ("ansible_winrm_host", "ansible_psrp_host", "ansible_host", "ansible_ssh_host"),
        "port": ("ansible_winrm_port", "ansible_psrp_port", "ansible_port", "ansible_ssh_port"),
        "user": ("ansible_winrm_user", "ansible_psrp_user", "ansible_user", "ansible_ssh_user"),
        "password": (
            "ansible_winrm_password",
            "ansible_winrm_pass",
            "ansible_psrp_password",
            "ansible_psrp_pass",
            "ansible_password",
            "ansible_ssh_password",
            "ansible_ssh_pass",
        ),
        "transport": ("ansible_winrm_transport", "ansible_psrp_auth"),
        "scheme": ("ansible_winrm_scheme", "ansible_psrp_protocol"),
        "cert_validation": (
            "ansible_winrm_server_cert_validation",
            "ansible_psrp_cert_validation",
        ),
        "ca_trust_path": ("ansible_winrm_ca_trust_path", "ansible_psrp_ca_cert"),
        "message_encryption": (
            "ansible_winrm_message_encryption",
            "ansible_psrp_message_encryption",
        ),
        "operation_timeout": (
            "ansible_winrm_operation_timeout_sec",
            "ansible_psrp_operation_timeout",
        ),
        "read_timeout": ("ansible_winrm_read_timeout_sec", "ansible_psrp_read_timeout"),
        "kinit_mode": ("ansible_winrm_kinit_mode",),
        "service": ("ansible_winrm_service", "ansible_psrp_negotiate_service"),
        "kerberos_delegation": (
            "ansible_winrm_kerberos_delegation",
            "ansible_psrp_negotiate_delegate",
        ),
        "hostname_override": (
            "ansible_winrm_kerberos_hostname_override",
            "ansible_psrp_negotiate_hostname_override",
        ),
        "cert_pem": ("ansible_winrm_cert_pem", "ansible_psrp_certificate_pem"),
        "cert_key_pem": ("ansible_winrm_cert_key_pem", "ansible_psrp_certificate_key_pem"),
    },
    "ssh": {
        "host": ("ansible_ssh_host", "ansible_host"),
        "port": ("ansible_ssh_port", "ansible_port"),
        "user": ("ansible_ssh_user", "ansible_user"),
        "password": ("ansible_ssh_password", "ansible_ssh_pass", "ansible_password"),
        "key_file": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    },
    "any": {
        "host": ("ansible_host", "ansible_ssh_host", "ansible_winrm_host"),
        "port": ("ansible_port", "ansible_ssh_port", "ansible_winrm_port"),
        "connection": ("ansible_connection",),
        "shell": ("remediate_shell",),
        "known_hosts": ("remediate_known_hosts",),
    },
}

WINRM_TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate", "ssl", "plaintext")
_CONNECTIONS: dict[str, ConnectionKind] = {
    "winrm": "winrm",
    "psrp": "winrm",
    "ssh": "ssh",
    "paramiko": "ssh",
    "paramiko_ssh": "ssh",
}
_OPTIONAL_AUTH = {
    "kerberos": (("kerberos", "winkerberos"), "pywinrm[kerberos]"),
    "credssp": (("requests_credssp",), "pywinrm[credssp]"),
}
# Managed Kerberos gets the ticket through python-gssapi (remediate.transport.kerberos_auth).
_MANAGED_KERBEROS = (("gssapi",), "pywinrm[kerberos]")
# Ansible's `boolean()` (lib/ansible/module_utils/parsing/convert_bool.py): its true and
# false spellings; anything else is refused here rather than read as false.
_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})
_FALSE = frozenset({"n", "no", "off", "0", "false", "f"})


def _names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The `remediate_*` form of every `ansible_*` name first, then the names themselves."""
    ours = tuple(
        "remediate_" + n.removeprefix("ansible_") for n in names if n.startswith("ansible_")
    )
    return tuple(dict.fromkeys(ours + names))


def _lookup(host: Host, names: tuple[str, ...]) -> tuple[str, Any] | None:
    """The first of these variables the host sets (to something other than None)."""
    for name in _names(names):
        if host.vars.get(name) is not None:
            return name, host.vars[name]
    return None


def _aliases(host: Host, setting: str) -> tuple[str, ...]:
    """The variable names of a setting, for the host's connection, most specific first."""
    kind = _kind_or_none(host)
    for table in (_ALIASES[kind] if kind else {}, _ALIASES["any"], _ALIASES["winrm"]):
        if setting in table:
            return table[setting]
    return _ALIASES["ssh"][setting]


def _var_error(host: Host, name: str, message: str, hint: str | None = None) -> InputError:
    origin = host.origin(name)
    return InputError(
        message,
        hint=hint,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        host=host.name,
    )


def _text(host: Host, name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):  # Ansible makes `ansible_password=1234` a string again
        try:
            return str(value)
        except ValueError:
            pass
    raise _var_error(host, name, f"{name}={show_value(value)} is not a string")


def _setting_text(host: Host, setting: str) -> tuple[str, str] | None:
    """(variable name, text value) of a setting, or None when unset."""
    found = _lookup(host, _aliases(host, setting))
    return None if found is None else (found[0], _text(host, *found))


def _kind_or_none(host: Host) -> ConnectionKind | None:
    found = _lookup(host, _ALIASES["any"]["connection"])
    if found is None:
        return "winrm"
    if not isinstance(found[1], str):
        return None
    return _CONNECTIONS.get(found[1].strip().lower().rsplit(".", 1)[-1])


def connection_kind(host: Host) -> ConnectionKind:
    """`winrm` (also for psrp, and by default) or `ssh`, from `ansible_connection`."""
    kind = _kind_or_none(host)
    if kind is None:
        name, value = _lookup(host, _ALIASES["any"]["connection"]) or ("ansible_connection", "")
        raise _var_error(
            host,
            name,
            f"{name}={show_value(value)} is not a connection remediate can use",
            hint="use winrm, psrp or ssh",
        )
    return kind


def _port_value(host: Host, name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 6 else 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _var_error(host, name, f"{name}={show_value(value)} is not a port (1 to 65535)")
    return value


def host_address(host: Host) -> tuple[str, int | None]:
    """Where to reach the host: its address (the inventory name when unset) and port if set."""
    address = _setting_text(host, "host")
    port = _lookup(host, _aliases(host, "port"))
    return (address[1] if address else host.name), (_port_value(host, *port) if port else None)


def shell_dialect(host: Host) -> Dialect | None:
    """The dialect `remediate_shell` fixes, or None to detect it."""
    found = _setting_text(host, "shell")
    if found is None:
        return None
    value = found[1].strip().lower()
    if value in ("powershell", "wsh"):
        return cast(Dialect, value)
    raise _var_error(
        host, found[0], f"{found[0]}={found[1]!r} is not a shell", "use powershell or wsh"
    )


def host_user(host: Host) -> str:
    """The user name the inventory gives for this host ("" when none)."""
    found = _setting_text(host, "user")
    return found[1] if found else ""


def inventory_password(host: Host) -> tuple[str, str] | None:
    """(variable name, password) when the inventory sets the host's password."""
    return _setting_text(host, "password")


def _choice(host: Host, setting: str, allowed: tuple[str, ...], default: str) -> str:
    found = _setting_text(host, setting)
    if found is None:
        return default
    value = found[1].strip().lower()
    if value not in allowed:
        raise _var_error(
            host,
            found[0],
            f"{found[0]}={found[1]!r} is not valid",
            hint="use one of: " + ", ".join(allowed),
        )
    return value


def _transport(host: Host) -> str:
    found = _lookup(host, _aliases(host, "transport"))
    if found is None:
        return "ntlm"
    name, value = found
    if isinstance(value, list):
        value = value[0] if value else ""
    text = _text(host, name, value).split(",")[0].strip().lower()
    text = "ntlm" if text == "negotiate" else text
    if text not in WINRM_TRANSPORTS:
        raise _var_error(
            host,
            name,
            f"{name}={show_value(found[1])} is not a WinRM transport",
            hint="use one of: " + ", ".join(WINRM_TRANSPORTS),
        )
    return text


def _importable(modules: tuple[str, ...]) -> bool:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def _seconds(host: Host, setting: str, default: int) -> int:
    found = _lookup(host, _aliases(host, setting))
    if found is None:
        return default
    name, value = found
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 9 else 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _var_error(host, name, f"{name}={show_value(value)} is not a number of seconds")
    return value


def _check_auth(host: Host, transport: str, scheme: str, allow_insecure: bool) -> None:
    name = (_lookup(host, _aliases(host, "transport")) or ("ansible_winrm_transport", None))[0]
    if transport == "certificate" and scheme != "https":
        # WinRM takes client certificates on its HTTPS listener only (the TLS handshake
        # carries them): "Certificate authentication ... over HTTPS" (MS-WSMV 2.2.4.3 maps them)
        raise _var_error(
            host,
            name,
            f"{name}=certificate needs HTTPS (the certificate travels in the TLS handshake)",
            hint="set ansible_winrm_scheme=https (port 5986)",
        )
    if transport in _OPTIONAL_AUTH:
        modules, extra = _OPTIONAL_AUTH[transport]
        if not _importable(modules):
            raise _var_error(
                host,
                name,
                f"{name}={transport} needs a library that is not installed",
                hint=f"pip install '{extra}'",
            )
    if scheme == "http" and transport in ("basic", "ssl") and not allow_insecure:
        raise _var_error(
            host,
            name,
            f"Basic authentication over plain HTTP ({name}={transport}, scheme http) "
            "would send the password in clear",
            hint="use HTTPS (port 5986) or ntlm/kerberos; to accept the risk pass "
            "--allow-insecure or set ansible_winrm_transport=plaintext",
        )


def _flag(host: Host, setting: str) -> bool:
    found = _lookup(host, _aliases(host, setting))
    if found is None:
        return False
    name, value = found
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int, float)) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _var_error(
        host, name, f"{name}={show_value(value)} is not a boolean", "use true or false"
    )


def kerberos_principal(user: str) -> str:
    """The Kerberos principal of an Ansible user name: `user@REALM` with the realm in capitals.

    Active Directory realms are the domain's DNS name in capitals, and MIT Kerberos compares
    realm names case-sensitively (`user@corp.example.com` finds no KDC for realm
    "corp.example.com"); Ansible's Windows guide asks for the realm in capitals, we write it
    so. A user without a realm gets krb5.conf's default_realm from the library.
    """
    name, at, realm = user.rpartition("@")
    return f"{name}@{realm.upper()}" if at and name else user


def _kinit_mode(host: Host, password: str | None) -> str:
    """`ansible_winrm_kinit_mode`; unset, as Ansible: managed when a password is set, else
    manual (the user's own ticket from kinit)."""
    return _choice(host, "kinit_mode", ("managed", "manual"), "managed" if password else "manual")


def _kerberos_settings(host: Host, password: str | None) -> dict[str, Any]:
    """The Kerberos fields of WinRMSettings; InputError for settings that cannot work."""
    user = host_user(host)
    user_name = (_lookup(host, _aliases(host, "user")) or ("ansible_user",))[0]
    if "\\" in user:
        raise _var_error(
            host,
            user_name,
            f"{user_name}={user!r} is a down-level logon name (DOMAIN\\user), which Kerberos "
            "cannot use",
            hint="write the user as user@REALM, e.g. alice@CORP.EXAMPLE.COM",
        )
    mode = _kinit_mode(host, password)
    if mode == "managed":
        where = (_lookup(host, _aliases(host, "kinit_mode")) or ("ansible_winrm_kinit_mode",))[0]
        if not user:
            raise _var_error(
                host, where, "managed Kerberos needs a user", hint="set ansible_user=user@REALM"
            )
        if not password:
            raise _var_error(
                host,
                where,
                f"{where}=managed needs the user's password",
                hint="set ansible_password (a vaulted value), or use kinit and "
                "ansible_winrm_kinit_mode=manual",
            )
        if not _importable(_MANAGED_KERBEROS[0]):
            raise _var_error(
                host,
                where,
                "managed Kerberos tickets need python-gssapi, which is not installed",
                hint=f"pip install '{_MANAGED_KERBEROS[1]}'",
            )
    service = _setting_text(host, "service")
    override = _setting_text(host, "hostname_override")
    return {
        "username": kerberos_principal(user),
        "kinit_mode": mode,
        "service": service[1].strip() if service and service[1].strip() else "HTTP",
        "kerberos_delegation": _flag(host, "kerberos_delegation"),
        "kerberos_hostname_override": override[1].strip()
        if override and override[1].strip()
        else None,
    }


def _certificate_files(host: Host) -> dict[str, str]:
    """`ansible_winrm_cert_pem` and `_cert_key_pem`: both needed, both readable files."""
    files: dict[str, str] = {}
    for setting in ("cert_pem", "cert_key_pem"):
        found = _setting_text(host, setting)
        if found is None or not found[1].strip():
            wanted = _aliases(host, setting)[0]
            transport = _lookup(host, _aliases(host, "transport"))
            name = transport[0] if transport else "ansible_winrm_transport"
            raise _var_error(
                host,
                name,
                f"{name}=certificate needs {wanted}",
                hint="set ansible_winrm_cert_pem (the user's certificate, PEM) and "
                "ansible_winrm_cert_key_pem (its private key, PEM, not encrypted)",
            )
        name, text = found
        path = Path(text.strip()).expanduser()
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise _var_error(
                host, name, f"{name}: cannot read {path}: {exc.strerror or exc}"
            ) from None
        files[setting] = str(path)
    return files


def _winrm_settings(
    host: Host, allow_insecure: bool, password: str | None, tickets: TicketCache | None
) -> WinRMSettings:
    address, port = host_address(host)
    port = port if port is not None else 5986
    scheme = _choice(host, "scheme", ("http", "https"), "http" if port == 5985 else "https")
    transport = _transport(host)
    _check_auth(host, transport, scheme, allow_insecure)
    operation = _seconds(host, "operation_timeout", 20)
    read = _seconds(host, "read_timeout", operation + 10)
    if read <= operation:
        name = _lookup(host, _aliases(host, "read_timeout")) or ("ansible_winrm_read_timeout_sec",)
        raise _var_error(
            host, name[0], "the read timeout must be longer than the operation timeout"
        )
    ca_path = _setting_text(host, "ca_trust_path")
    validation = _choice(host, "cert_validation", ("validate", "ignore"), "validate")
    encryption = _choice(host, "message_encryption", ("auto", "always", "never"), "auto")
    kerberos: dict[str, Any] = {"username": host_user(host)}
    if transport == "kerberos":
        kerberos = _kerberos_settings(host, password)
    elif transport == "certificate":
        kerberos.update(_certificate_files(host))
    return WinRMSettings(
        address=address,
        port=port,
        scheme=scheme,  # type: ignore[arg-type]
        auth=transport,
        password=password or "",
        tickets=tickets,
        **kerberos,
        validate_certificate=validation == "validate",
        ca_trust_path=str(Path(ca_path[1]).expanduser()) if ca_path else None,
        message_encryption=encryption,  # type: ignore[arg-type]
        operation_timeout=operation,
        read_timeout=read,
    )


def _ssh_settings(
    host: Host, password: str | None, accept_new: bool, known_hosts: Iterable[str]
) -> SshSettings:
    address, port = host_address(host)
    key_file = _setting_text(host, "key_file")
    files = [str(Path(path).expanduser()) for path in _known_hosts(host)]
    files += [str(path) for path in known_hosts if str(path) not in files]
    return SshSettings(
        address=address,
        port=port if port is not None else 22,
        username=host_user(host),
        password=password,
        key_file=str(Path(key_file[1]).expanduser()) if key_file else None,
        known_hosts=tuple(files),
        accept_new_host_keys=accept_new,
    )


def _known_hosts(host: Host) -> list[str]:
    found = _lookup(host, _ALIASES["any"]["known_hosts"])
    if found is None:
        return []
    name, value = found
    values = value if isinstance(value, list) else [value]
    return [_text(host, name, item) for item in values]


def connection_settings(
    host: Host,
    *,
    allow_insecure: bool = False,
    password: Secret | None = None,
    accept_new_host_keys: bool = False,
    known_hosts: Iterable[str] = (),
    tickets: TicketCache | None = None,
) -> WinRMSettings | SshSettings:
    """How to reach `host`, from its variables, with the password already chosen for it.

    `password` is what `remediate.connect.passwords` decided (the inventory's own, the
    environment's or the prompt's); it is not looked for again here. The type says which
    transport: WinRMSettings or SshSettings. Known-hosts files from `remediate_known_hosts`
    come before `known_hosts` (new keys are saved to the first). `tickets` is the run's
    private Kerberos cache, for hosts whose tickets remediate gets (managed mode).
    """
    kind = connection_kind(host)
    secret = None if password is None else password.reveal()
    if kind == "ssh":
        return _ssh_settings(host, secret, accept_new_host_keys, known_hosts)
    return _winrm_settings(host, allow_insecure, secret, tickets)


# --- describe -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One line of `remediate inventory --vars`: a name, its value as shown (a secret is
    `***`) and where the value came from, in words (`from hosts.ini:3`, `default`; "" when
    it follows from the lines above)."""

    name: str
    value: str
    source: str = ""
    variable: bool = False  # an inventory variable, as opposed to a connection setting


def _source(host: Host, setting: str, default: str = "default") -> str:
    """Where a setting's value comes from: the variable that sets it and where, or `default`."""
    try:
        found = _lookup(host, _aliases(host, setting))
    except RemediateError:
        return "(cannot be read)"
    if found is None:
        return default
    origin = host.origin(found[0])
    return f"from {found[0]} ({origin})" if origin is not None else f"from {found[0]}"


def _winrm_rows(host: Host, settings: WinRMSettings) -> list[Shown]:
    port_default = "default" if settings.port == 5986 else "default for port 5985"
    return [
        Shown("port", str(settings.port), _source(host, "port")),
        Shown("scheme", settings.scheme, _source(host, "scheme", port_default)),
        Shown("endpoint", settings.endpoint),
        Shown("auth", settings.auth, _source(host, "transport")),
        Shown("user", settings.username or "(none)", _source(host, "user", "")),
        Shown(
            "certificate",
            "validate" if settings.validate_certificate else "ignore",
            _source(host, "cert_validation"),
        ),
        Shown(
            "ca trust path", settings.ca_trust_path or "(system)", _source(host, "ca_trust_path")
        ),
        Shown(
            "message encryption", settings.message_encryption, _source(host, "message_encryption")
        ),
        *(_kerberos_rows(host, settings) if settings.auth == "kerberos" else []),
        *(
            [
                Shown("client certificate", settings.cert_pem or "", _source(host, "cert_pem")),
                Shown("client key", settings.cert_key_pem or "", _source(host, "cert_key_pem")),
            ]
            if settings.auth == "certificate"
            else []
        ),
        Shown(
            "operation timeout",
            f"{settings.operation_timeout} s",
            _source(host, "operation_timeout"),
        ),
        Shown(
            "read timeout",
            f"{settings.read_timeout} s",
            _source(host, "read_timeout", "default: operation timeout + 10 s"),
        ),
    ]


def _kerberos_rows(host: Host, settings: WinRMSettings) -> list[Shown]:
    mode_default = (
        "default: a password is set"
        if settings.kinit_mode == "managed"
        else ("default: no password, a ticket from kinit")
    )
    return [
        Shown("kinit mode", settings.kinit_mode, _source(host, "kinit_mode", mode_default)),
        Shown("service principal", settings.spn, _source(host, "hostname_override", "")),
        Shown(
            "kerberos delegation",
            "yes" if settings.kerberos_delegation else "no",
            _source(host, "kerberos_delegation"),
        ),
    ]


def _ssh_rows(host: Host, settings: SshSettings) -> list[Shown]:
    address = f"[{settings.address}]" if ":" in settings.address else settings.address
    return [
        Shown("port", str(settings.port), _source(host, "port")),
        Shown("endpoint", f"ssh://{address}:{settings.port}"),
        Shown("user", settings.username or "(none)", _source(host, "user", "")),
        Shown("key file", settings.key_file or "(none)", _source(host, "key_file", "")),
        Shown(
            "known hosts",
            ", ".join(settings.known_hosts) or "(system)",
            _source(host, "known_hosts", ""),
        ),
    ]


def explain(
    host: Host,
    settings: WinRMSettings | SshSettings | None,
    password_source: str | None = None,
) -> list[Shown]:
    """What `remediate inventory --vars` shows of a host: its connection settings, then every
    variable, each with where its value came from; secrets masked.

    `password_source` says where the password was found (`from ` and `PasswordChoice.source`)
    or where it was looked for in vain; the variables are not searched for it again here.
    """
    if settings is not None:
        address = settings.address
    else:
        try:
            address = host_address(host)[0]
        except RemediateError as exc:
            address = f"(cannot be read: {exc.message})"
    rows = [
        Shown("host", host.name, f"from {host.source}" if host.source else ""),
        Shown("groups", ", ".join(host.groups)),
        Shown("address", address, _source(host, "host", "the inventory name")),
    ]
    if settings is not None:
        kind = "winrm" if isinstance(settings, WinRMSettings) else "ssh"
        rows.append(Shown("connection", kind, _source(host, "connection")))
        if isinstance(settings, WinRMSettings):
            rows += _winrm_rows(host, settings)
        else:
            rows += _ssh_rows(host, settings)
        rows.append(
            Shown("password", MASK if settings.password else "(none)", password_source or "")
        )
        rows.append(Shown("shell", _shell_text(host), _source(host, "shell", "")))
    rows += [_variable(host, name) for name in sorted(host.vars)]
    return rows


def _variable(host: Host, name: str) -> Shown:
    """A variable's row: its value (rendered when the host's variables are templated, see
    `remediate.connect.templating`), `***` for a secret, or why it cannot be read."""
    origin = host.origin(name)
    source = f"from {origin}" if origin else ""
    secret = getattr(host.vars, "is_secret", is_secret_name)  # rendered vars know vault values
    try:
        if secret(name):
            return Shown(name, MASK, source, variable=True)
        value = host.vars[name]
    except RemediateError as exc:  # an undefined template variable, a wrong vault password...
        return Shown(name, f"(cannot be read: {exc.message})", source, variable=True)
    raw = getattr(host.vars, "raw", host.vars).get(name)
    if isinstance(raw, str) and raw != value and ("{{" in raw or "{%" in raw):
        source += f"{'; ' if source else ''}template {show_value(raw, limit=200)}"
    return Shown(name, show_value(value, limit=200), source, variable=True)


def _shell_text(host: Host) -> str:
    try:
        return shell_dialect(host) or "detected"
    except RemediateError as exc:
        return f"(invalid: {exc.message})"


def describe(host: Host, settings: WinRMSettings | SshSettings | None) -> list[tuple[str, str]]:
    """`explain` in two columns: (name, value), a variable's source after its value."""
    return [
        (
            row.name,
            f"{row.value}  ({row.source or 'origin unknown'})" if row.variable else row.value,
        )
        for row in explain(host, settings)
    ]
