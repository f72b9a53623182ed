"""The lab's answer to the collector script, computed from the host model.

It gives exactly what `collect.ps1` (or `collect.js`) would print on a real host built like
the model: the same facts, the same Windows spellings of states, the same event selection
(log, sources, IDs, since; newest first, at most `max` samples, with the total count).
Generated event logs are answered arithmetically, so a 100,000-record log costs no more than
the samples it returns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from remediate.lab.answers.execution import Execution
from remediate.lab.answers.win32 import SERVICE_STATES, START_MODES, system_root
from remediate.lab.features import server_feature_rows
from remediate.lab.fleet import EventGenerator, EventRecord, FileEntry, HostSpec
from remediate.lab.host import LabHost
from remediate.lab.registry import (
    LEGACY_SETUP_KEY,
    ROLE_KEYS,
    ROLE_ORDER,
    ROLE_PARENTS,
    SETUP_KEYS,
    exchange_registry,
    subkeys,
)
from remediate.lab.registry import value as registry_value
from remediate.probes.framing import format_output
from remediate.probes.protocol import DeclaredScript

EVENT_TYPES = {
    "error": "Error",
    "warning": "Warning",
    "information": "Information",
    "success_audit": "SuccessAudit",
    "failure_audit": "FailureAudit",
}

Records = list[tuple[str, dict[str, object]]]


def _utc(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime's %Y does not pad them; isoformat would
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    # isoformat is C and a fifth of strftime's cost, for the ~300 times an answer writes
    return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def _norm(path: str) -> str:
    return path.replace("/", "\\").lower()


def _join(root: str, relative: str) -> str:
    return root.rstrip("\\") + "\\" + relative.lstrip("\\")


def answer_collect(host: LabHost, declared: DeclaredScript) -> Execution:
    """Compute the collector's framed output for this host."""
    request = declared.arguments if isinstance(declared.arguments, dict) else {}
    engine = "wsh" if declared.dialect == "jscript" else "powershell"
    with host.lock:
        reads: list[EventLogRead] = []
        records = _records(
            host.spec, request, engine, datetime.now(UTC), reads, events_until=host.events_until
        )
        host.event_queries.extend(reads)
    return Execution(stdout=format_output("collect", records))


def _records(
    spec: HostSpec,
    request: dict[str, Any],
    engine: str,
    now: datetime,
    reads: list[EventLogRead] | None = None,
    events_until: datetime | None = None,
) -> Records:
    """The collector's records; generated events end at `events_until` (default `now`)."""
    records: Records = []
    os = spec.os
    for name, value in (
        ("engine", engine),
        ("hostname", spec.hostname),
        ("ps_version", os.powershell),
        ("time_utc", _utc(now)),
        ("timezone", os.timezone),
        ("os_arch", os.architecture),
        ("os_caption", os.caption),
        ("os_version", os.version),
        ("os_build", os.build),
        ("os_sp", os.service_pack),
    ):
        if value is not None:
            records.append(("fact", {"name": name, "value": value}))
    pending = [f.path for f in spec.files if f.pending_version is not None]
    records += [("pending_rename", {"path": path}) for path in pending]
    # Deletions name no destination: they make a reboot pending and are no pending_rename
    # (collect.ps1 Get-RenameTargets, collect.js renameTargets).
    reboot = "1" if pending or spec.pending_deletes or spec.pending_reboot else "0"
    records.append(("fact", {"name": "pending_reboot", "value": reboot}))
    facts = exchange_facts(spec)
    records += [("fact", {"name": name, "value": fact}) for name, fact in facts]
    records += _services(spec, request.get("services") or [])
    records += _components(spec, request.get("components") or [])
    records += _files(spec, request.get("files") or [])
    records += _events(
        spec, request.get("events") or [], events_until or now, _exchange_version(facts), reads
    )
    return records


# The services whose image path names the install folder when setup's key is gone
# (collect.ps1 Get-ExchangeRoot, collect.js findExchangeRoot).
EXCHANGE_SERVICES = ("msexchangeis", "msexchangesa", "msexchangemta")
EXSETUP = "Bin\\ExSetup.exe"
STORE = "bin\\store.exe"


