"""The lab's fleet file: a YAML description of simulated Windows/Exchange hosts.

A fleet file has `defaults` (merged into every host) and `hosts`. Loading validates every
field and reports errors with the file, the YAML path and the line, never a traceback.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from remediate.catalog.windows import os_family
from remediate.lab.features import SERVER_FEATURES
from remediate.yamlfile import YamlInputError, load_located, read_utf8


def _assume_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_assume_utc)]
"""A time; one written without a zone is taken as UTC."""

MAX_GENERATED = 10_000_000  # records per generator: beyond any real event log


def _hex_bytes(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.replace(" ", "").replace("\n", "")
    try:
        bytes.fromhex(cleaned)
    except ValueError as exc:
        raise ValueError("data must be hex bytes such as '74 00 05 00'") from exc
    return cleaned.lower()


class FleetError(Exception):
    """A fleet file that cannot be used; the message names the file and line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class OperatingSystem(_Model):
    caption: str = "Microsoft(R) Windows(R) Server 2003, Standard Edition"
    version: str = "5.2.3790"
    build: int = 3790
    service_pack: int = 2
    architecture: Literal["x86", "x64", "alpha", "ia64"] = "x86"
    powershell: str | None = "2.0"
    winrm: bool = True
    hostname: str | None = None
    timezone: str = "UTC"
    dotnet: str | None = Field(
        default=None,
        description="the .NET Framework installed (2.0 ...), for WSH steps that hash a file "
        "through COM; PowerShell hosts have it (PowerShell 2.0 runs on .NET 2.0)",
    )
    language: Literal["en-US", "de-DE", "ja-JP"] = Field(
        default="en-US",
        description="installation language: display names such as Win32_ServerFeature.Name",
    )

    @property
    def family(self) -> str:
        """Short OS family used to pick remediation mechanisms (nt4, w2k, w2k3, w2k8, ...)."""
        return os_family(self.version)


ExchangeRole = Literal[
    "Mailbox",
    "ClientAccess",
    "HubTransport",
    "EdgeTransport",
    "UnifiedMessaging",
    "FrontendTransport",
    "Management",
]
"""A server role as the collector names it (registry keys per version: `remediate.lab.registry`)."""

# Setup's default folders (MsiInstallPath without its final backslash): Exchange 2007
# "C:\Program Files\Microsoft\Exchange Server", 2010 "...\V14", 2013 to SE "...\V15"
# (CSS-Exchange's HealthChecker test mocks MsiInstallPath as "C:\Program Files\Microsoft\
# Exchange Server\V15"); 5.5 to 2003 keep the lab's historical default.
_DEFAULT_ROOTS = {
    "2007": "C:\\Program Files\\Microsoft\\Exchange Server",
    "2010": "C:\\Program Files\\Microsoft\\Exchange Server\\V14",
    "2013": "C:\\Program Files\\Microsoft\\Exchange Server\\V15",
}
_MAILBOX_2007: tuple[ExchangeRole, ...] = ("Mailbox", "ClientAccess", "HubTransport", "Management")
# What a Mailbox server of each line has installed: from 2016 on the Mailbox role brings the
# client access, transport and (2016 only: Exchange 2019 has no Unified Messaging) UM parts
# (CSS-Exchange Setup/Tests/KnownIssues/ExchangeSetup-PrepareSchema-8245.log, a 2016 server:
# "The following roles are installed: BridgeheadRole ClientAccessRole MailboxRole
# UnifiedMessagingRole FrontendTransportRole AdminToolsRole CafeRole").
_DEFAULT_ROLES: dict[str, tuple[ExchangeRole, ...]] = {
    "8": _MAILBOX_2007,
    "14": _MAILBOX_2007,
    "15.0": ("Mailbox", "ClientAccess", "HubTransport", "UnifiedMessaging", "Management"),
    "15.1": (
        "Mailbox",
        "ClientAccess",
        "HubTransport",
        "UnifiedMessaging",
        "FrontendTransport",
        "Management",
    ),
    "15.2": ("Mailbox", "ClientAccess", "HubTransport", "FrontendTransport", "Management"),
}


def exchange_line(version: str) -> Literal["legacy", "2007", "2010", "2013"]:
    """Which setup layout a version has: 5.5 to 2003 ("legacy", Exchange\\Setup\\Services and
    store.exe), 2007 (8.x), 2010 (14.x), or 2013 and later (15.x: 2013, 2016, 2019, SE)."""
    major = version.split(".")[0]
    return {"8": "2007", "14": "2010", "15": "2013"}.get(major, "legacy")


