"""Playbooks: one YAML file per Knowledge Base article, validated precisely (no I/O here
beyond reading the files asked for).

A playbook says which hosts the article applies to (`applies_to`), what its symptoms look
like (`symptoms`: named selections over event records and service/component states,
combined by a Sigma-like `condition`), what fixes it (`fix`: the service pack that first
corrected it, a table of files and their fixed versions, states that must hold), and how to
remediate it (`remediation`: steps, planned and applied by `remediate.remediation`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path, PureWindowsPath
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from remediate.catalog.components import COMPONENTS
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


def _version_text(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        FileVersion.parse(str(value))
    except VersionError as exc:
        raise ValueError(str(exc)) from None
    return str(value)


class ProductRange(_Model):
    """An Exchange version, optionally bounded by service pack or build."""

    product: Literal["exchange"] = "exchange"
    version: str = Field(description="major.minor: 5.5, 6.0 (2000), 6.5 (2003)")
    min_sp: int | None = Field(default=None, ge=0)
    max_sp: int | None = Field(default=None, ge=0)
    min_build: str | None = None
    max_build: str | None = None

    _check_builds = field_validator("min_build", "max_build")(_version_text)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> str:
        text = str(value)
        if not re.fullmatch(r"\d+\.\d+", text):
            raise ValueError(f"version {text!r} must be major.minor, such as 5.5 or 6.5")
        return text


class OsCondition(_Model):
    families: list[str] = Field(default=[], description="nt4, w2k, w2k3, w2k8, w2k8r2, ...")
    min_sp: int | None = Field(default=None, ge=0)
    architectures: list[Literal["x86", "x64", "ia64", "alpha"]] = []


class AppliesTo(_Model):
    products: list[ProductRange] = Field(min_length=1)
    os: OsCondition | None = None


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


class FixFile(_Model):
    """One row of the article's file table."""

    file: str
    version: str | None = Field(description="fixed version, or null for N/A (presence only)")
    folder: str = Field(
        default="bin",
        description="bin or mtadata (Exchange), exchange:<relative>, system32, or absolute",
    )
    platform: Platform | None = None
    component: str | None = None

    _check_version = field_validator("version")(_version_text)

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
        if lowered.startswith("exchange:") and value[9:].strip("\\"):
            return value
        if PureWindowsPath(value).is_absolute():
            return value
        raise ValueError(
            f"folder {value!r}: use bin, mtadata, exchange:<relative path>, system32 "
            "or an absolute path such as C:\\Program Files\\Exchsrvr\\bin"
        )

    def location(self) -> tuple[str, str]:
        """(root, relative path) for the collector: root is exchange, system32 or absolute."""
        if self.folder in FOLDERS:
            return "exchange", f"{self.folder}\\{self.file}"
        if self.folder == "system32":
            return "system32", self.file
        if self.folder.lower().startswith("exchange:"):
            return "exchange", f"{self.folder[9:].strip(chr(92))}\\{self.file}"
        return "absolute", f"{self.folder.rstrip(chr(92))}\\{self.file}"

    @property
    def key(self) -> str:
        root, path = self.location()
        return f"{root}:{path}".lower()


class FixedIn(_Model):
    version: str
    service_pack: int = Field(ge=1)


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


class Playbook(_Model):
    id: str = Field(pattern=r"^(KB|Q)\d{5,7}$")
    title: str = Field(min_length=1)
    references: list[str] = []
    severity: Severity = "medium"
    review: Literal["required", "done"] | None = None
    applies_to: AppliesTo
    symptoms: Symptoms | None = None
    fix: Fix
    remediation: list[Step] = []
    source: str | None = Field(default=None, description="the playbook file (set on load)")

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


def load_playbooks(paths: Iterable[Path]) -> list[Playbook]:
    """Every playbook under `paths`; two playbooks with one id are an error."""
    playbooks: list[Playbook] = []
    seen: dict[str, str] = {}
    for path in playbook_files(paths):
        playbook = load_playbook(path)
        if playbook.id in seen:
            raise PlaybookError(f"{path}: id {playbook.id} is already used by {seen[playbook.id]}")
        seen[playbook.id] = str(path)
        playbooks.append(playbook)
    return playbooks
