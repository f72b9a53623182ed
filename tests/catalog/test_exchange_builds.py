"""The Exchange build table: the packaged data, lookups, names for playbooks, validation."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from remediate.catalog import exchange_builds
from remediate.catalog.exchange_builds import (
    EXCHANGE_2007,
    EXCHANGE_2010,
    EXCHANGE_2016,
    EXCHANGE_2019,
    EXCHANGE_SE,
    PRODUCTS,
    build_named,
    default_table,
    load_table,
    lookup,
    parse_table,
    product_of,
)
from remediate.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
HEADER = "build,product,name,released\n"


# -- the packaged table ----------------------------------------------------------------------


def test_the_packaged_table_loads_in_build_order_with_every_product() -> None:
    rows = default_table().rows
    assert len(rows) > 300
    assert [row.version for row in rows] == sorted(row.version for row in rows)
    assert {row.product for row in rows} == set(PRODUCTS)
    assert default_table() is default_table()  # read once


@pytest.mark.parametrize(
    ("build", "product", "name", "released"),
    [
        ("8.0.685.25", EXCHANGE_2007, "RTM", date(2007, 3, 8)),
        ("8.3.83.6", EXCHANGE_2007, "SP3", date(2010, 6, 7)),
        ("8.3.517.0", EXCHANGE_2007, "SP3 RU23", date(2017, 3, 21)),
        ("14.0.639.21", EXCHANGE_2010, "RTM", date(2009, 11, 9)),
        ("14.2.328.5", EXCHANGE_2010, "SP2 RU5", date(2012, 11, 13)),
        ("14.3.224.2", EXCHANGE_2010, "SP3 RU8v2", date(2014, 12, 12)),
        ("14.3.513.0", EXCHANGE_2010, "SP3 RU32", date(2021, 3, 2)),
        ("15.0.847.32", "Exchange Server 2013", "SP1", date(2014, 2, 25)),
        ("15.0.1497.48", "Exchange Server 2013", "CU23 Mar23SU", date(2023, 3, 14)),
        ("15.1.2507.6", EXCHANGE_2016, "CU23", date(2022, 4, 20)),
        ("15.2.1544.4", EXCHANGE_2019, "CU14", date(2024, 2, 13)),
        ("15.2.1544.13", EXCHANGE_2019, "CU14 Nov24SU", date(2024, 11, 12)),
        ("15.2.1544.14", EXCHANGE_2019, "CU14 Nov24SUv2", date(2024, 11, 27)),
        ("15.2.1748.10", EXCHANGE_2019, "CU15", date(2025, 2, 10)),
        ("15.2.2562.17", EXCHANGE_SE, "RTM", date(2025, 7, 1)),
        ("6.5.7638", "Exchange Server 2003", "SP2", date(2005, 10, 19)),
    ],
)
def test_known_builds_are_exact(build: str, product: str, name: str, released: date) -> None:
    match = lookup(build)
    assert (match.product, match.update, match.released) == (product, name, released)
    assert match.exact and not match.newer_than_table
    assert match.row is not None and match.row.build == build


def test_the_long_format_with_leading_zeros_is_the_same_build() -> None:
    match = lookup("15.02.1544.014")
    assert match.build == "15.2.1544.14" and match.exact and match.update == "CU14 Nov24SUv2"


# -- between, newer, unknown -----------------------------------------------------------------


def test_a_build_between_rows_takes_the_closest_lower_row() -> None:
    match = lookup("15.2.1544.12")  # after Apr24HU (.11), before Nov24SU (.13)
    assert not match.exact and not match.newer_than_table
    assert match.row is not None and match.row.build == "15.2.1544.11"
    assert (match.update, match.released) == ("CU14 Apr24HU", date(2024, 4, 23))


def test_a_build_past_its_cu_is_newer_than_the_table_with_the_cu_named() -> None:
    last_cu14 = max(
        (row for row in default_table().rows if row.build.startswith("15.2.1544.")),
        key=lambda row: row.version,
    )
    later = f"15.2.1544.{last_cu14.version[3] + 1}"
    match = lookup(later)
    assert match.newer_than_table and not match.exact
    assert match.row == last_cu14  # still the closest lower row
    assert (match.product, match.update, match.released) == (
        EXCHANGE_2019,
        "CU14",
        date(2024, 2, 13),
    )


def test_a_build_past_its_line_is_newer_without_a_cu_when_its_cu_is_unknown() -> None:
    match = lookup("15.2.9999.1")
    assert match.product == EXCHANGE_SE
    assert match.newer_than_table and match.update == "" and match.released is None
    assert match.row == max(
        (r for r in default_table().rows if r.product == EXCHANGE_SE), key=lambda r: r.version
    )


def test_an_unknown_cu_inside_the_line_is_neither_named_nor_newer() -> None:
    match = lookup("15.2.1600.1")  # between CU14 and CU15: no such CU
    assert match.product == EXCHANGE_2019
    assert not match.newer_than_table and not match.exact and match.update == ""


def test_2007_and_2010_past_their_last_rollup_keep_the_service_pack() -> None:
    assert (lookup("14.3.600.0").update, lookup("14.3.600.0").newer_than_table) == ("SP3", True)
    assert (lookup("8.3.600.1").update, lookup("8.3.600.1").newer_than_table) == ("SP3", True)
    between = lookup("8.1.300.0")  # SP1 RU3 (8.1.291.2) < it < SP1 RU4 (8.1.311.3)
    assert (between.update, between.newer_than_table) == ("SP1 RU3", False)
    assert lookup("8.0.700.0").update == "RTM"  # below RU1


def test_store_exe_revisions_of_old_service_packs_are_that_service_pack() -> None:
    match = lookup("6.5.7638.1")
    assert match.exact and (match.product, match.update) == ("Exchange Server 2003", "SP2")
    assert lookup("5.5.2448.0").update == "SP2"
    post_sp2 = lookup("6.5.7654.4")  # a post-SP2 hotfix the table does not list
    assert post_sp2.newer_than_table and post_sp2.update == "SP2"


@pytest.mark.parametrize(
    "build", ["16.0.100.1", "4.0.996", "7.0.1.1", "", "abc", "15", "1.2.3.4.5"]
)
def test_unknown_lines_and_non_builds_give_no_row(build: str) -> None:
    match = lookup(build)
    assert match.product == "" and match.row is None
    assert not match.exact and not match.newer_than_table and match.update == ""


def test_below_the_first_row_of_a_line_there_is_no_row() -> None:
    match = lookup("15.1.100.1")
    assert match.product == EXCHANGE_2016 and match.row is None and match.update == ""


# -- SE against 2019 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "product"),
    [
        ("15.2.2562.17", EXCHANGE_SE),
        ("15.2.2562.1", EXCHANGE_SE),  # the build number decides, as HealthChecker does
        ("15.2.3000.5", EXCHANGE_SE),
        ("15.2.1748.49", EXCHANGE_2019),
        ("15.2.2561.99", EXCHANGE_2019),
        ("15.2", EXCHANGE_2019),  # without a build, 15.2 is 2019
        ("15.1", EXCHANGE_2016),
        ("15.0.1497.2", "Exchange Server 2013"),
        ("14.3", EXCHANGE_2010),
        ("8.1", EXCHANGE_2007),
        ("6.5", "Exchange Server 2003"),
        ("6.0", "Exchange 2000 Server"),
        ("5.5", "Exchange Server 5.5"),
        ("15.9", ""),
        ("not a version", ""),
    ],
)
def test_product_of(version: str, product: str) -> None:
    assert product_of(version) == product


def test_every_2019_row_is_below_se_and_every_se_row_from_its_rtm() -> None:
    rows = default_table().rows
    se_rtm = next(r for r in rows if r.product == EXCHANGE_SE)
    assert (se_rtm.build, se_rtm.name) == ("15.2.2562.17", "RTM")
    assert all(r.version < se_rtm.version for r in rows if r.product == EXCHANGE_2019)
    assert all(product_of(r.build) == r.product for r in rows)


# -- names for playbooks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "name", "build"),
    [
        (EXCHANGE_2019, "CU14 Nov24SU", "15.2.1544.13"),  # the minimum: before Nov24SUv2
        (EXCHANGE_2019, "CU14 Nov24SUv2", "15.2.1544.14"),
        ("exchange server 2019", " cu14  nov24su ", "15.2.1544.13"),
        (EXCHANGE_SE, "RTM", "15.2.2562.17"),
        (EXCHANGE_2016, "CU23 Aug25SU", "15.1.2507.58"),
        (EXCHANGE_2010, "SP3 RU8", "14.3.224.1"),  # only v1 and v2 exist: the first is v1
        (EXCHANGE_2010, "SP1 RU3", "14.1.289.3"),
        (EXCHANGE_2007, "SP3 RU23", "8.3.517.0"),
        (EXCHANGE_2007, "SP1", "8.1.240.6"),
        ("Exchange Server 2003", "SP2", "6.5.7638"),
        (EXCHANGE_2019, "CU99", None),
        (EXCHANGE_2019, "SP3 RU23", None),
        ("Exchange Server 2099", "RTM", None),
        (EXCHANGE_2019, "", None),
    ],
)
def test_build_named(product: str, name: str, build: str | None) -> None:
    assert build_named(product, name) == build


def test_every_name_finds_its_own_row() -> None:
    table = default_table()
    for row in table.rows:
        found = table.named(row.product, row.name)
        assert found == row, row


# -- validation ------------------------------------------------------------------------------


def _table(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "builds.csv"
    path.write_text("# a comment\n\n" + HEADER + body, encoding="utf-8")
    return path


GOOD = (
    "15.2.1544.4,Exchange Server 2019,CU14,2024-02-13\n"
    "15.2.1544.13,Exchange Server 2019,CU14 Nov24SU,2024-11-12\n"
)


def test_a_small_valid_table_loads(tmp_path: Path) -> None:
    table = load_table(_table(tmp_path, GOOD))
    assert [row.name for row in table.rows] == ["CU14", "CU14 Nov24SU"]
    assert table.lookup("15.2.1544.20").newer_than_table
    # without SE rows, nothing is SE
    assert table.product_of("15.2.2562.17") == EXCHANGE_2019


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (GOOD + "15.2.1544.4,Exchange Server 2019,CU14 again,2024-02-13\n", 6, "duplicate build"),
        (GOOD + "15.02.1544.004,Exchange Server 2019,CU14 x,2024-02-13\n", 6, "duplicate build"),
        (GOOD + "15.2.1544.9,Exchange Server 2019,CU14 Mar24SU,2024-03-12\n", 6, "build order"),
        (GOOD + "15.2.1544.20,Exchange Server 2019,CU14 X,2024-02-30\n", 6, "not a YYYY-MM-DD"),
        (GOOD + "15.2.1544.20,Exchange Server 2019,CU14 X,12/11/2024\n", 6, "not a YYYY-MM-DD"),
        (GOOD + "15.2.1544.20,Exchange Server 2019,CU14 X\n", 6, "expected 4 columns"),
        (GOOD + "15.2.x.20,Exchange Server 2019,CU14 X,2024-12-11\n", 6, "not a build number"),
        (GOOD + "15.2.1544,Exchange Server 2019,CU14 X,2024-12-11\n", 6, "four numbers"),
        (GOOD + "15.2.1544.20,Exchange 2019,CU14 X,2024-12-11\n", 6, "unknown product"),
        (GOOD + "15.2.1544.20,Exchange Server 2016,CU14 X,2024-12-11\n", 6, "is not Exchange"),
        (GOOD + "15.2.1544.20,Exchange Server 2019,CU14;X,2024-12-11\n", 6, "not an update name"),
        (
            GOOD + "15.2.1544.20,Exchange Server 2019,cu14 nov24su,2024-12-11\n",
            6,
            "already on line 5",
        ),
        (
            "15.2.2562.17,Exchange Server SE,RTM,2025-07-01\n"
            "15.2.2562.20,Exchange Server 2019,CU15 X,2025-08-12\n",
            5,
            "after the first SE build",
        ),
        (
            "15.2.2562.10,Exchange Server 2019,CU15 X,2025-06-01\n"
            "15.2.2562.17,Exchange Server SE,RTM,2025-07-01\n",
            4,
            "in Exchange Server SE's range",
        ),
    ],
)
def test_bad_rows_are_errors_naming_the_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = _table(tmp_path, body)
    with pytest.raises(InputError, match=message) as raised:
        load_table(path)
    assert raised.value.file == str(path) and raised.value.line == line
    assert f"{path}:{line}: " in str(raised.value)


def test_a_missing_header_or_an_empty_table_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="header") as raised:
        parse_table("# only\n15.2.1544.4,Exchange Server 2019,CU14,2024-02-13\n", "t.csv")
    assert raised.value.line == 2
    with pytest.raises(InputError, match="no builds"):
        parse_table("# nothing\n" + HEADER, "t.csv")
    with pytest.raises(InputError, match="cannot read"):
        load_table(tmp_path / "missing.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        load_table(tmp_path / "bin.csv")


def test_a_field_csv_cannot_read_is_an_error_not_a_traceback() -> None:
    with pytest.raises(InputError, match="not a CSV row") as raised:
        parse_table(HEADER + '"' + "x" * 200_000 + "\n", "t.csv")
    assert raised.value.line == 2


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(HEADER + GOOD * 40_000, encoding="utf-8")
    with pytest.raises(InputError, match="not a build table"):
        load_table(path)


# -- the refresh tool --------------------------------------------------------------------------


def _refresh_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "refresh_exchange_builds", ROOT / "tools" / "refresh_exchange_builds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


CSS_SAMPLE = """\
        if ($exchangeVersion.Major -eq 15 -and $exchangeVersion.Minor -eq 2) {
            $exchangeMajorVersion = "Exchange2019"
            switch ($exchangeVersion) {
                { $_ -ge (GetBuildVersion $ex19 "CU15") } {
                    $cuLevel = "CU15"
                    $cuReleaseDate = "02/10/2025"
                }
                { $_ -lt (GetBuildVersion $ex19 "CU15") } {
                    $cuLevel = "CU14"
                    $cuReleaseDate = "02/13/2024"
                }
            }
        }
    @{
        "Exchange2019" = @{
            "CU14" = (NewCUAndSUObject "15.2.1544.4" @{
                    "Nov24SU"   = "15.2.1544.13"
                    "Dec99SU"   = "15.2.1544.98"
                })
            "CU15" = (NewCUAndSUObject "15.2.1748.10" @{
                    "Feb26SU" = "15.2.1748.43"
                })
        }
    }