class Exchange(_Model):
    product: str = "Microsoft Exchange Server 2003"
    version: str = "6.5"
    build: str = "6.5.7638.1"
    service_pack: int | None = Field(
        default=2,
        description="Exchange\\Setup\\ServicePackNumber (5.5 to 2003); none from 2007 on, whose "
        "registry has no such value",
    )
    install_root: str = Field(default="", description="by default setup's folder for the version")
    roles: list[ExchangeRole] | None = Field(
        default=None,
        description="installed roles (2007 and later; by default a Mailbox server's)",
    )
    in_registry: bool = Field(
        default=True,
        description="setup's registry key is there; False: a damaged registry, the folder is "
        "found only from a service's image path",
    )

    @model_validator(mode="after")
    def _line_defaults(self) -> Exchange:
        line = exchange_line(self.version)
        if not self.install_root:
            self.install_root = _DEFAULT_ROOTS.get(line, "C:\\Program Files\\Exchsrvr")
        if line == "legacy":
            if self.roles:
                raise ValueError("roles: Exchange 5.5 to 2003 have no server roles in the registry")
            self.roles = []
            return self
        if "service_pack" not in self.model_fields_set:
            self.service_pack = None
        if line != "2013" and self.roles and "FrontendTransport" in self.roles:
            raise ValueError("roles: FrontendTransport is a role of Exchange 2013 and later")
        if self.roles is None:
            major, _, rest = self.version.partition(".")
            key = major if major != "15" else f"15.{rest.split('.')[0] or '0'}"
            self.roles = list(_DEFAULT_ROLES.get(key, _DEFAULT_ROLES["15.2"]))
        return self

    @property
    def line(self) -> Literal["legacy", "2007", "2010", "2013"]:
        return exchange_line(self.version)


class FileEntry(_Model):
    path: str
    version: str | None = None
    size: int = 0
    modified: UtcDatetime = datetime(2004, 1, 1, tzinfo=UTC)
    pending_version: str | None = Field(
        default=None, description="a replacement waiting in PendingFileRenameOperations"
    )


class ShareFile(_Model):
    """A file on a share the host can read (`\\\\server\\share\\file`), for copy_from."""

    path: str
    content: str = Field(default="", description="the file's bytes, as UTF-8 text")

    @field_validator("path")
    @classmethod
    def _unc(cls, value: str) -> str:
        if not re.fullmatch(r"\\\\[^\\]+\\[^\\]+\\.+", value):
            raise ValueError(f"{value!r} is not a share path such as \\\\server\\share\\file")
        return value


class Service(_Model):
    name: str
    display_name: str | None = None
    state: Literal["running", "stopped", "start_pending", "stop_pending", "paused"] = "running"
    start_mode: Literal["auto", "manual", "disabled"] = "auto"
    fails_to_start: bool = False


# An event's 32-bit identifier is its 16-bit code plus qualifiers (severity, customer bit,
# facility) in the high word; the Event Viewer, WMI's EventCode and Get-WinEvent's Id show the
# low 16 bits ("Event Identifiers", Microsoft Learn; Win32_NTLogEvent.EventCode: "Value of the
# lower 16-bits of the EventIdentifier property"). Lab events carry qualifiers so a script
# that compares the full identifier (EventLogEntry.InstanceId, or EventID, which only masks
# the top two bits) misses them, as it would on Windows.
_QUALIFIERS = Field(default=0, ge=0, le=65535, description="high word of the event identifier")


class EventRecord(_Model):
    log: str = "Application"
    source: str
    event_id: int = Field(ge=0, le=65535)
    qualifiers: int = _QUALIFIERS
    type: Literal["error", "warning", "information", "success_audit", "failure_audit"] = "error"
    time: UtcDatetime | None = None
    ago: str | None = Field(
        default=None, description="instead of time: 90s, 15m, 2h, 3d before now"
    )
    message: str = ""
    category: int | str = 0
    data: str | None = Field(default=None, description="binary data as hex bytes")

    _check_data = field_validator("data")(_hex_bytes)

    @model_validator(mode="after")
    def _when(self) -> EventRecord:
        if (self.time is None) == (self.ago is None):
            raise ValueError("give an event record either time or ago")
        if self.ago is not None:
            self.time = datetime.now(UTC) - _duration(self.ago)
            self.ago = None
        return self

    @property
    def when(self) -> datetime:
        assert self.time is not None
        return self.time

    @property
    def identifier(self) -> int:
        """The full 32-bit event identifier (EventIdentifier, InstanceId)."""
        return (self.qualifiers << 16) | self.event_id