def exchange_facts(spec: HostSpec) -> list[tuple[str, object]]:
    """The Exchange facts, read from the host's registry and files as the collector reads
    them: setup's key newest first (v15, v14, then 2007's Exchange\\Setup MsiInstallPath),
    5.5 to 2003's Exchange\\Setup Services, then a service's image path. Empty: no Exchange."""
    registry = exchange_registry(spec)
    files = model_files(spec)
    for line in ("2013", "2010", "2007"):
        found = registry_value(registry, SETUP_KEYS[line], "MsiInstallPath")
        if found is None or not str(found.data):
            continue
        root = str(found.data).rstrip("\\")
        build = _file_build(files, root, EXSETUP)
        if build is None and line != "2013":  # 2013 and later have no store.exe
            build = _file_build(files, root, STORE)
        present = {key.lower() for key in subkeys(registry, ROLE_PARENTS[line])}
        roles = {role for key, role in ROLE_KEYS if key.lower() in present}
        return [
            ("exchange_root", root),
            ("exchange_setup_key", "HKLM\\" + SETUP_KEYS[line]),
            ("exchange_build", build),
            ("exchange_roles", ",".join(r for r in ROLE_ORDER if r in roles)),
        ]
    services = registry_value(registry, LEGACY_SETUP_KEY, "Services")
    facts: list[tuple[str, object]] = []
    if services is not None and str(services.data):
        facts += [
            ("exchange_root", str(services.data).rstrip("\\")),
            ("exchange_setup_key", "HKLM\\" + LEGACY_SETUP_KEY),
        ]
    elif spec.exchange is not None and any(
        s.name.lower() in EXCHANGE_SERVICES for s in spec.services
    ):
        facts.append(("exchange_root", spec.exchange.install_root.rstrip("\\")))
    else:
        return []
    root = str(facts[0][1])
    facts.append(("exchange_build", _file_build(files, root, STORE)))
    sp = registry_value(registry, LEGACY_SETUP_KEY, "ServicePackNumber")
    if sp is not None:
        facts.append(("exchange_sp", sp.data))
    return facts


def _file_build(files: dict[str, FileEntry], root: str, relative: str) -> str | None:
    entry = files.get(_norm(_join(root, relative)))
    if entry is None or not entry.version:
        return None
    return numeric_version(entry.version)


def _exchange_version(facts: list[tuple[str, object]]) -> str | None:
    """The host's Exchange "major.minor" as the collector reads it (from the build it found);
    None without Exchange, "" when the version cannot be read."""
    if not facts:
        return None
    build = str(dict(facts).get("exchange_build") or "")
    parts = build.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else ""


def _services(spec: HostSpec, names: list[Any]) -> Records:
    by_name = {s.name.lower(): s for s in spec.services}
    records: Records = []
    for name in names:
        service = by_name.get(str(name).lower())
        if service is None:
            records.append(("service", {"name": name, "found": "0"}))
        else:
            records.append(
                (
                    "service",
                    {
                        "name": name,
                        "found": "1",
                        "state": SERVICE_STATES[service.state],
                        "start_mode": START_MODES[service.start_mode],
                    },
                )
            )
    return records


def _components(spec: HostSpec, components: list[Any]) -> Records:
    """OC Manager subcomponents below Windows 6.0, server features from 6.0 on.

    From 6.0 on the answer is read from the host's Win32_ServerFeature instances as the
    request names the feature: by `feature_id` (language neutral) or, for a request that
    names it by display name (`feature`, what collect v1 sent before issue 13), by the
    localised Name, which matches only on a host installed in that language."""
    major = int(spec.os.version.split(".")[0]) if spec.os.version.split(".")[0].isdigit() else 5
    modern = major >= 6
    installed_names = {name.lower() for name, on in spec.components.items() if on}
    rows = server_feature_rows(spec.components, spec.os.language) if modern else []
    feature_ids = {int(str(row["ID"])) for row in rows}
    feature_names = {str(row["Name"]).lower() for row in rows}
    records: Records = []
    for component in components:
        if not isinstance(component, dict):
            continue
        if not modern:
            key = str(component.get("oc") or "").lower()
            installed = bool(key) and key in installed_names
        elif "feature_id" in component:
            wanted = component.get("feature_id")
            installed = isinstance(wanted, int) and wanted > 0 and wanted in feature_ids
        else:
            installed = str(component.get("feature") or "").lower() in feature_names
        records.append(
            (
                "component",
                {
                    "name": component.get("name"),
                    "installed": "1" if installed else "0",
                    "mechanism": "server_feature" if modern else "oc_manager",
                },
            )
        )
    return records


def numeric_version(text: str) -> str | None:
    """The four numeric parts FileVersionInfo reports for a version string (missing = 0)."""
    match = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?", text)
    if match is None:
        return None
    return ".".join(str(int(part or 0)) for part in match.groups())


def _resolve(spec: HostSpec, query: dict[str, Any]) -> str | None:
    root, path = str(query.get("root", "absolute")), str(query.get("path", ""))
    if root == "exchange":
        return _join(spec.exchange.install_root, path) if spec.exchange else None
    if root == "system32":
        return _join(system_root(spec) + "\\system32", path)
    if root == "windows":
        return _join(system_root(spec), path)
    return path


