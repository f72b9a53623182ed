"""Playbooks: one YAML file per Knowledge Base article, validated precisely (no I/O here
beyond reading the files asked for, and the packaged Exchange build table).

A playbook says which hosts the article applies to (`applies_to`), what its symptoms look
like (`symptoms`: named selections over event records and service/component states,
combined by a Sigma-like `condition`), what fixes it (`fix`: the service pack that first
corrected it, a table of files and their fixed versions, states that must hold), and how to
remediate it (`remediation`: steps, planned and applied by `remediate.remediation`).

Current Exchange is named as people name it: a product line ("Exchange Server 2019", which
tells 2019 from SE where both are 15.2) and its CU/SU updates ("CU14 Nov24SU"), resolved to
builds on load through `remediate.catalog.exchange_builds`, so that a mistyped name fails
`playbook lint` with its file and line instead of an audit deciding on nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PureWindowsPath
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from remediate.catalog import exchange_builds
from remediate.catalog.components import COMPONENTS
from remediate.catalog.exchange_builds import (
    EXCHANGE_55,
    EXCHANGE_2000,
    EXCHANGE_2003,
    EXCHANGE_2007,
    EXCHANGE_2010,
    EXCHANGE_2013,
    EXCHANGE_2016,
    EXCHANGE_2019,
    EXCHANGE_SE,
    PRODUCTS,
)
from remediate.errors import InputError
from remediate.rules.condition import Condition, ConditionError, parse_condition
from remediate.rules.versions import FileVersion, VersionError
from remediate.yamlfile import YamlInputError, load_located, read_utf8

Severity = Literal["informational", "low", "medium", "high", "critical"]
ServiceStateName = Literal["running", "stopped", "start_pending", "stop_pending", "paused"]
Platform = Literal["intel", "alpha"]
PLATFORM_ARCHITECTURES = {"intel": ("x86", "x64", "ia64"), "alpha": ("alpha",)}
_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `1h`, `7d`, `2w` as a timedelta (ValueError otherwise)."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 15m, 1h or 7d")
    try:
        return timedelta(seconds=int(match.group(1)) * _SECONDS[match.group(2)])
    except (OverflowError, ValueError):  # past timedelta.max, or more digits than int() reads
        raise ValueError(
            f"{text[:40]!r} is longer than a duration can be (at most {timedelta.max.days}d)"
        ) from None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PathError(ValueError):
    """A check that knows which part below the validated one is wrong (the error names its
    YAML path and line, as pydantic's own errors do)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def _version_text(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        FileVersion.parse(str(value))
    except VersionError as exc:
        raise ValueError(str(exc)) from None
    return str(value)


# -- product lines, builds and updates ------------------------------------------------------

# The versions (major.minor) the collector reports for each product line: 2007 and 2010 carry
# the service pack in the minor (8.3 is 2007 SP3, 14.3 is 2010 SP3); 2019 and SE share 15.2 and
# differ by build (Microsoft, "Exchange Server build numbers and release dates").
LINE_VERSIONS: dict[str, tuple[str, ...]] = {
    EXCHANGE_55: ("5.5",),
    EXCHANGE_2000: ("6.0",),
    EXCHANGE_2003: ("6.5",),
    EXCHANGE_2007: ("8.0", "8.1", "8.2", "8.3"),
    EXCHANGE_2010: ("14.0", "14.1", "14.2", "14.3"),
    EXCHANGE_2013: ("15.0",),
    EXCHANGE_2016: ("15.1",),
    EXCHANGE_2019: ("15.2",),
    EXCHANGE_SE: ("15.2",),
}
_KNOWN_VERSIONS = tuple(dict.fromkeys(v for versions in LINE_VERSIONS.values() for v in versions))
_BUILD_TEXT = re.compile(r"\d{1,5}(?:\.\d{1,5}){2,3}")
_MAJOR_MINOR = re.compile(r"\d+\.\d+")


def product_line(name: str) -> str | None:
    """The product line a name stands for, spelled as the build table spells it, whatever the
    case and with or without "Microsoft " ("microsoft exchange server 2019" ->
    "Exchange Server 2019"); None for any other name."""
    wanted = " ".join(name.split()).casefold().removeprefix("microsoft ")
    return next((line for line in PRODUCTS if line.casefold() == wanted), None)


def _line_names() -> str:
    return ", ".join(PRODUCTS)


def _major_minor(value: object) -> str:
    text = str(value)
    if not _MAJOR_MINOR.fullmatch(text):
        raise ValueError(f"version {text!r} must be major.minor, such as 5.5, 6.5 or 15.2")
    return text


class NamedBuild(_Model):
    """An update as a playbook names it, resolved on load through the build table: the product
    line, the update's name ("CU14 Nov24SU"; "" for a build the table does not name) and its
    first build, the minimum a server needs to have the update."""

    product: str
    name: str
    build: str

    @property
    def version(self) -> FileVersion:
        return FileVersion.parse(self.build)

    @property
    def label(self) -> str:
        """ "Exchange Server 2019 CU14 Nov24SU (15.2.1544.13)", or "... build 15.2.1544.13"."""
        if self.name:
            return f"{self.product} {self.name} ({self.build})"
        return f"{self.product} build {self.build}"


def resolve_update(product: str, text: str) -> NamedBuild:
    """A CU/SU (or SP/RU) name or a build of `product`, as a NamedBuild; ValueError naming
    what is wrong (an unknown name lists the names the table has for that CU)."""
    written = " ".join(str(text).split())
    if _BUILD_TEXT.fullmatch(written):
        try:
            FileVersion.parse(written)
        except VersionError as exc:
            raise ValueError(str(exc)) from None
        owner = exchange_builds.product_of(written)
        if not owner:
            raise ValueError(f"{written} is not a build of any Exchange product line")
        if owner != product:
            raise ValueError(f"{written} is an {owner} build, not {product}")
        match = exchange_builds.lookup(written)
        name = match.row.name if match.exact and match.row else ""
        return NamedBuild(product=product, name=name, build=match.build)
    row = exchange_builds.default_table().named(product, written) if written else None
    if row is None:
        raise ValueError(
            f"{product} has no update named {written[:60]!r} in the build table "
            f"(remediate/catalog/{exchange_builds.DATA_FILE}){_known_names(product, written)}; "
            "a build number such as 15.2.1544.13 is accepted too"
        )
    return NamedBuild(product=product, name=row.name, build=row.build)


def _known_names(product: str, written: str) -> str:
    """A hint: the table's names for the CU/SP the text starts with, else the CUs/SPs."""
    rows = [r for r in exchange_builds.default_table().rows if r.product == product]
    first = written.split()[0].casefold() if written.split() else ""
    same = [r.name for r in rows if r.name.split()[0].casefold() == first]
    if same:
        return f"; {first.upper()} has {', '.join(same[-8:])}"
    bases = list(dict.fromkeys(r.name.split()[0] for r in rows))
    return f"; its updates start with {', '.join(bases[-8:])}" if bases else ""


def _updates_of(product: str, value: object) -> tuple[NamedBuild, ...]:
    """One name/build or a list of them, each resolved; duplicates refused."""
    items = [value] if isinstance(value, str | int | float) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError("give a CU/SU name or build, or a list of them")
    resolved: list[NamedBuild] = []
    for item in items:
        if isinstance(item, NamedBuild):
            update = item
        elif isinstance(item, str):
            update = resolve_update(product, item)
        else:
            raise ValueError(f"{item!r} is not a CU/SU name or a build")
        if any(u.build == update.build for u in resolved):
            raise ValueError(f"{update.label} is named twice")
        resolved.append(update)
    return tuple(resolved)


class ProductRange(_Model):
    """An Exchange version or product line, optionally bounded by service pack, build or update.

    `product` is "exchange" (any server of `version`) or a product line ("Exchange Server
    2019"), which tells 2019 from SE where both are 15.2 and gives `version` when the line has
    one. `min_update` names updates of the line (a CU/SU name or a build, or one per CU): the
    range starts at them, CU by CU, as `fixed_in` does (see `versions.has_update`).
    """

    product: str = "exchange"
    version: str = Field(description="major.minor: 5.5, 6.0 (2000), 6.5 (2003), 15.2 (2019, SE)")
    min_sp: int | None = Field(default=None, ge=0)
    max_sp: int | None = Field(default=None, ge=0)
    min_build: str | None = None
    max_build: str | None = None
    min_update: tuple[NamedBuild, ...] = ()

    _check_builds = field_validator("min_build", "max_build")(_version_text)

    @model_validator(mode="before")
    @classmethod
    def _version_of_line(cls, data: object) -> object:
        """A product line with one version gives it; a line with several needs it written."""
        if not isinstance(data, dict) or not isinstance(data.get("product"), str):
            return data
        line = product_line(data["product"])
        if line is None:
            return data
        data = {**data, "product": line}
        if data.get("version") is None:
            versions = LINE_VERSIONS[line]
            if len(versions) > 1:
                raise ValueError(
                    f"{line} is version {versions[0]} to {versions[-1]} (the minor is the "
                    "service pack): give version"
                )
            data["version"] = versions[0]
        return data

    @field_validator("product")
    @classmethod
    def _product(cls, value: str) -> str:
        if value.casefold() == "exchange":
            return "exchange"
        line = product_line(value)
        if line is None:
            raise ValueError(f"product {value[:60]!r}: use exchange or one of {_line_names()}")
        return line

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> str:
        return _major_minor(value)

    @field_validator("min_update", mode="before")
    @classmethod
    def _updates(cls, value: object, info: ValidationInfo) -> tuple[NamedBuild, ...]:
        line = info.data.get("product")
        if line is None:
            raise ValueError("min_update needs a valid product")
        if line == "exchange":
            raise ValueError(
                "min_update names updates of a product line: give product, such as "
                f"Exchange Server 2019 (one of {_line_names()})"
            )
        updates = _updates_of(line, value)
        version = info.data.get("version")
        for update in updates:
            if version and not update.build.startswith(f"{version}."):
                raise ValueError(f"{update.label} is not version {version}")
        return updates

    @model_validator(mode="after")
    def _line_has_version(self) -> ProductRange:
        line = self.line
        if line is not None and self.version not in LINE_VERSIONS[line]:
            raise ValueError(
                f"{line} is version {' or '.join(LINE_VERSIONS[line])}, not {self.version}"
            )
        return self

    @property
    def line(self) -> str | None:
        """The product line, or None when the range is any Exchange of `version`."""
        return None if self.product == "exchange" else self.product

    def describe(self) -> str:
        """ "Exchange Server 2019 from CU10 Mar22SU, CU11 Mar22SU or CU12", "Exchange 5.5 SP3"."""
        text = self.line or f"Exchange {self.version}"
        if self.min_sp is not None and self.min_sp == self.max_sp:
            return f"{text} SP{self.min_sp}"
        if self.min_sp is not None:
            text += f" SP{self.min_sp} or later"
        if self.max_sp is not None:
            text += f" up to SP{self.max_sp}"
        if self.min_update:
            names = [u.name or f"build {u.build}" for u in self.min_update]
            text += " from " + (
                names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
            )
        if self.min_build:
            text += f" build {self.min_build} or later"
        if self.max_build:
            text += f" up to build {self.max_build}"
        return text


class OsCondition(_Model):
    families: list[str] = Field(default=[], description="nt4, w2k, w2k3, w2k8, w2k8r2, ...")
    min_sp: int | None = Field(default=None, ge=0)
    architectures: list[Literal["x86", "x64", "ia64", "alpha"]] = []


# Server roles as the collector reports them (remediate.probes.collect.EXCHANGE_ROLES).
ExchangeRole = Literal[
    "Mailbox",
    "ClientAccess",
    "HubTransport",
    "EdgeTransport",
    "UnifiedMessaging",
    "FrontendTransport",
    "Management",
]


class AppliesTo(_Model):
    products: list[ProductRange] = Field(min_length=1)
    os: OsCondition | None = None
    roles: list[ExchangeRole] = Field(
        default=[], description="the server has one of these roles (2007 and later)"
    )


class CountRule(_Model):
    """At least `min` matching events within any window of `within`."""

    min: int = Field(ge=1)
    within: str | None = None

    @field_validator("within")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def window(self) -> timedelta | None:
        return parse_duration(self.within) if self.within else None


class EventSelection(_Model):
    """Event records of one log, by source and ID, message regex, error codes or data bytes."""

    log: str = "Application"
    source: list[str] = Field(default=[], description="event sources (any of)")
    event_ids: list[int] = Field(default=[], min_length=0)
    message: str | None = Field(default=None, description="regular expression on the message")
    codes: list[str] = Field(default=[], description="error codes the message must contain")
    data_contains: str | None = Field(default=None, description="hex bytes in the event data")
    count: CountRule | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("message")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"message is not a valid regular expression: {exc}") from None
        return value

    @field_validator("data_contains")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = re.sub(r"\s+", "", value).lower()
        if not re.fullmatch(r"([0-9a-f]{2})+", cleaned):
            raise ValueError("data_contains must be hex bytes such as '74 00 05 00'")
        return cleaned

    @model_validator(mode="after")
    def _narrow_enough(self) -> EventSelection:
        if not self.source and not self.event_ids:
            raise ValueError("an event selection needs a source or event_ids")
        return self


