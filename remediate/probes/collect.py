"""The collector: one script per host per audit that brings back every piece of evidence.

`CollectRequest` is the request's shape (services, components, files, event filters; what the
selected playbooks need is decided in `remediate.audit.request`); `build_collect_script` turns
it into the PowerShell or JScript text to send (assembled by `remediate.probes.assemble`, the
request appended as one base64 JSON document); `parse_evidence` validates the framed output
and turns it into `Evidence`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal

from remediate.catalog import exchange_builds
from remediate.probes.assemble import build_script
from remediate.probes.framing import OutputFormatError, Record, parse_output
from remediate.rules.evidence import (
    ComponentState,
    EventMatches,
    EventSample,
    Evidence,
    ExchangeFacts,
    FileEvidence,
    ItemError,
    OsFacts,
    ServiceState,
)
from remediate.transport import Dialect

SCRIPT_NAME = "collect"
SCRIPT_VERSION = 1
FileRoot = Literal["exchange", "system32", "windows", "absolute"]


@dataclass(frozen=True)
class FileQuery:
    id: str
    root: FileRoot
    path: str


@dataclass(frozen=True)
class ComponentQuery:
    """A logical component as each mechanism knows it: its OC Manager subcomponent (Windows
    5.x) and its Win32_ServerFeature ID (6.x). The ID, not the Name, because Name is the
    localised display name (see `remediate.catalog.components`); 0 names no feature."""

    name: str
    oc: str = ""
    feature_id: int = 0


@dataclass(frozen=True)
class EventQuery:
    """One event filter. `exchange`: the Exchange versions ("6.5") of the playbook it serves;
    the script skips the filter on a host whose Exchange is none of them (or absent), so a
    host outside the playbook's applicability is never asked for these events. Empty: any host.
    Event IDs are the low 16 bits of the event identifier, as the Event Viewer shows them."""

    id: str
    log: str
    sources: tuple[str, ...] = ()
    event_ids: tuple[int, ...] = ()
    since: datetime | None = None
    max_samples: int = 20
    exchange: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollectRequest:
    services: tuple[str, ...] = ()
    components: tuple[ComponentQuery, ...] = ()
    files: tuple[FileQuery, ...] = ()
    events: tuple[EventQuery, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def arguments(self) -> dict[str, object]:
        """The JSON document the script receives (the lab reads the same document)."""
        return {
            "v": SCRIPT_VERSION,
            "services": list(self.services),
            "components": [asdict(c) for c in self.components],
            "files": [asdict(f) for f in self.files],
            "events": [
                {
                    "id": e.id,
                    "log": e.log,
                    "sources": list(e.sources),
                    "ids": list(e.event_ids),
                    "since": _iso(e.since) if e.since else "",
                    "max": e.max_samples,
                    "exchange": list(e.exchange),
                }
                for e in self.events
            ],
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_SCRIPTS: dict[tuple[int, Dialect], tuple[CollectRequest, str]] = {}


def build_collect_script(request: CollectRequest, dialect: Dialect) -> str:
    """The collector as sent: `collect.ps1` or `collect.js` with the request's document.

    An audit sends every host the same request: its script is made once per dialect (the
    document's `asdict` and encoding were a tenth of a host's CPU). The cache holds the
    request itself, so that its id cannot name another request while it is cached.
    """
    key = (id(request), dialect)
    cached = _SCRIPTS.get(key)
    if cached is not None and cached[0] is request:
        return cached[1]
    script = build_script(SCRIPT_NAME, SCRIPT_VERSION, dialect, request.arguments())
    if len(_SCRIPTS) >= 8:
        _SCRIPTS.clear()
    _SCRIPTS[key] = (request, script)
    return script


# -- parsing ---------------------------------------------------------------------------------


_DIGITS = re.compile(r"\d+")
_BUILD_PART = re.compile(r"\d{1,9}")


def _int(record: Record, key: str) -> int | None:
    value = record.get(key)
    if value == "":
        return None
    # what the pattern -?\d+ took, without a regular expression: \d is str.isdecimal
    if not value.removeprefix("-").isdecimal():
        raise OutputFormatError(f"{key} is not a number: {value[:40]!r}")
    return int(value)


def _time(record: Record, key: str) -> datetime | None:
    value = record.get(key)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OutputFormatError(f"{key} is not a time: {value[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _flag(record: Record, key: str) -> bool:
    return record.get(key) == "1"


def parse_evidence(host: str, stdout: bytes) -> Evidence:
    """Validate the collector's output and build the host's Evidence."""
    records = parse_output(stdout, SCRIPT_NAME)
    facts: dict[str, str] = {}
    renames: list[str] = []
    services: list[ServiceState] = []
    components: list[ComponentState] = []
    files: list[FileEvidence] = []
    summaries: dict[str, Record] = {}
    samples: dict[str, list[EventSample]] = {}
    errors: list[ItemError] = []
    for index, record in enumerate(records, start=1):
        # The record is named only when it is bad, not formatted for each of ~70 good ones.
        try:
            if record.kind == "fact":
                facts[record.get("name")] = record.get("value")
            elif record.kind == "pending_rename":
                renames.append(record.get("path"))
            elif record.kind == "service":
                services.append(
                    ServiceState(
                        record.get("name"),
                        _flag(record, "found"),
                        record.get("state"),
                        record.get("start_mode"),
                    )
                )
            elif record.kind == "component":
                installed = record.get("installed")
                components.append(
                    ComponentState(
                        record.get("name"),
                        None if installed == "" else installed == "1",
                        record.get("mechanism"),
                    )
                )
            elif record.kind == "file":
                files.append(
                    FileEvidence(
                        id=record.get("id"),
                        path=record.get("path"),
                        exists=_flag(record, "exists"),
                        version=record.get("version") or None,
                        version_text=record.get("version_text") or None,
                        size=_int(record, "size"),
                        modified=_time(record, "modified"),
                    )
                )
            elif record.kind == "events":
                summaries[record.get("id")] = record
            elif record.kind == "event":
                time = _time(record, "time")
                event_id = _int(record, "event_id")
                if time is None or event_id is None:
                    raise OutputFormatError("an event needs a time and an event_id")
                samples.setdefault(record.get("filter"), []).append(
                    EventSample(
                        time=time,
                        type=record.get("type"),
                        source=record.get("source"),
                        event_id=event_id,
                        message=record.get("message"),
                        data_hex=record.get("data"),
                        record=_int(record, "record"),
                    )
                )
            elif record.kind == "error":
                errors.append(
                    ItemError(record.get("scope"), record.get("item"), record.get("message"))
                )
            else:
                raise OutputFormatError("unknown record kind")
        except OutputFormatError as exc:
            raise OutputFormatError(f"record {index} ({record.kind}): {exc}") from None
    events = tuple(
        _matches(filter_id, summary, samples.get(filter_id, []))
        for filter_id, summary in summaries.items()
    )
    return Evidence(
        host=host,
        engine=facts.get("engine", ""),
        os=_os_facts(facts),
        exchange=_exchange_facts(facts),
        pending_reboot=facts.get("pending_reboot") == "1",
        pending_renames=tuple(renames),
        services=tuple(services),
        components=tuple(components),
        files=tuple(files),
        events=events,
        errors=tuple(errors),
    )


def _matches(filter_id: str, summary: Record, samples: list[EventSample]) -> EventMatches:
    try:
        return EventMatches(
            filter_id=filter_id,
            total=_int(summary, "total") or 0,
            first=_time(summary, "first"),
            last=_time(summary, "last"),
            samples=tuple(sorted(samples, key=lambda s: s.time, reverse=True)),
        )
    except OutputFormatError as exc:
        raise OutputFormatError(f"events {filter_id}: {exc}") from None


def _number(facts: dict[str, str], key: str) -> int | None:
    value = facts.get(key, "")
    return int(value) if _DIGITS.fullmatch(value) else None


def _os_facts(facts: dict[str, str]) -> OsFacts:
    time_text = facts.get("time_utc", "")
    try:
        moment = datetime.fromisoformat(time_text.replace("Z", "+00:00")) if time_text else None
    except ValueError:
        moment = None
    return OsFacts(
        caption=facts.get("os_caption", ""),
        version=facts.get("os_version", ""),
        build=_number(facts, "os_build"),
        service_pack=_number(facts, "os_sp"),
        architecture=facts.get("os_arch", ""),
        hostname=facts.get("hostname", ""),
        powershell_version=facts.get("ps_version") or None,
        time_utc=moment,
        timezone=facts.get("timezone", ""),
    )


# Exchange 5.5-2003: named here, service packs by first build (their store.exe builds). From
# 2007 on, `remediate.catalog.exchange_builds` names product, CU/SU or SP/RU and release date.
EXCHANGE_PRODUCTS = {
    "5.5": "Microsoft Exchange Server 5.5",
    "6.0": "Microsoft Exchange 2000 Server",
    "6.5": "Microsoft Exchange Server 2003",
}
# First build of each service pack (index = service pack number), per product version.
SERVICE_PACK_BUILDS = {
    "5.5": (1960, 2232, 2448, 2650, 2653),
    "6.0": (4417, 4712, 5762, 6249),
    "6.5": (6944, 7226, 7638),
}
# Server roles as the collector scripts report them (`exchange_roles`, comma separated), in
# this spelling whatever the case the script used; a name not listed here is kept as written.
EXCHANGE_ROLES = (
    "Mailbox",
    "ClientAccess",
    "HubTransport",
    "EdgeTransport",
    "UnifiedMessaging",
    "FrontendTransport",
    "Management",
)
_ROLE_SPELLING = {role.casefold(): role for role in EXCHANGE_ROLES}


def service_pack_of(version: str, build: int) -> int | None:
    """The service pack a build belongs to (hotfix builds count as their service pack)."""
    firsts = SERVICE_PACK_BUILDS.get(version)
    if not firsts or build < firsts[0]:
        return None
    return max(index for index, first in enumerate(firsts) if build >= first)


def parse_roles(text: str) -> tuple[str, ...]:
    """Roles from `exchange_roles`: known ones in their usual spelling, each once, in the order
    given ("Mailbox, clientaccess,,Mailbox" -> ("Mailbox", "ClientAccess"))."""
    roles: list[str] = []
    for item in text.split(","):
        name = item.strip()
        role = _ROLE_SPELLING.get(name.casefold(), name)
        if role and role not in roles:
            roles.append(role)
    return tuple(roles)


def _exchange_facts(facts: dict[str, str]) -> ExchangeFacts | None:
    build = facts.get("exchange_build", "").strip()
    root = facts.get("exchange_root", "")
    if not root and not build:
        return None
    parts = build.split(".")
    numeric = len(parts) >= 2 and all(_BUILD_PART.fullmatch(part) for part in parts)
    if numeric:
        parts = [str(int(part)) for part in parts]  # ExSetup's "15.02.1544.014" -> 15.2.1544.14
        build = ".".join(parts)
    version = ".".join(parts[:2]) if len(parts) >= 2 else ""
    service_pack = _number(facts, "exchange_sp")
    roles = parse_roles(facts.get("exchange_roles", ""))
    if not numeric or version in SERVICE_PACK_BUILDS:
        return _legacy_exchange(build, version, service_pack, root, roles)
    match = exchange_builds.lookup(build)
    major, minor = int(parts[0]), int(parts[1])
    if service_pack is None and major in (8, 14):
        service_pack = minor  # 2007 and 2010: 8.3 / 14.3 is SP3
    return ExchangeFacts(
        product=match.product or f"Microsoft Exchange Server {version}",
        version=version,
        build=build,
        service_pack=service_pack,
        install_root=root,
        roles=roles,
        update=match.update,
        released=match.released.isoformat() if match.released else "",
        newer_than_table=match.newer_than_table,
    )


def _legacy_exchange(
    build: str, version: str, service_pack: int | None, root: str, roles: tuple[str, ...]
) -> ExchangeFacts:
    """5.5, 2000 and 2003 (and a build that cannot be read): service packs by first build."""
    parts = build.split(".")
    if service_pack is None and len(parts) >= 3 and parts[2].isdigit():
        service_pack = service_pack_of(version, int(parts[2]))
    update = released = ""
    line = exchange_builds.product_of(version) if version in SERVICE_PACK_BUILDS else ""
    if line and service_pack is not None:
        update = f"SP{service_pack}" if service_pack else "RTM"
        row = exchange_builds.default_table().named(line, update)
        released = row.released.isoformat() if row else ""
    return ExchangeFacts(
        product=EXCHANGE_PRODUCTS.get(version, f"Microsoft Exchange Server {version}".strip()),
        version=version,
        build=build,
        service_pack=service_pack,
        install_root=root,
        roles=roles,
        update=update,
        released=released,
    )
