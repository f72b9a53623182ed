"""Refresh remediate/catalog/exchange_builds.csv from CSS-Exchange's build table.

Microsoft ships Exchange updates every few months; the table must follow, or servers show as
"newer than the build table". This adds the builds the table lacks, from:

- CSS-EXCHANGE: a copy of github.com/microsoft/CSS-Exchange's
  Shared/Get-ExchangeBuildVersionInformation.ps1 (HealthChecker's table: every 2013-SE CU
  and SU build, and the release date of each CU, but not of the SUs);
- --dates FILE (optional): a copy of github.com/microsoft/Get-ExchangeBuildNumber's
  ExchangeBuildNumbers.csv, Microsoft's list with a release date for every build (and builds
  CSS-Exchange does not list yet, which are added too).

Rows already in the table are never changed (they were checked by hand against Microsoft's
"Exchange Server build numbers and release dates" page); a source that disagrees with one is
reported. A build with no release date in either source is reported and left out: the table
holds only dates Microsoft published. The result is validated as the tool loads it before it
replaces the file. Then review the diff, and update the sources in the CSV's comment header.

    make exchange-builds CSS_EXCHANGE=../CSS-Exchange EXCHANGE_BUILD_DATES=ExchangeBuildNumbers.csv
    python tools/refresh_exchange_builds.py CSS_FILE [--dates FILE] [--table CSV] [--check]

Exit status: 0 done (or nothing to add), 1 with --check when rows would be added, 2 on bad
input.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from remediate.catalog.exchange_builds import (
    COLUMNS,
    EXCHANGE_2013,
    EXCHANGE_2016,
    EXCHANGE_2019,
    EXCHANGE_SE,
    ExchangeBuild,
    parse_table,
)
from remediate.errors import InputError

TABLE = Path(__file__).resolve().parent.parent / "remediate" / "catalog" / "exchange_builds.csv"
MAX_SOURCE_BYTES = 4_000_000

# CSS-Exchange's names of the product lines (its $exchangeBuildDictionary keys)
CSS_PRODUCTS = {
    "Exchange2013": EXCHANGE_2013,
    "Exchange2016": EXCHANGE_2016,
    "Exchange2019": EXCHANGE_2019,
    "ExchangeSE": EXCHANGE_SE,
}
_CSS_PRODUCT = re.compile(r'^\s*"(Exchange\w+)"\s*=\s*@\{')
_CSS_CU = re.compile(r'^\s*"(\w+)"\s*=\s*\(NewCUAndSUObject\s+"([\d.]+)"')
_CSS_SU = re.compile(r'^\s*"(\w+)"\s*=\s*"([\d.]+)"')
_CSS_MAJOR = re.compile(r'^\s*\$exchangeMajorVersion\s*=\s*"(\w+)"')
_CSS_CU_LEVEL = re.compile(r'^\s*\$cuLevel\s*=\s*"(\w+)"')
_CSS_CU_DATE = re.compile(r'^\s*\$cuReleaseDate\s*=\s*"(\d{2})/(\d{2})/(\d{4})"')
# Microsoft's CSV: "Exchange 2019 CU14 Nov24SU", "Exchange 2010 SP3 RU8v2", "Exchange SE RTM"
_MS_NAME = re.compile(r"Exchange (2007|2010|2013|2016|2019|SE) (.+)")
_MS_PRODUCTS = {
    "2007": "Exchange Server 2007",
    "2010": "Exchange Server 2010",
    "2013": EXCHANGE_2013,
    "2016": EXCHANGE_2016,
    "2019": EXCHANGE_2019,
    "SE": EXCHANGE_SE,
}


@dataclass(frozen=True)
class Candidate:
    build: str
    product: str
    name: str
    released: date | None
    source: str


def _normal(build: str) -> str:
    return ".".join(str(int(part)) for part in build.split("."))


def _read(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror or error}", file=str(path)) from None
    if len(data) > MAX_SOURCE_BYTES:
        raise InputError(f"larger than {MAX_SOURCE_BYTES} bytes", file=str(path))
    return data.decode("utf-8-sig", errors="replace")


def css_builds(path: Path) -> list[Candidate]:
    """The CU and SU builds of CSS-Exchange's dictionary, with the CU release dates of its
    version switch (SUs have none there)."""
    lines = _read(path).splitlines()
    cu_dates: dict[tuple[str, str], date] = {}
    major = level = ""
    for line in lines:
        if found := _CSS_MAJOR.match(line):
            major = found[1]
        elif found := _CSS_CU_LEVEL.match(line):
            level = found[1]
        elif (found := _CSS_CU_DATE.match(line)) and major and level:
            month, day, year = (int(found[i]) for i in (1, 2, 3))
            cu_dates.setdefault((major, level), date(year, month, day))
    candidates: list[Candidate] = []
    product = cu = ""
    for number, line in enumerate(lines, start=1):
        if (found := _CSS_PRODUCT.match(line)) and found[1] in CSS_PRODUCTS:
            product, cu = found[1], ""
        elif product and (found := _CSS_CU.match(line)):
            cu = found[1]
            candidates.append(
                Candidate(
                    _normal(found[2]),
                    CSS_PRODUCTS[product],
                    cu,
                    cu_dates.get((product, cu)),
                    f"{path}:{number}",
                )
            )
        elif product and cu and (found := _CSS_SU.match(line)):
            candidates.append(
                Candidate(
                    _normal(found[2]),
                    CSS_PRODUCTS[product],
                    f"{cu} {found[1]}",
                    None,
                    f"{path}:{number}",
                )
            )
    if not candidates:
        raise InputError(
            "no builds found",
            file=str(path),
            hint="give CSS-Exchange's Shared/Get-ExchangeBuildVersionInformation.ps1",
        )
    return candidates


def _ms_name(text: str) -> tuple[str, str] | None:
    found = _MS_NAME.fullmatch(re.sub(r"\s*\(\d{4}H\d\)", "", text.strip()))
    if not found:
        return None
    name = re.sub(r"^(SP\d) RTM$", r"\1", found[2].strip())
    return _MS_PRODUCTS[found[1]], name


def microsoft_builds(path: Path) -> list[Candidate]:
    """Rows of Microsoft's ExchangeBuildNumbers.csv (Product Name, Build Number, Date M/D/Y)."""
    reader = csv.DictReader(io.StringIO(_read(path)))
    candidates: list[Candidate] = []
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        rows.extend((reader.line_num, row) for row in reader)
    except csv.Error as error:
        raise InputError(f"not CSV: {error}", file=str(path), line=reader.line_num) from None
    for line, row in rows:
        where = f"{path}:{line}"
        named = _ms_name(row.get("Product Name") or "")
        build = (row.get("Build Number") or "").strip()
        day = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", (row.get("Date") or "").strip())
        if named is None or not re.fullmatch(r"\d+(\.\d+){3}", build) or day is None:
            print(f"{where}: skipped, not a build row: {row}", file=sys.stderr)
            continue
        released = date(int(day[3]), int(day[1]), int(day[2]))
        candidates.append(Candidate(_normal(build), named[0], named[1], released, where))
    if not candidates:
        raise InputError("no builds found", file=str(path), hint="give ExchangeBuildNumbers.csv")
    return candidates


