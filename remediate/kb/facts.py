"""The facts an article states, as the importer extracts them (shared by the readers of
each kind of fact and by the drafts made from them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventFact:
    """One symptom event: source as written (or None), ID, error codes, first data bytes."""

    source: str | None
    event_id: int
    codes: tuple[str, ...] = ()
    data: str | None = None


@dataclass(frozen=True)
class FixRow:
    """One row of the article's installed-files table."""

    file: str
    version: str | None
    platform: str | None = None
    component: str | None = None
    product: str | None = None
    """The Exchange version a table lists this row under ("6.0"), when it lists several."""


@dataclass(frozen=True)
class ProductFact:
    """An Exchange version the article applies to, with its service pack bounds."""

    version: str  # 5.5, 6.0, 6.5
    min_sp: int | None = None
    max_sp: int | None = None

    @property
    def text(self) -> str:
        name = PRODUCT_NAMES.get(self.version, f"Exchange Server {self.version}")
        return f"{name} SP{self.min_sp}" if self.min_sp else name


@dataclass(frozen=True)
class ArticleFacts:
    """What an article says, as extracted (the JSON keys, plus the importer's warnings)."""

    article: str | None
    title: str | None
    products: list[str]
    events: list[EventFact]
    fix_files: list[FixRow]
    fixed_in: str | None
    warnings: list[str] = field(default_factory=list)
    ranges: list[ProductFact] = field(default_factory=list)
    fixed_in_sp: tuple[str, int] | None = None
    references: list[str] = field(default_factory=list)
    source: str = ""
    other_products: list[str] = field(default_factory=list)
    """Non-Exchange products of the "applies to" list, as written there (minus "Microsoft ")."""
    codes: list[str] = field(default_factory=list)
    """Every error code the article presents as the error: its events' and the prose's."""
    fixed_in_other: tuple[str, int] | None = None
    """A non-Exchange service pack as the fix, e.g. ("Windows NT 4.0", 6)."""


PRODUCT_NAMES = {
    "4.0": "Exchange Server 4.0",
    "5.0": "Exchange Server 5.0",
    "5.5": "Exchange Server 5.5",
    "6.0": "Exchange 2000 Server",
    "6.5": "Exchange Server 2003",
    "8.0": "Exchange Server 2007",
}
VERSION_OF = {"2000": "6.0", "2003": "6.5", "2007": "8.0"}
"""Exchange's marketing years as the version numbers articles and playbooks use."""