class ServiceSelection(_Model):
    service: str
    state: ServiceStateName = "running"


class ComponentSelection(_Model):
    component: str = Field(description="logical component name, e.g. smtp")
    installed: bool = True

    @field_validator("component")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in COMPONENTS:
            raise ValueError(
                f"unknown component {value!r} (known: {', '.join(sorted(COMPONENTS))})"
            )
        return value


Selection = EventSelection | ServiceSelection | ComponentSelection
StateRequirement = ServiceSelection | ComponentSelection


class Symptoms(_Model):
    selections: dict[str, Selection] = Field(min_length=1)
    condition: str = "1 of them"

    @field_validator("selections", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, dict):
            for name in value:
                if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(name)):
                    raise ValueError(f"selection name {name!r}: use letters, digits and _")
        return value

    @model_validator(mode="after")
    def _condition(self) -> Symptoms:
        try:
            parse_condition(self.condition, self.selections)
        except ConditionError as exc:
            raise ValueError(f"condition: {exc}") from None
        return self

    @property
    def compiled(self) -> Condition:
        return parse_condition(self.condition, self.selections)

    def events(self) -> dict[str, EventSelection]:
        return {n: s for n, s in self.selections.items() if isinstance(s, EventSelection)}


FOLDERS = ("bin", "mtadata")
# Folders under the install root, written as articles write them. The root the collector
# detects is the V15 folder itself for 2013 and later and V14 for 2010: setup's MsiInstallPath
# (CSS-Exchange Admin/Reset-ScanEngineVersion.ps1 joins MsiInstallPath and
# "FIP-FS\Data\Engines\amd64\Microsoft"), which setup also sets as %ExchangeInstallPath%
# (HealthChecker's Get-FIPFSScanEngineVersionState.ps1 falls back to $env:ExchangeInstallPath).
# So "V15\Bin" and "%ExchangeInstallPath%Bin" are "Bin" under the detected root.
_INSTALL_PATH_VARIABLE = "%exchangeinstallpath%"
_VERSION_FOLDERS = {"v14": "14", "v15": "15"}