def file_version_text(build: str) -> str:
    """A build in the long format of Exchange's file versions: 15.2.986.5 -> "15.02.0986.005"
    (CSS-Exchange HealthChecker test data E19/Exchange/ExSetup.xml: FileVersion
    "15.02.0986.005", FileVersionRaw 15.2.986.5; "Exchange Server build numbers and release
    dates", long format column: "8.03.0517.000", "14.03.0513.000")."""
    parts = [int(p) if p.isdigit() else 0 for p in build.split(".")][:4]
    parts += [0] * (4 - len(parts))
    return f"{parts[0]}.{parts[1]:02d}.{parts[2]:04d}.{parts[3]:03d}"


def model_files(spec: HostSpec) -> dict[str, FileEntry]:
    """The host's files by lower-case path, with the Exchange binaries the build is read from
    unless the model lists them: bin\\store.exe for 5.5 to 2010, Bin\\ExSetup.exe from 2007
    on. 2013 and later have no store.exe (the store runs as Microsoft.Exchange.Store.Worker),
    so a script that looks for it there finds nothing."""
    files = {_norm(f.path): f for f in spec.files}
    exchange = spec.exchange
    if exchange is None:
        return files
    if exchange.line == "legacy":
        store = _join(exchange.install_root, STORE)
        files.setdefault(_norm(store), FileEntry(path=store, version=exchange.build))
        return files
    text = file_version_text(exchange.build)
    names = [EXSETUP] if exchange.line == "2013" else [EXSETUP, "Bin\\store.exe"]
    for name in names:
        path = _join(exchange.install_root, name)
        files.setdefault(_norm(path), FileEntry(path=path, version=text, size=30_000))
    return files


def _files(spec: HostSpec, queries: list[Any]) -> Records:
    by_path = model_files(spec)
    records: Records = []
    for query in queries:
        if not isinstance(query, dict):
            continue
        path = _resolve(spec, query)
        if path is None:
            records.append(
                (
                    "error",
                    {
                        "scope": "file",
                        "item": query.get("id"),
                        "message": "the Exchange install folder was not found",
                    },
                )
            )
            continue
        entry = by_path.get(_norm(path))
        if entry is None:
            records.append(("file", {"id": query.get("id"), "path": path, "exists": "0"}))
            continue
        numeric = None
        if entry.version:
            numeric = numeric_version(entry.version)
        records.append(
            (
                "file",
                {
                    "id": query.get("id"),
                    "path": path,
                    "exists": "1",
                    "version": numeric,
                    "version_text": entry.version,
                    "size": entry.size,
                    "modified": _utc(entry.modified),
                },
            )
        )
    return records


@dataclass(frozen=True)
class _Filter:
    log: str
    sources: frozenset[str]
    ids: frozenset[int]
    since: datetime | None

    def matches_kind(self, log: str, source: str, event_id: int) -> bool:
        return (
            log.lower() == self.log
            and (not self.sources or source.lower() in self.sources)
            and (not self.ids or event_id in self.ids)
        )


def _filter(query: dict[str, Any]) -> _Filter:
    since_text = str(query.get("since") or "")
    since = datetime.fromisoformat(since_text.replace("Z", "+00:00")) if since_text else None
    return _Filter(
        log=str(query.get("log", "")).lower(),
        sources=frozenset(str(s).lower() for s in query.get("sources") or []),
        ids=frozenset(int(i) for i in query.get("ids") or []),
        since=since,
    )


def _generated_window(generator: EventGenerator, since: datetime | None, now: datetime) -> range:
    """Indices of a generator's records at or after `since` (0 = oldest)."""
    if generator.count == 0:
        return range(0)
    end = generator.end or now
    if since is None:
        return range(generator.count)
    back = (end - since).total_seconds()
    if back < 0:
        return range(0)
    newest_steps = math.floor(back / generator.every_seconds)
    return range(max(0, generator.count - 1 - newest_steps), generator.count)


@dataclass(frozen=True)
class EventLogRead:
    """One pass over one event log, as the collector makes it (one per log per audit): the
    filters it serves, its time bound, and its cost in the lab, the records at or after the
    bound (the whole log when unbounded) and the records it hands back (any filter's kind).
    """

    log: str
    since: datetime | None
    filters: tuple[str, ...]
    scanned: int
    returned: int