class EventGenerator(_Model):
    """`count` records of one kind, one every `every_seconds`, ending at `end` (default: now)."""

    log: str = "Application"
    source: str
    event_id: int = Field(ge=0, le=65535)
    qualifiers: int = _QUALIFIERS
    type: Literal["error", "warning", "information", "success_audit", "failure_audit"] = "error"
    message: str = ""
    category: int | str = 0
    data: str | None = None
    count: int = Field(ge=0, le=MAX_GENERATED)
    every_seconds: float = Field(gt=0, le=10 * 365 * 86400, default=60.0, allow_inf_nan=False)
    end: UtcDatetime | None = None
    end_ago: str | None = Field(default=None, description="instead of end: 2h, 3d before now")

    _check_data = field_validator("data")(_hex_bytes)

    @model_validator(mode="after")
    def _end(self) -> EventGenerator:
        if self.end is not None and self.end_ago is not None:
            raise ValueError("give a generator end or end_ago, not both")
        if self.end_ago is not None:
            self.end = datetime.now(UTC) - _duration(self.end_ago)
            self.end_ago = None
        return self

    def time_at(self, index: int, now: datetime) -> datetime:
        """When the index-th record (0 = oldest) was written."""
        end = self.end or now
        return end - timedelta(seconds=self.every_seconds * (self.count - 1 - index))

    def record(self, index: int, now: datetime) -> EventRecord:
        """The index-th record (0 = oldest) without materialising the others."""
        return EventRecord.model_construct(
            log=self.log,
            source=self.source,
            event_id=self.event_id,
            qualifiers=self.qualifiers,
            type=self.type,
            time=self.time_at(index, now),
            ago=None,
            message=self.message,
            category=self.category,
            data=self.data,
        )


class EventLogs(_Model):
    records: list[EventRecord] = []
    generators: list[EventGenerator] = []

    def iter_records(self, now: datetime | None = None) -> Iterator[EventRecord]:
        """Every record, explicit ones first, generated ones lazily."""
        now = now or datetime.now(UTC)
        yield from self.records
        for generator in self.generators:
            for index in range(generator.count):
                yield generator.record(index, now)

    def __len__(self) -> int:
        return len(self.records) + sum(g.count for g in self.generators)


class CertificateMappingSpec(_Model):
    """A WinRM certmapping entry ([MS-WSMV] 2.2.4.3): certificates whose UPN matches `subject`
    (at most one `*`, first or last), signed by `issuer`, log on as `username`."""

    subject: str = Field(min_length=1)
    username: str = Field(min_length=1)
    issuer: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Fa-f]{40}$",
        description="SHA-1 thumbprint of the signing certificate; by default the lab CA's",
    )
    enabled: bool = True

    @field_validator("subject")
    @classmethod
    def _one_star(cls, value: str) -> str:
        stars = value.count("*")
        if stars > 1 or (stars == 1 and not (value.startswith("*") or value.endswith("*"))):
            raise ValueError(f"subject {value!r}: at most one '*', as its first or last character")
        return value


class Credentials(_Model):
    username: str = "Administrator"
    password: str = "Lab-Passw0rd!"
    domain: str = "LAB"
    authorized_keys: list[str] = Field(default=[], description="OpenSSH public key lines")
    certificate_mappings: list[CertificateMappingSpec] = Field(
        default=[], description="client certificates that log on (with endpoints.certificate)"
    )


class Faults(_Model):
    down: bool = False
    blackhole: bool = False
    latency_ms: int = Field(default=0, ge=0)
    flapping: float = Field(default=0.0, ge=0.0, le=1.0, description="share of responses reset")
    wrong_password: bool = False
    shell_quota_full: bool = False
    corrupt_output: bool = False
    slow_probe_seconds: float = Field(default=0.0, ge=0.0)
    reboot_seconds: float = Field(default=5.0, ge=0.0, description="offline time after a reboot")
    drop_mid_command: bool = Field(
        default=False,
        description="the host drops the connection mid-command: every WinRM Receive goes "
        "unanswered (the shell stays), an SSH exec ends without exit status",
    )