def _split_folder(folder: str) -> tuple[str, str, str | None]:
    """(root, relative folder, the major version a V14/V15 prefix requires) of a folder."""
    lowered = folder.lower()
    if lowered in FOLDERS:
        return "exchange", lowered, None
    if lowered == "system32":
        return "system32", "", None
    if lowered.startswith("exchange:"):
        return "exchange", folder[9:].strip("\\"), None
    if lowered.startswith(_INSTALL_PATH_VARIABLE):
        return "exchange", folder[len(_INSTALL_PATH_VARIABLE) :].strip("\\"), None
    head, _, rest = folder.partition("\\")
    if head.lower() in _VERSION_FOLDERS:
        return "exchange", rest.strip("\\"), _VERSION_FOLDERS[head.lower()]
    return "absolute", folder.rstrip("\\"), None


class FixFile(_Model):
    """One row of the article's file table. An article that lists a file once per Exchange
    version gives each row its `exchange_version`: a 5.5 server is not judged by the 2000 row."""

    file: str
    version: str | None = Field(description="fixed version, or null for N/A (presence only)")
    folder: str = Field(
        default="bin",
        description="bin or mtadata (Exchange), exchange:<relative>, V15\\<relative> or "
        "V14\\<relative> (2013+ or 2010: under the install root), %ExchangeInstallPath%<relative>, "
        "system32, or absolute",
    )
    platform: Platform | None = None
    component: str | None = None
    exchange_version: str | None = Field(
        default=None,
        description="the Exchange the row is listed under, where the article lists the file "
        "for several: major.minor (5.5, 6.0 for 2000, 6.5 for 2003, ...) or a product line "
        "(Exchange Server 2007); the row is checked on hosts of that Exchange only",
    )

    _check_version = field_validator("version")(_version_text)

    @field_validator("exchange_version", mode="before")
    @classmethod
    def _exchange_version(cls, value: object) -> str | None:
        """A version or product line the build table knows (YAML reads 6.0 as a number)."""
        if value is None:
            return None
        text = " ".join(str(value).split())
        line = product_line(text)
        if line is not None:
            return line
        if text in _KNOWN_VERSIONS:
            return text
        raise ValueError(
            f"{text[:60]!r} is not an Exchange version: use major.minor "
            f"({', '.join(_KNOWN_VERSIONS)}) or a product line ({_line_names()})"
        )

    def for_exchange(self, version: str, line: str | None) -> bool | None:
        """Whether the row concerns a host running Exchange `version` of product `line`
        (`line` None when the host's line is unknown); None when only the line would tell,
        as for a 15.2 server and a row of Exchange Server 2019 or SE."""
        wanted = self.exchange_version
        if wanted is None:
            return True
        if wanted not in LINE_VERSIONS:
            return version == wanted
        if version not in LINE_VERSIONS[wanted]:
            return False
        return None if line is None else line == wanted

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not value or "\\" in value or "/" in value or value in (".", ".."):
            raise ValueError(f"file {value!r} must be a file name; put folders in 'folder'")
        return value

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        lowered = value.lower()
        if lowered in (*FOLDERS, "system32"):
            return lowered
        root, relative, _ = _split_folder(value)
        head = relative.split("\\")[0].lower()
        if root == "exchange" and head in _VERSION_FOLDERS:
            raise ValueError(
                f"folder {value!r}: the install root of Exchange 2010 and later is the "
                f"{head.upper()} folder itself: write {head.upper()}\\... or exchange:<below it>"
            )
        if root == "exchange" and relative:
            return value
        if root == "absolute" and PureWindowsPath(value).is_absolute():
            return value
        raise ValueError(
            f"folder {value!r}: use bin, mtadata, exchange:<relative path>, V15\\<relative path>, "
            "%ExchangeInstallPath%<relative path>, system32 or an absolute path such as "
            "C:\\Program Files\\Exchsrvr\\bin"
        )

    def location(self) -> tuple[str, str]:
        """(root, relative path) for the collector: root is exchange, system32 or absolute."""
        root, relative, _ = _split_folder(self.folder)
        if root == "system32":
            return "system32", self.file
        return root, f"{relative}\\{self.file}"

    @property
    def requires_major(self) -> str | None:
        """ "15" for a V15\\ folder, "14" for V14\\: the Exchange the path exists on."""
        return _split_folder(self.folder)[2]

    @property
    def key(self) -> str:
        root, path = self.location()
        return f"{root}:{path}".lower()


