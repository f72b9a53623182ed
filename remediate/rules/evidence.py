"""What the collector brought back from one host: facts, services, components, files, events.

Plain frozen dataclasses: the evaluator reads them, reports render them, the history stores
them. Every piece that could not be obtained is an `ItemError`, never a silent gap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class OsFacts:
    caption: str
    version: str
    build: int | None
    service_pack: int | None
    architecture: str
    hostname: str
    powershell_version: str | None
    time_utc: datetime | None
    timezone: str


@dataclass(frozen=True)
class ExchangeFacts:
    """The Exchange a host runs. `update` is the CU/SU (2013 on) or SP/RU (before) that
    `remediate.catalog.exchange_builds` names for the build, `released` its release date
    (YYYY-MM-DD); both are "" when the table does not know the build. `newer_than_table`: the
    build is later than every build the table knows of its CU/SP, so `update` is only the
    CU/SP (or "") and the table wants a refresh; a fact to report, not an error."""

    product: str
    version: str
    build: str
    service_pack: int | None
    install_root: str
    roles: tuple[str, ...] = ()
    update: str = ""
    released: str = ""
    newer_than_table: bool = False

    @property
    def display(self) -> str:
        """How people name it: "Exchange Server 2019 CU14 Nov24SU"."""
        product = self.product or "Exchange"
        update = self.update
        if not update and self.service_pack:
            update = f"SP{self.service_pack}"  # evidence from before the build table
        named = f"{product} {update}" if update else product
        if self.newer_than_table:
            return f"{named} build {self.build}, newer than the build table"
        return named

    @property
    def display_with_build(self) -> str:
        """`display` with the build, once: "Exchange Server 2019 CU14 (build 15.2.1544.4)"."""
        if self.newer_than_table or not self.build:
            return self.display
        return f"{self.display} (build {self.build})"


@dataclass(frozen=True)
class ServiceState:
    name: str
    found: bool
    state: str = ""
    start_mode: str = ""


@dataclass(frozen=True)
class ComponentState:
    name: str
    installed: bool | None
    mechanism: str = ""


@dataclass(frozen=True)
class FileEvidence:
    id: str
    path: str
    exists: bool
    version: str | None = None
    version_text: str | None = None
    size: int | None = None
    modified: datetime | None = None


@dataclass(frozen=True)
class EventSample:
    time: datetime
    type: str
    source: str
    event_id: int
    message: str
    data_hex: str = ""
    record: int | None = None


@dataclass(frozen=True)
class EventMatches:
    """Events matching one filter: how many in all, when, and the most recent samples."""

    filter_id: str
    total: int
    first: datetime | None
    last: datetime | None
    samples: tuple[EventSample, ...] = ()


@dataclass(frozen=True)
class ItemError:
    scope: str
    item: str
    message: str


@dataclass(frozen=True)
class Evidence:
    host: str
    engine: str
    os: OsFacts
    exchange: ExchangeFacts | None
    pending_reboot: bool
    pending_renames: tuple[str, ...] = ()
    services: tuple[ServiceState, ...] = ()
    components: tuple[ComponentState, ...] = ()
    files: tuple[FileEvidence, ...] = ()
    events: tuple[EventMatches, ...] = ()
    errors: tuple[ItemError, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    def file(self, file_id: str) -> FileEvidence | None:
        return next((f for f in self.files if f.id == file_id), None)

    def service(self, name: str) -> ServiceState | None:
        return next((s for s in self.services if s.name.lower() == name.lower()), None)

    def component(self, name: str) -> ComponentState | None:
        return next((c for c in self.components if c.name == name), None)

    def event_matches(self, filter_id: str) -> EventMatches | None:
        return next((e for e in self.events if e.filter_id == filter_id), None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