class Endpoints(_Model):
    http: bool = True
    https: bool = True
    ssh: bool = True
    basic: bool = True
    ntlm: bool = Field(
        default=True,
        description="NTLM allowed; false is Windows' 'Network security: Restrict NTLM: "
        "Incoming NTLM traffic' = Deny all (Negotiate then only takes Kerberos)",
    )
    negotiate: bool = Field(
        default=True, description="WinRM Auth/Negotiate: the 401 offers 'Negotiate'"
    )
    kerberos: bool = Field(
        default=True,
        description="WinRM Auth/Kerberos: the 401 offers 'Kerberos' and Kerberos tickets are "
        "accepted (under Negotiate too) when the fleet has kerberos settings",
    )
    credssp: bool = Field(
        default=False,
        description="WinRM Auth/CredSSP (Enable-WSManCredSSP -Role Server; off by default): "
        "the 401 offers 'CredSSP' and the user's password is delegated to the host",
    )
    certificate: bool = Field(
        default=False,
        description="WinRM Auth/Certificate over HTTPS: client certificates mapped by "
        "credentials.certificate_mappings log on",
    )
    allow_unencrypted: bool = Field(
        default=True,
        description="WinRM AllowUnencrypted: plain SOAP over HTTP (Windows defaults to false)",
    )
    winrm_version: Literal["1.1", "2.0", "3.0"] | None = Field(
        default=None, description="WinRM stack; by default from the OS version and PowerShell"
    )
    # winrm/config/winrs quotas; None = the default of the host's WinRM version (WINRM_DEFAULTS).
    max_shells_per_user: int | None = Field(default=None, ge=1)
    max_memory_per_shell_mb: int | None = Field(default=None, ge=1)
    max_concurrent_operations: int = Field(default=1500, ge=1)

    def resolve(self, os: OperatingSystem) -> None:
        """Fill what was left unset with the defaults of the host's WinRM version."""
        if self.winrm_version is None:
            self.winrm_version = winrm_version_of(os)
        defaults = WINRM_DEFAULTS[self.winrm_version]
        if self.max_shells_per_user is None:
            self.max_shells_per_user = defaults.max_shells_per_user
        if self.max_memory_per_shell_mb is None:
            self.max_memory_per_shell_mb = defaults.max_memory_per_shell_mb

    @property
    def standard_ports(self) -> tuple[int, int]:
        """The (HTTP, HTTPS) ports a listener of this WinRM version takes by default."""
        return WINRM_DEFAULTS[self.winrm_version or "3.0"].ports


@dataclass(frozen=True)
class WinRMDefaults:
    ports: tuple[int, int]
    max_shells_per_user: int
    max_memory_per_shell_mb: int


# Listener ports: "The default ports used when creating new WS-Management listeners will be
# changed from 80 for HTTP and 443 for HTTPS to 5985 for HTTP and 5986 for HTTPS" in WinRM 2.0
# ("Details on secure port configuration for WS-Management in Windows 7 and Windows Server 2008
# R2", TechNet ee922665); [MS-WSMV] 2.2.4.35 ServiceDefaultPortsType: "SHOULD be 5985 but MAY
# be 80". WinRM 1.1 is on 2003 R2 (Hardware Management), XP/2003 (download) and 2008
# ("Installation and Configuration for Windows Remote Management", msdn aa384372).
# Quotas: "Quota Management for Remote Shells" (msdn ee309367, the WinRM 2.0 page): defaults
# MaxShellsPerUser 5, MaxMemoryPerShellMB 150 (MaxConcurrentUsers 5); the page today (WinRM
# 3.0, Windows 2012 and later, and [MS-WSMV] 2.2.4.42 WinrsType) gives 30 and 1024. WinRM 1.1's
# own quota defaults are unverified: the lab gives it 2.0's, the strictest published.
WINRM_DEFAULTS = {
    "1.1": WinRMDefaults(ports=(80, 443), max_shells_per_user=5, max_memory_per_shell_mb=150),
    "2.0": WinRMDefaults(ports=(5985, 5986), max_shells_per_user=5, max_memory_per_shell_mb=150),
    "3.0": WinRMDefaults(ports=(5985, 5986), max_shells_per_user=30, max_memory_per_shell_mb=1024),
}