_LINE_FIELDS = {
    EXCHANGE_55: "exchange_55",
    EXCHANGE_2000: "exchange_2000",
    EXCHANGE_2003: "exchange_2003",
    EXCHANGE_2007: "exchange_2007",
    EXCHANGE_2010: "exchange_2010",
    EXCHANGE_2013: "exchange_2013",
    EXCHANGE_2016: "exchange_2016",
    EXCHANGE_2019: "exchange_2019",
    EXCHANGE_SE: "exchange_se",
}
_FIELD_LINES = {field: line for line, field in _LINE_FIELDS.items()}


def _updates_field(line: str) -> Any:
    return Field(default=(), alias=line, description=f"updates of {line} that fix the article")


class FixedIn(_Model):
    """What fixes the article: a service pack of one version (`version` + `service_pack`, as the
    articles of 5.5 to 2003 say), and/or per product line the updates that fix it, each a CU/SU
    (SP/RU) name or a build, one per CU where the fix came as an SU of several CUs::

        fixed_in:
          Exchange Server 2019: [CU14 Oct25SU, CU15 Oct25SU]
          Exchange Server SE: RTM Oct25SU

    Names are resolved to builds on load (`remediate.catalog.exchange_builds`); a server has the
    fix when `versions.has_update` says so for its line's updates.
    """

    version: str | None = None
    service_pack: int | None = Field(default=None, ge=1)
    exchange_55: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_55)
    exchange_2000: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2000)
    exchange_2003: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2003)
    exchange_2007: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2007)
    exchange_2010: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2010)
    exchange_2013: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2013)
    exchange_2016: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2016)
    exchange_2019: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_2019)
    exchange_se: tuple[NamedBuild, ...] = _updates_field(EXCHANGE_SE)

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: object) -> object:
        """Product lines whatever their case; any other key is named in the error."""
        if not isinstance(data, dict):
            return data
        keys: dict[str, object] = {}
        for key, value in data.items():
            text = str(key)
            line = product_line(text)
            if text in ("version", "service_pack"):
                keys[text] = value
            elif line is not None:
                keys[line] = value
            else:
                raise _PathError(
                    (text,),
                    f"unknown key {text[:60]!r}: fixed_in takes version and service_pack, "
                    f"or product lines ({_line_names()}) with their fixing updates",
                )
        return keys

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> str | None:
        return None if value is None else _major_minor(value)

    @field_validator(*_LINE_FIELDS.values(), mode="before")
    @classmethod
    def _resolve(cls, value: object, info: ValidationInfo) -> tuple[NamedBuild, ...]:
        assert info.field_name is not None
        return _updates_of(_FIELD_LINES[info.field_name], value)

    @model_validator(mode="after")
    def _complete(self) -> FixedIn:
        if (self.version is None) != (self.service_pack is None):
            raise ValueError("version and service_pack go together (Exchange 5.5 SP3)")
        if self.version is None and not self.lines:
            raise ValueError(
                "fixed_in needs version and service_pack, or a product line with its updates "
                "(Exchange Server 2019: CU14 Nov24SU)"
            )
        return self

    @property
    def lines(self) -> dict[str, tuple[NamedBuild, ...]]:
        """The product lines named, with their fixing updates."""
        return {
            line: getattr(self, field)
            for line, field in _LINE_FIELDS.items()
            if getattr(self, field)
        }

    def updates_for(self, line: str) -> tuple[NamedBuild, ...]:
        field = _LINE_FIELDS.get(line)
        return getattr(self, field) if field else ()

    def describe(self) -> str:
        """ "Exchange 5.5 SP3", "Exchange Server 2019 CU14 Oct25SU or CU15 Oct25SU; ..."."""
        parts = [f"Exchange {self.version} SP{self.service_pack}"] if self.version else []
        for line, updates in self.lines.items():
            names = [u.name or f"build {u.build}" for u in updates]
            parts.append(f"{line} {' or '.join(names)}")
        return "; ".join(parts)


