"""Exchange Server builds as data: which product, which update (CU/SU, SP/RU), released when.

Why: a server only tells its file version (`ExSetup.exe` from 2007 on, `store.exe` before),
while people, articles and playbooks speak of "Exchange Server 2019 CU14 Nov24SU". The table
in `exchange_builds.csv` turns the one into the other, and a playbook's "CU14 Nov24SU" back
into the minimum build that has it (`build_named`).

Sources of the numbers (facts only; the CSV's comment header says which source won where
they differ):

- Microsoft, "Exchange Server build numbers and release dates"
  (https://learn.microsoft.com/exchange/new-features/build-numbers-and-release-dates; its
  source file in MicrosoftDocs/OfficeDocs-Exchange, revision of 2022-04-19);
- Microsoft's github.com/microsoft/Get-ExchangeBuildNumber, `ExchangeBuildNumbers.csv`
  (2026-08-19): builds after April 2022 and Exchange Server SE;
- github.com/microsoft/CSS-Exchange, `Shared/Get-ExchangeBuildVersionInformation.ps1`
  (HealthChecker's table, 2026-04-02): cross-check of every 2013-SE build. HealthChecker also
  decides SE against 2019 as here: 15.2 with a build number from SE RTM's (2562) on is SE.

Lookup rules. A build belongs to a product line by its major.minor (8.x 2007, 14.x 2010,
15.0 2013, 15.1 2016, 15.2 2019 or SE). Within a line, updates are serviced per branch: the
CU for 2013 and later (major.minor.build: every SU of CU14 is 15.2.1544.x), the service pack
for older lines (8.3.x is 2007 SP3 and its rollups). `lookup` gives the exact row or the
closest lower row of the line; a build later than every build the table knows of its branch
(or of its line, when the table knows no build of its branch) is `newer_than_table`: the table
is behind the server, which is reported as such and is never an error. The 5.5-2003 rows are
major.minor.build: a revision (store.exe's 6.5.7638.1) counts as that build.

Refresh: `make exchange-builds` (tools/refresh_exchange_builds.py).
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from remediate.errors import InputError

DATA_FILE = "exchange_builds.csv"
COLUMNS = ("build", "product", "name", "released")
MAX_TABLE_BYTES = 1_000_000  # the packaged table is ~20 KB; anything this big is not one

EXCHANGE_55 = "Exchange Server 5.5"
EXCHANGE_2000 = "Exchange 2000 Server"
EXCHANGE_2003 = "Exchange Server 2003"
EXCHANGE_2007 = "Exchange Server 2007"
EXCHANGE_2010 = "Exchange Server 2010"
EXCHANGE_2013 = "Exchange Server 2013"
EXCHANGE_2016 = "Exchange Server 2016"
EXCHANGE_2019 = "Exchange Server 2019"
EXCHANGE_SE = "Exchange Server SE"
PRODUCTS = (
    EXCHANGE_55,
    EXCHANGE_2000,
    EXCHANGE_2003,
    EXCHANGE_2007,
    EXCHANGE_2010,
    EXCHANGE_2013,
    EXCHANGE_2016,
    EXCHANGE_2019,
    EXCHANGE_SE,
)
# major.minor -> product line; 2007 is every 8.x and 2010 every 14.x (the minor is the SP)
_BY_MAJOR_MINOR = {
    (5, 5): EXCHANGE_55,
    (6, 0): EXCHANGE_2000,
    (6, 5): EXCHANGE_2003,
    (15, 0): EXCHANGE_2013,
    (15, 1): EXCHANGE_2016,
    (15, 2): EXCHANGE_2019,
}
_BY_MAJOR = {8: EXCHANGE_2007, 14: EXCHANGE_2010}

_VERSION = re.compile(r"\d{1,9}(?:\.\d{1,9}){1,3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ]{0,39}")

Key = tuple[int, int, int, int]


def _parts(version: str) -> tuple[int, ...] | None:
    """`15.02.1544.014` -> (15, 2, 1544, 14); None for anything that is not 2-4 numbers."""
    text = version.strip()
    if not _VERSION.fullmatch(text):
        return None
    return tuple(int(part) for part in text.split("."))


def _key(parts: tuple[int, ...]) -> Key:
    padded = (*parts, 0, 0, 0)
    return (padded[0], padded[1], padded[2], padded[3])


def _branch(key: Key) -> tuple[int, ...]:
    """The servicing branch: the CU (major.minor.build) from 2013 on, else the SP (major.minor)."""
    return key[:3] if key[0] >= 15 else key[:2]


def _base(name: str) -> str:
    """The CU/SP a row's update is on: "CU14 Nov24SU" -> "CU14", "SP3 RU8v2" -> "SP3"."""
    first = name.split()[0]
    return "RTM" if first.startswith("RU") else first


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class ExchangeBuild:
    build: str  # short format without leading zeros: "15.2.1544.14"
    product: str  # product line: "Exchange Server 2019"
    name: str  # "CU14 Nov24SUv2", "SP3 RU23", "RTM"
    released: date

    @property
    def version(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.build.split("."))


