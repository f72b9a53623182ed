"""The Exchange keys of a lab host's registry, as each version's setup leaves them.

The collector finds Exchange in the registry, so the lab keeps the keys and values each
version writes; `answers/collect.py` reads them as the scripts do, and the WSH test harness
(tests/probes/js_harness) is given exactly these keys. Every path is relative to
HKEY_LOCAL_MACHINE and lives in the native view: the 64-bit view of a 64-bit Windows.

Stricter than Windows: nothing is mirrored under SOFTWARE\\Wow6432Node, so a 32-bit reader
that does not ask for the 64-bit view ("Registry Redirector", Microsoft Learn: a 32-bit
process on 64-bit Windows reads HKLM\\SOFTWARE through SOFTWARE\\Wow6432Node) finds no
Exchange at all.

Sources, per layout:
- 5.5 to 2003: `SOFTWARE\\Microsoft\\Exchange\\Setup`, value `Services` = the install folder
  (Microsoft KB Q147374, "XADM: Registry Key Modifications Made During Setup", and Q149205:
  "Services: REG_SZ : C:\\EXCHSRVR"); `ServicePackNumber` (REG_DWORD) beside it.
- 2007 (8.x): `MsiInstallPath` under the same `SOFTWARE\\Microsoft\\Exchange\\Setup`, the
  roles under `SOFTWARE\\Microsoft\\Exchange\\v8.0` (Microsoft's support diagnostic
  DC_ChkSym_DPM.ps1, GetExchangeInstallFolder: "Test-Path HKLM:SOFTWARE\\Microsoft\\Exchange\\
  v8.0" then "(get-itemproperty HKLM:\\SOFTWARE\\Microsoft\\Exchange\\Setup).MsiInstallPath";
  Microsoft's Exchange 2007 Get-IEXTip: "MsiInstallPath + 'bin'", so the value ends in a
  backslash; role keys "HKLM\\SOFTWARE\\Microsoft\\Exchange\\v8.0\\<Role>\\ConfiguredVersion"
  as a public Exchange 2007 article describes them: third party, unverified by Microsoft text).
- 2010 (14.x) and 2013 to SE (15.x): `SOFTWARE\\Microsoft\\ExchangeServer\\v14|v15\\Setup`,
  value `MsiInstallPath` (CSS-Exchange: Diagnostics/ExchangeLogCollector/RemoteScriptBlock/
  Get-ExchangeInstallDirectory.ps1 reads both; HealthChecker's Get-ExchangeRegistryValues.ps1
  the v15 one), roles as subkeys of `...\\v14|v15` (CSS-Exchange Shared/Confirm-ExchangeShell.ps1
  and HealthChecker's Invoke-JobOrganizationInformation.ps1 test
  "HKLM:\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\EdgeTransportRole"; Microsoft's Exchange 2013
  documentation, "Register Filter Pack IFilters with Exchange 2013", edits
  v15\\HubTransportRole, and a Microsoft support article on thumbnails v15\\MailboxRole).
  `MsiProductMajor`/`MsiProductMinor` are modelled (read by public scripts), never relied on.
Role key names: MailboxRole, ClientAccessRole, CafeRole (the 2013+ front end, reported as
"ClientAccess" too), HubTransportRole (setup's BridgeheadRole), EdgeTransportRole (setup's
GatewayRole), UnifiedMessagingRole, FrontendTransportRole, AdminTools (the management tools).
Setup's role names are those of CSS-Exchange's setup log sample (Setup/Tests/KnownIssues/
ExchangeSetup-PrepareSchema-8245.log); v15\\CafeRole and v15\\MailboxRole as a role test appear
in public third-party scripts; ClientAccessRole, FrontendTransportRole and AdminTools as key
names are unverified against Microsoft text. A role counts when its key exists, as the
HealthChecker tests EdgeTransportRole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from remediate.lab.fleet import Exchange, ExchangeRole, HostSpec

ValueKind = Literal["REG_SZ", "REG_DWORD"]


@dataclass(frozen=True)
class RegistryValue:
    kind: ValueKind
    data: str | int


# key path -> {value name -> value}; a key without values still exists (an empty dict).
Registry = dict[str, dict[str, RegistryValue]]

LEGACY_SETUP_KEY = "SOFTWARE\\Microsoft\\Exchange\\Setup"
SETUP_KEYS = {
    "2007": "SOFTWARE\\Microsoft\\Exchange\\Setup",
    "2010": "SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup",
    "2013": "SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup",
}
ROLE_PARENTS = {
    "2007": "SOFTWARE\\Microsoft\\Exchange\\v8.0",
    "2010": "SOFTWARE\\Microsoft\\ExchangeServer\\v14",
    "2013": "SOFTWARE\\Microsoft\\ExchangeServer\\v15",
}
# Role key -> the role the collector reports, in the order it reports them.
ROLE_KEYS: tuple[tuple[str, ExchangeRole], ...] = (
    ("MailboxRole", "Mailbox"),
    ("ClientAccessRole", "ClientAccess"),
    ("CafeRole", "ClientAccess"),
    ("HubTransportRole", "HubTransport"),
    ("EdgeTransportRole", "EdgeTransport"),
    ("UnifiedMessagingRole", "UnifiedMessaging"),
    ("FrontendTransportRole", "FrontendTransport"),
    ("AdminTools", "Management"),
)
ROLE_ORDER: tuple[ExchangeRole, ...] = (
    "Mailbox",
    "ClientAccess",
    "HubTransport",
    "EdgeTransport",
    "UnifiedMessaging",
    "FrontendTransport",
    "Management",
)


def role_keys(exchange: Exchange) -> list[str]:
    """The role keys setup leaves for the model's roles: ClientAccess is one key before 2013
    and two from 2013 on (the back end ClientAccessRole, the front end CafeRole)."""
    wanted = set(exchange.roles or ())
    keys = []
    for key, role in ROLE_KEYS:
        if role not in wanted:
            continue
        if key == "CafeRole" and exchange.line != "2013":
            continue
        if key == "FrontendTransportRole" and exchange.line != "2013":
            continue
        keys.append(key)
    return keys


def exchange_registry(spec: HostSpec) -> Registry:
    """The Exchange keys and values of a host's registry (native view, HKLM-relative)."""
    exchange = spec.exchange
    if exchange is None or not exchange.in_registry:
        return {}
    line = exchange.line
    root = exchange.install_root.rstrip("\\") + "\\"
    if line == "legacy":
        setup = {"Services": RegistryValue("REG_SZ", root)}
        if exchange.service_pack is not None:
            setup["ServicePackNumber"] = RegistryValue("REG_DWORD", exchange.service_pack)
        return {LEGACY_SETUP_KEY: setup}
    parts = [int(p) if p.isdigit() else 0 for p in exchange.build.split(".")] + [0, 0]
    registry: Registry = {
        SETUP_KEYS[line]: {
            "MsiInstallPath": RegistryValue("REG_SZ", root),
            "MsiProductMajor": RegistryValue("REG_DWORD", parts[0]),
            "MsiProductMinor": RegistryValue("REG_DWORD", parts[1]),
        }
    }
    for key in role_keys(exchange):
        registry[f"{ROLE_PARENTS[line]}\\{key}"] = {
            "ConfiguredVersion": RegistryValue("REG_SZ", exchange.build)
        }
    return registry


def subkeys(registry: Registry, parent: str) -> list[str]:
    """The names of the direct subkeys of `parent` (case kept, compared without case)."""
    prefix = parent.lower().rstrip("\\") + "\\"
    names: dict[str, str] = {}
    for path in registry:
        if path.lower().startswith(prefix):
            name = path[len(prefix) :].split("\\")[0]
            names.setdefault(name.lower(), name)
    return list(names.values())


def value(registry: Registry, key: str, name: str) -> RegistryValue | None:
    """One value, found without regard to case as Windows does."""
    for path, values in registry.items():
        if path.lower() == key.lower():
            for value_name, found in values.items():
                if value_name.lower() == name.lower():
                    return found
    return None