class Fix(_Model):
    fixed_in: FixedIn | None = None
    files: list[FixFile] = []
    requires: list[StateRequirement] = Field(
        default=[], description="states that must hold once fixed (e.g. a service running)"
    )

    @model_validator(mode="after")
    def _something(self) -> Fix:
        if self.fixed_in is None and not self.files and not self.requires:
            raise ValueError("a fix needs fixed_in, files or requires")
        return self


STEP_TIMEOUT_LIMIT = timedelta(hours=24)


class Step(_Model):
    """A remediation step as written in the playbook (planned by remediate.remediation)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    step: Literal["windows_component", "service", "reboot", "run", "manual", "verify"]
    name: str | None = None
    copy_from: str | None = Field(
        default=None,
        description="run steps: where the program comes from: a file on the controller "
        "(absolute, or relative to the playbook) or a share path \\\\server\\share\\file; "
        "it is copied to `program` and checked by SHA-256 before it runs",
    )
    copy_sha256: str | None = Field(
        default=None, description="the SHA-256 the copied file must have (needed for a share)"
    )
    _line: int | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _copy_is_read(self) -> Step:
        # A field that nothing reads is refused, never dropped: only a run step copies a file.
        if self.copy_from is not None and self.step != "run":
            raise ValueError(f"copy_from is read by run steps only, not by {self.step} steps")
        if self.copy_sha256 is not None and self.copy_from is None:
            raise ValueError("copy_sha256 needs copy_from")
        pinned = self.copy_sha256
        if (
            pinned is not None
            and "{{" not in pinned
            and not re.fullmatch(r"[0-9A-Fa-f]{64}", pinned.strip())
        ):
            raise ValueError("copy_sha256 must be 64 hex digits (a SHA-256)")
        return self

    @property
    def line(self) -> int | None:
        """The line of the step in its playbook (set on load)."""
        return self._line

    when: dict[str, Any] | None = None
    timeout: int | None = Field(
        default=None,
        description="how long the step may take, in seconds: 90s, 45m, 2h or a number of seconds",
    )

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"timeout {value!r} is not a duration such as 90s, 45m or 2h")
        seconds = (
            value
            if isinstance(value, int)
            else int(value.strip())
            if value.strip().isdigit()
            else int(parse_duration(value).total_seconds())
        )
        if seconds <= 0 or seconds > STEP_TIMEOUT_LIMIT.total_seconds():
            raise ValueError(f"timeout {value!r} must be more than 0 s and at most 24h")
        return seconds


# A KB or Q number (KB840469, Q232602), a CVE id (CVE-2025-59249), or for an advisory that
# has neither, such as an Exchange Team blog post, a short name and its year (FIPFS-2022).
PLAYBOOK_ID = r"^(?:(?:KB|Q)\d{5,7}|CVE-\d{4}-\d{4,7}|[A-Z][A-Z0-9]{1,15}-\d{4})$"


class Playbook(_Model):
    id: str = Field(pattern=PLAYBOOK_ID, description="KB/Q number, CVE id or NAME-YEAR")
    title: str = Field(min_length=1)
    references: list[str] = []
    severity: Severity = "medium"
    review: Literal["required", "done"] | None = None
    applies_to: AppliesTo
    symptoms: Symptoms | None = None
    fix: Fix
    remediation: list[Step] = []
    source: str | None = Field(default=None, description="the playbook file (set on load)")

    @model_validator(mode="after")
    def _version_folders(self) -> Playbook:
        """A V15\\ or V14\\ file row is only for playbooks of that Exchange (2013+ or 2010)."""
        for index, row in enumerate(self.fix.files):
            major = row.requires_major
            if major is None:
                continue
            others = [
                p.version for p in self.applies_to.products if p.version.split(".")[0] != major
            ]
            if others:
                raise _PathError(
                    ("fix", "files", index, "folder"),
                    f"fix file {row.file} in {row.folder}: that folder exists on Exchange "
                    f"{major}.x only, and the playbook applies to {', '.join(others)} too",
                )
        return self

    @property
    def is_draft(self) -> bool:
        """An imported draft nobody has reviewed yet (`review: required`): audits and reports
        say so, and a reviewed playbook of the same id is used instead (`load_playbook_set`)."""
        return self.review == "required"

    def fix_files_for(self, architecture: str) -> list[FixFile]:
        """The rows that apply to a host of this architecture (Intel/Alpha rows)."""
        return [
            row
            for row in self.fix.files
            if row.platform is None or architecture in PLATFORM_ARCHITECTURES[row.platform]
        ]


class PlaybookError(InputError):
    """A playbook that cannot be used; the message names the file, line and YAML path."""


def parse_playbook(text: str, source: str) -> Playbook:
    try:
        located = load_located(text, source)
    except YamlInputError as exc:
        raise PlaybookError(str(exc), line=exc.line) from None
    if not isinstance(located.data, dict):
        raise PlaybookError(f"{source}: a playbook is a YAML mapping (id, title, applies_to, ...)")
    try:
        playbook = Playbook.model_validate({**located.data, "source": source})
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, _PathError):  # a check that knows the part that is wrong
            where = (*first["loc"], *cause.path)
            path = ".".join(str(p) for p in where)
            more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            raise PlaybookError(
                f"{located.where(where)}: {path}: {cause}{more}", line=located.line_of(where)
            ) from None
        error = located.validation_error(exc)
        raise PlaybookError(str(error), line=error.line) from None
    for index, step in enumerate(playbook.remediation):
        step._line = located.line_of(("remediation", index))
    return playbook


def load_playbook(path: Path) -> Playbook:
    try:
        text = read_utf8(path)
    except YamlInputError as exc:
        raise PlaybookError(str(exc)) from None
    return parse_playbook(text, str(path))


def playbook_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files named directly or found in the named folders, in a stable order.

    A named folder without a playbook file is an error naming it (a mistyped `-p` must not
    audit nothing, nor `playbook lint` pass on nothing); so is naming no path at all.
    """
    found: list[Path] = []
    named = list(paths)
    for path in named:
        try:
            if path.is_dir():
                inside = sorted(p for p in path.iterdir() if p.suffix.lower() in (".yml", ".yaml"))
                if not inside:
                    raise PlaybookError(
                        f"no playbooks in {path} (no .yml or .yaml files there)",
                        hint="give --playbooks the folder of the playbook files",
                    )
                found += inside
            elif path.exists():
                found.append(path)
            else:
                raise PlaybookError(f"{path}: no such file or folder")
        except OSError as exc:
            raise PlaybookError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not named:
        raise PlaybookError("no playbook files or folders given")
    return found