@dataclass(frozen=True)
class BuildMatch:
    """What the table says of one build.

    `row` is the exact row or the closest lower row of the same product line (None below the
    line's first row or for a line the table does not know: then `product` is ""). `update`
    is the name to show: the row's name; the CU/SP alone when the build is newer than the
    table; "" when the build's CU is not in the table. `released` is the release of `update`.
    """

    build: str
    product: str
    row: ExchangeBuild | None = None
    exact: bool = False
    newer_than_table: bool = False
    update: str = ""
    released: date | None = None


class BuildTable:
    """A validated, build-ordered table with the indexes `lookup` and `named` need."""

    def __init__(self, rows: tuple[ExchangeBuild, ...]) -> None:
        self.rows = rows
        self._by_product: dict[str, list[ExchangeBuild]] = {}
        self._keys: dict[str, list[Key]] = {}
        self._branch_last: dict[tuple[str, tuple[int, ...]], Key] = {}
        self._named: dict[tuple[str, str], ExchangeBuild] = {}
        for row in rows:
            key = _key(row.version)
            self._by_product.setdefault(row.product, []).append(row)
            self._keys.setdefault(row.product, []).append(key)
            self._branch_last[(row.product, _branch(key))] = key
            self._named.setdefault((_folded(row.product), _folded(row.name)), row)
        se = self._by_product.get(EXCHANGE_SE)
        self._se_first = se[0].version[2] if se else None

    def _product(self, parts: tuple[int, ...]) -> str:
        product = _BY_MAJOR.get(parts[0]) or _BY_MAJOR_MINOR.get((parts[0], parts[1]), "")
        se_first = self._se_first
        if product == EXCHANGE_2019 and se_first is not None and parts[2:3] >= (se_first,):
            return EXCHANGE_SE
        return product

    def product_of(self, version: str) -> str:
        """The product line of "15.2" or "15.2.2562.17"; "" when unknown. A bare "15.2" is
        2019: only the build number tells SE (15.2 from SE RTM's build number on)."""
        parts = _parts(version)
        return self._product(parts) if parts else ""

    def lookup(self, build: str) -> BuildMatch:
        """The table's word on a build (see the module docstring); never raises."""
        parts = _parts(build)
        if parts is None:
            return BuildMatch(build=build.strip(), product="")
        text = ".".join(str(part) for part in parts)
        product = self._product(parts)
        rows = self._by_product.get(product)
        if not rows:
            return BuildMatch(build=text, product=product)
        # 5.5-2003 builds are listed as major.minor.build: store.exe's revision (6.5.7638.1)
        # is a revision of that build, not a later update.
        key = _key(parts[:3] if parts[0] < 8 else parts)
        index = bisect_right(self._keys[product], key) - 1
        row = rows[index] if index >= 0 else None
        branch = _branch(key)
        last = self._branch_last.get((product, branch), self._keys[product][-1])
        newer = key > last
        if row is None:
            return BuildMatch(build=text, product=product, newer_than_table=newer)
        exact = self._keys[product][index] == key
        update = ""
        if _branch(_key(row.version)) == branch:
            update = _base(row.name) if newer else row.name
        named = row if update == row.name else self.named(product, update) if update else None
        return BuildMatch(
            build=text,
            product=product,
            row=row,
            exact=exact,
            newer_than_table=newer,
            update=update,
            released=named.released if named else None,
        )

    def named(self, product: str, name: str) -> ExchangeBuild | None:
        """The first (lowest) build of an update, by name: "CU14 Nov24SU" also finds its
        re-releases ("CU14 Nov24SUv2"), so the answer is the minimum build that has the update.
        Case and spacing do not matter."""
        wanted = _folded(name)
        first = self._named.get((_folded(product), wanted))
        if first is not None or not wanted:
            return first
        revision = re.compile(re.escape(wanted) + r"v\d+")
        for row in self._by_product.get(self._canonical_product(product), ()):
            if revision.fullmatch(_folded(row.name)):
                return row  # rows are in build order: the first is the minimum
        return None

    def build_named(self, product: str, name: str) -> str | None:
        """The minimum build of a named update ("Exchange Server 2019", "CU14 Nov24SU" ->
        "15.2.1544.13"), for playbooks; None when the table has no such update."""
        row = self.named(product, name)
        return row.build if row else None

    def _canonical_product(self, product: str) -> str:
        wanted = _folded(product)
        return next((p for p in self._by_product if p.casefold() == wanted), "")


def _fail(message: str, source: str, line: int | None, hint: str | None = None) -> InputError:
    return InputError(message, file=source, line=line, hint=hint)