def winrm_version_of(os: OperatingSystem) -> Literal["1.1", "2.0", "3.0"]:
    """The WinRM a Windows version has: 1.1 on XP/2003 (download) and 2008 (built in), 2.0
    with WMF 2.0 (PowerShell 2.0) and on 2008 R2, 3.0 from Windows 2012 (6.2) on."""
    parts = os.version.split(".")
    major = int(parts[0]) if parts[0].isdigit() else 0
    minor = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if (major, minor) >= (6, 2):
        return "3.0"
    if (major, minor) >= (6, 1) or (os.powershell or "").startswith("2"):
        return "2.0"
    return "1.1"


class HostSpec(_Model):
    name: str
    address: str | None = None
    description: str = ""
    os: OperatingSystem = OperatingSystem()
    exchange: Exchange | None = None
    files: list[FileEntry] = []
    services: list[Service] = []
    shares: list[ShareFile] = Field(default=[], description="share files this host can read")
    components: dict[str, bool] = Field(
        default={},
        description="OC Manager subcomponents (Windows 5.x) or ServerManager names (6.x)",
    )
    event_logs: EventLogs = EventLogs()
    credentials: Credentials = Credentials()
    endpoints: Endpoints = Endpoints()
    faults: Faults = Faults()
    pending_reboot: bool = False
    pending_deletes: list[str] = Field(
        default=[],
        description="files MoveFileEx scheduled for deletion at restart: each is a source with "
        "an EMPTY destination in PendingFileRenameOperations, written before the replacements "
        "of pending_version files (the empty entries are what some readers drop)",
    )
    step_seconds: dict[Literal["component", "service", "reboot", "run"], float] = Field(
        default={},
        description="how long each kind of step action takes on this host before it answers "
        "(sysocmgr and installers take minutes on real hosts); its change lands at the end",
    )

    @field_validator("step_seconds")
    @classmethod
    def _step_seconds(cls, value: dict[str, float]) -> dict[str, float]:
        for kind, seconds in value.items():
            if not 0 <= seconds <= 86400:
                raise ValueError(f"step_seconds.{kind}: {seconds} is not between 0 and 86400")
        return value

    @field_validator("address")
    @classmethod
    def _loopback(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not ipaddress.ip_address(value).is_loopback:
            raise ValueError(f"{value} is not a loopback address (the lab only listens on 127/8)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HostSpec:
        if not self.os.winrm:
            self.endpoints.http = False
            self.endpoints.https = False
        major = self.os.version.split(".")[0]
        unknown = sorted(set(self.components) - set(SERVER_FEATURES))
        if major.isdigit() and int(major) >= 6 and unknown:
            raise ValueError(
                f"components {', '.join(unknown)}: a Windows 6.x host names its features by "
                f"ServerManager name ({', '.join(SERVER_FEATURES)})"
            )
        return self

    @model_validator(mode="after")
    def _winrm_defaults(self) -> HostSpec:
        self.endpoints.resolve(self.os)
        return self

    @property
    def hostname(self) -> str:
        """The NetBIOS computer name the host reports (15 characters at most, as Windows)."""
        return (self.os.hostname or self.name.split(".")[0]).upper()[:15]


_REALM = re.compile(r"^[A-Z0-9]([A-Z0-9-]*[A-Z0-9])?(\.[A-Z0-9]([A-Z0-9-]*[A-Z0-9])?)+$")


class KerberosSettings(_Model):
    """The domain the lab's hosts are members of: its realm and the hosts' service keys.

    The keytab holds `HTTP/<host>.<domain>` and `HTTP/<NETBIOS>` keys for the hosts (what a
    computer account's keys are on Windows); a relative path is taken from the fleet file's
    folder. Without these settings no host accepts Kerberos, as a host outside a domain.
    """

    realm: str = "LAB.LOCAL"
    keytab: Path

    @field_validator("realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        if not _REALM.match(value):
            raise ValueError(
                f"{value!r} is not a Kerberos realm of an Active Directory domain: the DNS "
                "domain in upper case, such as LAB.LOCAL"
            )
        return value

    @property
    def dns_domain(self) -> str:
        """The domain's DNS name (`lab.local`): hosts are `<netbios>.<dns_domain>`."""
        return self.realm.lower()

    def fqdn(self, host: HostSpec) -> str:
        """The host's DNS name in the domain, e.g. `ex2016-01.lab.local`."""
        return f"{host.hostname.lower()}.{self.dns_domain}"

    def service_principals(self, host: HostSpec) -> tuple[str, str]:
        """The SPNs a ticket for this host may name: `HTTP/<fqdn>` and `HTTP/<netbios>`
        (lower case, as MIT's krb5_sname_to_principal asks for them)."""
        return (
            f"HTTP/{self.fqdn(host)}@{self.realm}",
            f"HTTP/{host.hostname.lower()}@{self.realm}",
        )


class Fleet(_Model):
    name: str = "lab"
    address_base: str = "127.20.0.1"
    defaults: dict[str, Any] = {}
    kerberos: KerberosSettings | None = None
    hosts: list[HostSpec]

    @field_validator("address_base")
    @classmethod
    def _base(cls, value: str) -> str:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address") from None
        if not address.is_loopback or address.version != 4:
            raise ValueError(f"{value} is not an IPv4 loopback address (127.0.0.0/8)")
        return value

    @model_validator(mode="after")
    def _room(self) -> Fleet:
        last = ipaddress.ip_address(self.address_base) + len(self.hosts)
        if last not in ipaddress.ip_network("127.0.0.0/8"):
            raise ValueError(f"address_base {self.address_base} leaves no room for the hosts")
        return self

    def assign_addresses(self) -> None:
        """Give each host without an address the next free loopback address."""
        taken = {h.address for h in self.hosts if h.address}
        candidate = ipaddress.ip_address(self.address_base)
        for host in self.hosts:
            if host.address:
                continue
            while str(candidate) in taken:
                candidate += 1
            host.address = str(candidate)
            taken.add(host.address)
            candidate += 1


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def _duration(text: str) -> timedelta:
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m, 2h or 3d")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    return timedelta(seconds=float(match.group(1)) * unit)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_fleet(text: str, source: str = "<fleet>") -> Fleet:
    """Validate fleet YAML text; errors name the source, the YAML path and the line."""
    try:
        located = load_located(text, source)
    except YamlInputError as exc:
        raise FleetError(str(exc)) from None
    document = located.data
    if not isinstance(document, dict) or not isinstance(document.get("hosts"), list):
        raise FleetError(f"{source}: a fleet file is a mapping with a 'hosts' list")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise FleetError(f"{source}: 'defaults' must be a mapping")
    seen: set[str] = set()
    for index, host in enumerate(document["hosts"]):
        name = host.get("name") if isinstance(host, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            where = located.where(("hosts", index, "name"))
            raise FleetError(f"{where}: hosts.{index}.name: host name {name!r} appears twice")
        seen.add(name)
    _refuse_unencodable_text(located, document, ())
    merged = dict(document)
    merged["hosts"] = [
        _deep_merge(defaults, h) if isinstance(h, dict) else h for h in document["hosts"]
    ]
    try:
        fleet = Fleet.model_validate(merged)
    except ValidationError as exc:
        raise FleetError(str(located.validation_error(exc))) from None
    fleet.assign_addresses()
    return fleet


def _refuse_unencodable_text(located: Any, node: Any, path: tuple[Any, ...]) -> None:
    """Refuse text Windows could not hold: lone surrogates (YAML "\\udc80" escapes) are no
    UTF-16 text, so no event message, path or name on a host can contain them; the lab would
    fail to encode them for every client that asks."""
    if isinstance(node, dict):
        for key, value in node.items():
            _refuse_unencodable_text(located, key, path)
            _refuse_unencodable_text(located, value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _refuse_unencodable_text(located, value, (*path, index))
    elif isinstance(node, str):
        try:
            node.encode("utf-8")
        except UnicodeEncodeError as exc:
            where = located.where(path)
            dotted = ".".join(str(p) for p in path) or "(top)"
            raise FleetError(
                f"{where}: {dotted}: text holds a lone surrogate "
                f"(U+{ord(node[exc.start]):04X} at character {exc.start}), which is not "
                "Unicode text a Windows host could store; write the character itself"
            ) from None


def load_fleet(path: str | Path) -> Fleet:
    """Read and validate a fleet file."""
    path = Path(path)
    try:
        text = read_utf8(path)
    except YamlInputError as exc:
        raise FleetError(str(exc)) from None
    fleet = parse_fleet(text, str(path))
    if fleet.kerberos is not None and not fleet.kerberos.keytab.is_absolute():
        fleet.kerberos.keytab = path.parent / fleet.kerberos.keytab
    return fleet