@dataclass
class Refresh:
    rows: list[ExchangeBuild]
    added: list[ExchangeBuild]
    undated: list[Candidate]
    differing: list[str]


def merge(table: Iterable[ExchangeBuild], candidates: Iterable[Candidate]) -> Refresh:
    """The table's rows plus every candidate build it lacks; a build keeps the first
    candidate's name and takes the first release date any candidate gives."""
    rows = {row.build: row for row in table}
    names = {(row.product, row.name.casefold()): row.build for row in rows.values()}
    by_build: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_build.setdefault(candidate.build, []).append(candidate)
    added: list[ExchangeBuild] = []
    undated: list[Candidate] = []
    differing: list[str] = []
    for build, found in by_build.items():
        known = rows.get(build)
        if known is not None:
            for candidate in found:
                if (candidate.product, candidate.name) != (known.product, known.name):
                    differing.append(
                        f"{candidate.source}: {build} is {candidate.product} {candidate.name}, "
                        f"the table says {known.product} {known.name} (kept)"
                    )
            continue
        first = found[0]
        other = names.get((first.product, first.name.casefold()))
        if other is not None:
            differing.append(
                f"{first.source}: {first.product} {first.name} is {build}, "
                f"the table says {other} (kept)"
            )
            continue
        released = next((c.released for c in found if c.released), None)
        if released is None:
            undated.append(first)
            continue
        row = ExchangeBuild(build, first.product, first.name, released)
        rows[build] = row
        names[(row.product, row.name.casefold())] = build
        added.append(row)
    ordered = sorted(rows.values(), key=lambda row: row.version)
    return Refresh(ordered, added, undated, differing)


def render(header: str, rows: Iterable[ExchangeBuild]) -> str:
    out = io.StringIO()
    out.write(header)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow((row.build, row.product, row.name, row.released.isoformat()))
    return out.getvalue()


def _comment_header(text: str) -> str:
    """The comment lines before the column header, kept as they are."""
    lines = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("css_file", type=Path, help="Get-ExchangeBuildVersionInformation.ps1")
    parser.add_argument("--dates", type=Path, help="Microsoft's ExchangeBuildNumbers.csv")
    parser.add_argument("--table", type=Path, default=TABLE, help="the CSV to refresh")
    parser.add_argument(
        "--check", action="store_true", help="report only; 1 if rows would be added"
    )
    options = parser.parse_args(argv)
    try:
        text = _read(options.table)
        table = parse_table(text, str(options.table))
        candidates = css_builds(options.css_file)
        if options.dates:
            # Microsoft's dated rows first: their name and date win over CSS-Exchange's
            candidates = microsoft_builds(options.dates) + candidates
        result = merge(table.rows, candidates)
        new_text = render(_comment_header(text), result.rows)
        parse_table(new_text, f"{options.table} (refreshed)")
    except InputError as error:
        print(f"refresh_exchange_builds: {error}", file=sys.stderr)
        return 2
    for line in result.differing:
        print(f"differs: {line}")
    for candidate in result.undated:
        print(
            f"left out, no release date: {candidate.build} {candidate.product} {candidate.name} "
            f"({candidate.source})"
        )
    for row in result.added:
        print(f"added: {row.build},{row.product},{row.name},{row.released.isoformat()}")
    if not result.added:
        print(f"{options.table}: up to date ({len(result.rows)} builds)")
        return 0
    if options.check:
        print(f"{options.table}: {len(result.added)} build(s) to add")
        return 1
    temporary = options.table.with_name(options.table.name + ".new")
    temporary.write_text(new_text, encoding="utf-8")
    os.replace(temporary, options.table)
    print(f"{options.table}: {len(result.added)} build(s) added, {len(result.rows)} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