def _row(fields: list[str], source: str, line: int) -> ExchangeBuild:
    if len(fields) != len(COLUMNS):
        raise _fail(
            f"expected {len(COLUMNS)} columns ({', '.join(COLUMNS)}), found {len(fields)}",
            source,
            line,
        )
    build_text, product, name, released_text = (field.strip() for field in fields)
    parts = _parts(build_text)
    if parts is None or len(parts) < 3:
        raise _fail(
            f"build {build_text[:40]!r} is not a build number",
            source,
            line,
            hint="three or four numbers, as 15.2.1544.14 (5.5-2003: 6.5.7638)",
        )
    if product not in PRODUCTS:
        raise _fail(
            f"unknown product {product[:60]!r}", source, line, hint=f"one of {', '.join(PRODUCTS)}"
        )
    line_product = _BY_MAJOR.get(parts[0]) or _BY_MAJOR_MINOR.get((parts[0], parts[1]))
    expected = (EXCHANGE_2019, EXCHANGE_SE) if line_product == EXCHANGE_2019 else (line_product,)
    if product not in expected:
        raise _fail(f"build {build_text} is not {product}", source, line)
    if parts[0] >= 8 and len(parts) != 4:
        raise _fail(f"build {build_text} needs four numbers from Exchange 2007 on", source, line)
    if not _NAME.fullmatch(name):
        raise _fail(
            f"name {name[:60]!r} is not an update name",
            source,
            line,
            hint="letters, digits and spaces, as 'CU14 Nov24SU' or 'SP3 RU23' (40 at most)",
        )
    try:
        if not _DATE.fullmatch(released_text):
            raise ValueError
        released = date.fromisoformat(released_text)
    except ValueError:
        raise _fail(
            f"released {released_text[:40]!r} is not a YYYY-MM-DD date", source, line
        ) from None
    return ExchangeBuild(".".join(str(p) for p in parts), product, name, released)


def parse_table(text: str, source: str) -> BuildTable:
    """Read and validate a table's text; every error is an InputError naming `source` and
    the line. Linear in the text."""
    if len(text) > MAX_TABLE_BYTES:
        raise _fail(f"larger than {MAX_TABLE_BYTES} bytes: not a build table", source, None)
    rows: list[ExchangeBuild] = []
    lines: dict[Key, int] = {}  # build -> its line, for duplicates and the SE check
    names: dict[tuple[str, str], int] = {}
    header_seen = False
    previous: tuple[Key, int] | None = None
    se_first: tuple[int, int] | None = None  # (build number, line) of the first SE row
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            fields = next(csv.reader([raw]))
        except csv.Error as error:
            raise _fail(f"not a CSV row: {error}", source, number) from None
        if not header_seen:
            if tuple(f.strip() for f in fields) != COLUMNS:
                raise _fail(
                    f"the first line that is not a comment must be the header {','.join(COLUMNS)}",
                    source,
                    number,
                )
            header_seen = True
            continue
        row = _row(fields, source, number)
        key = _key(row.version)
        if key in lines:
            raise _fail(f"duplicate build {row.build} (first on line {lines[key]})", source, number)
        if previous is not None and key < previous[0]:
            raise _fail(
                f"build {row.build} comes after a later build (line {previous[1]}): "
                "rows must be in build order",
                source,
                number,
            )
        name_key = (row.product, _folded(row.name))
        if name_key in names:
            raise _fail(
                f"{row.product} {row.name} is already on line {names[name_key]}", source, number
            )
        if row.product == EXCHANGE_SE and se_first is None:
            se_first = (row.version[2], number)
        if row.product == EXCHANGE_2019 and se_first is not None:
            raise _fail(
                f"Exchange Server 2019 build {row.build} after the first SE build "
                f"(line {se_first[1]}): 15.2 builds from SE RTM's on are SE",
                source,
                number,
            )
        lines[key] = number
        names[name_key] = number
        previous = (key, number)
        rows.append(row)
    if not header_seen or not rows:
        raise _fail("no builds in the table", source, None, hint=f"header: {','.join(COLUMNS)}")
    if se_first is not None:
        for row in rows:
            if row.product == EXCHANGE_2019 and row.version[2] >= se_first[0]:
                raise _fail(
                    f"Exchange Server 2019 build {row.build} is in Exchange Server SE's range "
                    f"(build number {se_first[0]} on, line {se_first[1]})",
                    source,
                    lines[_key(row.version)],
                )
    return BuildTable(tuple(rows))


def load_table(path: Path) -> BuildTable:
    """A table from a file (the refresh tool, tests); InputError when it cannot be used."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TABLE_BYTES + 1)
    except OSError as error:
        raise _fail(f"cannot read: {error.strerror or error}", str(path), None) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail("not UTF-8 text", str(path), None) from None
    return parse_table(text, str(path))


@lru_cache(maxsize=1)
def default_table() -> BuildTable:
    """The packaged table, read and validated once per process."""
    resource = resources.files("remediate.catalog").joinpath(DATA_FILE)
    return parse_table(resource.read_text(encoding="utf-8"), f"remediate/catalog/{DATA_FILE}")


def lookup(build: str) -> BuildMatch:
    """`BuildTable.lookup` on the packaged table."""
    return default_table().lookup(build)


def product_of(version: str) -> str:
    """`BuildTable.product_of` on the packaged table."""
    return default_table().product_of(version)


def build_named(product: str, name: str) -> str | None:
    """`BuildTable.build_named` on the packaged table."""
    return default_table().build_named(product, name)