def applies(query: dict[str, Any], exchange_version: str | None) -> bool:
    """Whether the collector reads events for this filter on a host with this Exchange
    ("6.5"; None: no Exchange; "": not readable, so read rather than miss): its playbook's
    versions, or any host when the filter names none. collect.ps1 and collect.js decide alike.
    """
    wanted = [str(v) for v in query.get("exchange") or []]
    if not wanted or exchange_version == "":
        return True
    return exchange_version in wanted


def _log_records(spec: HostSpec, log: str, since: datetime | None, now: datetime) -> int:
    """How many records of a log are at or after `since` (all of them when None)."""
    total = sum(
        1
        for r in spec.event_logs.records
        if r.log.lower() == log and (since is None or r.when >= since)
    )
    for generator in spec.event_logs.generators:
        if generator.log.lower() == log:
            total += len(_generated_window(generator, since, now))
    return total


def _events(
    spec: HostSpec,
    queries: list[Any],
    now: datetime,
    exchange_version: str | None = "",
    reads: list[EventLogRead] | None = None,
) -> Records:
    wanted = [
        (query, _filter(query))
        for query in queries
        if isinstance(query, dict) and applies(query, exchange_version)
    ]
    # One pass per log, bounded by the earliest `since` of its filters (none if one has none).
    logs: dict[str, list[tuple[dict[str, Any], _Filter]]] = {}
    for query, kind in wanted:
        logs.setdefault(kind.log, []).append((query, kind))
    for log, of_log in logs.items():
        filters = [kind for _, kind in of_log]
        bounds = [f.since for f in filters]
        since = None if None in bounds else min(b for b in bounds if b is not None)
        ids = tuple(str(query.get("id")) for query, _ in of_log)
        returned = _matching(spec, filters, since, now)
        scanned = _log_records(spec, log, since, now)
        if reads is not None:
            reads.append(EventLogRead(log, since, ids, scanned, returned))
    records: Records = []
    for query, kind in wanted:
        records += _filter_records(spec, query, kind, now)
    return records


def _matching(spec: HostSpec, filters: list[_Filter], since: datetime | None, now: datetime) -> int:
    """Records at or after `since` that any of the filters selects by log, source and ID."""

    def kind(log: str, source: str, event_id: int) -> bool:
        return any(f.matches_kind(log, source, event_id) for f in filters)

    total = sum(
        1
        for r in spec.event_logs.records
        if kind(r.log, r.source, r.event_id) and (since is None or r.when >= since)
    )
    for generator in spec.event_logs.generators:
        if kind(generator.log, generator.source, generator.event_id):
            total += len(_generated_window(generator, since, now))
    return total


def _filter_records(
    spec: HostSpec, query: dict[str, Any], wanted: _Filter, now: datetime
) -> Records:
    """The summary and the newest samples of one filter (its own `since`).

    A candidate is (time, record number, what it says): a generated record says what its
    generator says, so no record object is built for it (some 60 an answer were).
    """
    records: Records = []
    limit = int(query.get("max", 20))
    candidates: list[tuple[datetime, int, EventRecord | EventGenerator]] = [
        (record.when, index + 1, record)
        for index, record in enumerate(spec.event_logs.records)
        if wanted.matches_kind(record.log, record.source, record.event_id)
        and (wanted.since is None or record.when >= wanted.since)
    ]
    total = len(candidates)
    times = [when for when, _, _ in candidates]
    offset = len(spec.event_logs.records)
    for generator in spec.event_logs.generators:
        if wanted.matches_kind(generator.log, generator.source, generator.event_id):
            window = _generated_window(generator, wanted.since, now)
            if window:
                total += len(window)
                times += [generator.time_at(window[0], now), generator.time_at(window[-1], now)]
                candidates += [
                    (generator.time_at(i, now), offset + i + 1, generator)
                    for i in _newest(window, limit)
                ]
        offset += generator.count
    summary: dict[str, object] = {"id": query.get("id"), "total": total}
    if times:
        summary["first"], summary["last"] = _utc(min(times)), _utc(max(times))
    records.append(("events", summary))
    candidates.sort(key=lambda item: (item[0], item[1]), reverse=True)
    records += [
        _event_record(query.get("id"), number, when, event)
        for when, number, event in candidates[:limit]
    ]
    return records


def _newest(window: range, limit: int) -> Iterator[int]:
    return iter(window[-limit:]) if limit > 0 else iter(())


def _event_record(
    filter_id: object, number: int, when: datetime, event: EventRecord | EventGenerator
) -> tuple[str, dict[str, object]]:
    return (
        "event",
        {
            "filter": filter_id,
            "time": _utc(when),
            "type": EVENT_TYPES[event.type],
            "source": event.source,
            "event_id": event.event_id,
            "message": event.message,
            "data": event.data or "",
            "record": number,
        },
    )