@dataclass(frozen=True)
class PlaybookSet:
    """The playbooks to use, and the notes a user must see about them: each draft in use (by
    file), and each draft set aside for a reviewed playbook of the same id (both files)."""

    playbooks: list[Playbook]
    notes: tuple[str, ...] = ()


def draft_note(playbook: Playbook) -> str:
    """What `playbook lint` and `audit` say about a draft in use."""
    return (
        f"{playbook.source}: {playbook.id} is a draft (review: required): check it against "
        "the article, then set review: done; until then its findings are marked draft"
    )


def precedence_note(reviewed: Playbook, draft: Playbook) -> str:
    """What `audit` and `playbook lint` say when a reviewed playbook wins over a draft."""
    return (
        f"{reviewed.id}: the reviewed {reviewed.source} is used, not the draft {draft.source} "
        "(same id)"
    )


def load_playbook_set(paths: Iterable[Path]) -> PlaybookSet:
    """Every playbook under `paths`, a reviewed one winning over a draft of the same id.

    Someone pointing `-p` at both playbooks/ and playbooks/drafts/ has the hand-checked
    playbook evaluated and is told which draft was set aside; two reviewed playbooks (or two
    drafts) with one id are still an error: nothing says which of them is right.
    """
    chosen: dict[str, Playbook] = {}
    notes: list[str] = []
    for path in playbook_files(paths):
        playbook = load_playbook(path)
        kept = chosen.get(playbook.id)
        if kept is None:
            chosen[playbook.id] = playbook
        elif kept.is_draft != playbook.is_draft:
            reviewed, draft = (playbook, kept) if kept.is_draft else (kept, playbook)
            notes.append(precedence_note(reviewed, draft))
            chosen[playbook.id] = reviewed
        else:
            raise PlaybookError(f"{path}: id {playbook.id} is already used by {kept.source}")
    playbooks = list(chosen.values())
    drafts = [draft_note(p) for p in playbooks if p.is_draft]
    return PlaybookSet(playbooks, (*drafts, *notes))


def load_playbooks(paths: Iterable[Path]) -> list[Playbook]:
    """Every playbook under `paths` (see `load_playbook_set`; its notes are not needed here)."""
    return load_playbook_set(paths).playbooks