"""
MS_SAMPLE = """\
Product Name,Build Number,Date,KB,Blog
Exchange 2019 CU14 Nov24SU,15.2.1544.13,11/12/2024,,
Exchange 2019 CU15 Feb26SU,15.2.1748.43,2/10/2026,,
"""


def test_refresh_adds_dated_builds_keeps_rows_and_reports_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = _refresh_tool()
    table = tmp_path / "builds.csv"
    table.write_text("# sources: here\n" + HEADER + GOOD, encoding="utf-8")
    css = tmp_path / "Get-ExchangeBuildVersionInformation.ps1"
    css.write_text(CSS_SAMPLE, encoding="utf-8")
    dates = tmp_path / "ExchangeBuildNumbers.csv"
    dates.write_text(MS_SAMPLE, encoding="utf-8")

    assert tool.main([str(css), "--dates", str(dates), "--table", str(table), "--check"]) == 1
    assert "CU15" not in table.read_text()  # --check changes nothing
    assert tool.main([str(css), "--dates", str(dates), "--table", str(table)]) == 0
    out = capsys.readouterr().out
    assert "left out, no release date: 15.2.1544.98" in out
    text = table.read_text()
    assert text.startswith("# sources: here\n" + HEADER)  # the comment header is kept
    rows = load_table(table).rows
    assert [(r.build, r.name, r.released.isoformat()) for r in rows] == [
        ("15.2.1544.4", "CU14", "2024-02-13"),
        ("15.2.1544.13", "CU14 Nov24SU", "2024-11-12"),
        ("15.2.1748.10", "CU15", "2025-02-10"),  # CU date from CSS-Exchange's switch
        ("15.2.1748.43", "CU15 Feb26SU", "2026-02-10"),  # SU date from Microsoft's CSV
    ]
    assert tool.main([str(css), "--dates", str(dates), "--table", str(table), "--check"]) == 0


def test_refresh_reports_disagreements_and_refuses_foreign_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tool = _refresh_tool()
    table = tmp_path / "builds.csv"
    table.write_text(HEADER + GOOD, encoding="utf-8")
    css = tmp_path / "css.ps1"
    css.write_text(CSS_SAMPLE.replace('"15.2.1544.13"', '"15.2.1544.12"'), encoding="utf-8")
    assert tool.main([str(css), "--table", str(table)]) == 0
    out = capsys.readouterr().out
    assert "CU14 Nov24SU is 15.2.1544.12, the table says 15.2.1544.13 (kept)" in out
    assert "15.2.1544.12" not in table.read_text()

    other = tmp_path / "other.ps1"
    other.write_text("Write-Host hello\n", encoding="utf-8")
    assert tool.main([str(other), "--table", str(table)]) == 2
    assert "no builds found" in capsys.readouterr().err


def test_the_packaged_table_is_what_the_refresh_writes() -> None:
    """Rendering the packaged rows gives the packaged file: refreshing never reformats it."""
    tool = _refresh_tool()
    path = ROOT / "remediate" / "catalog" / "exchange_builds.csv"
    text = path.read_text(encoding="utf-8")
    rows = parse_table(text, str(path)).rows
    assert tool.render(tool._comment_header(text), rows) == text
    assert path.name == exchange_builds.DATA_FILE
