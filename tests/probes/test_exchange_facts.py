"""The Exchange facts the collector reports, read into ExchangeFacts (issue 16).

The scripts report `exchange_root`, `exchange_build` (ExSetup.exe from 2007 on, store.exe
before), `exchange_sp`, `exchange_roles` and `exchange_setup_key`; the build table names the
product and update from 2007 on, service packs by first build name 5.5-2003 as before.
"""

from __future__ import annotations

import pytest

from remediate.probes.collect import parse_evidence, parse_roles
from remediate.probes.framing import format_output
from remediate.rules.evidence import ExchangeFacts

BASE = {"engine": "powershell", "os_version": "10.0.17763", "os_caption": "Windows Server 2019"}


def _exchange(**facts: str) -> ExchangeFacts | None:
    records = [("fact", {"name": k, "value": v}) for k, v in {**BASE, **facts}.items()]
    return parse_evidence("host", format_output("collect", records)).exchange


@pytest.mark.parametrize(
    ("build", "product", "version", "update", "released", "sp", "display"),
    [
        (
            "15.2.1544.13",
            "Exchange Server 2019",
            "15.2",
            "CU14 Nov24SU",
            "2024-11-12",
            None,
            "Exchange Server 2019 CU14 Nov24SU",
        ),
        (
            "15.02.1544.014",  # ExSetup.exe's FileVersion has leading zeros
            "Exchange Server 2019",
            "15.2",
            "CU14 Nov24SUv2",
            "2024-11-27",
            None,
            "Exchange Server 2019 CU14 Nov24SUv2",
        ),
        (
            "15.2.2562.17",
            "Exchange Server SE",
            "15.2",
            "RTM",
            "2025-07-01",
            None,
            "Exchange Server SE RTM",
        ),
        (
            "15.1.2507.6",
            "Exchange Server 2016",
            "15.1",
            "CU23",
            "2022-04-20",
            None,
            "Exchange Server 2016 CU23",
        ),
        (
            "15.0.1497.2",
            "Exchange Server 2013",
            "15.0",
            "CU23",
            "2019-06-18",
            None,
            "Exchange Server 2013 CU23",
        ),
        (
            "14.3.513.0",
            "Exchange Server 2010",
            "14.3",
            "SP3 RU32",
            "2021-03-02",
            3,
            "Exchange Server 2010 SP3 RU32",
        ),
        (
            "14.0.639.21",
            "Exchange Server 2010",
            "14.0",
            "RTM",
            "2009-11-09",
            0,
            "Exchange Server 2010 RTM",
        ),
        (
            "8.3.517.0",
            "Exchange Server 2007",
            "8.3",
            "SP3 RU23",
            "2017-03-21",
            3,
            "Exchange Server 2007 SP3 RU23",
        ),
        (
            "8.1.240.6",
            "Exchange Server 2007",
            "8.1",
            "SP1",
            "2007-11-29",
            1,
            "Exchange Server 2007 SP1",
        ),
    ],
)
def test_2007_to_se_are_named_by_the_build_table(
    build: str,
    product: str,
    version: str,
    update: str,
    released: str,
    sp: int | None,
    display: str,
) -> None:
    exchange = _exchange(
        exchange_root="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\", exchange_build=build
    )
    assert exchange is not None
    assert (exchange.product, exchange.version, exchange.update) == (product, version, update)
    assert (exchange.released, exchange.service_pack) == (released, sp)
    assert not exchange.newer_than_table
    assert exchange.display == display
    assert exchange.build == ".".join(str(int(p)) for p in build.split("."))


def test_a_build_newer_than_the_table_is_reported_as_such() -> None:
    exchange = _exchange(exchange_root="D:\\Exchange\\", exchange_build="15.2.9999.1")
    assert exchange is not None and exchange.newer_than_table
    assert exchange.product == "Exchange Server SE" and exchange.update == ""
    assert exchange.display == "Exchange Server SE build 15.2.9999.1, newer than the build table"
    assert exchange.display_with_build == exchange.display  # the build is said once

    later_su = _exchange(exchange_root="D:\\Exchange\\", exchange_build="15.2.1748.999")
    assert later_su is not None and later_su.newer_than_table
    assert later_su.display == (
        "Exchange Server 2019 CU15 build 15.2.1748.999, newer than the build table"
    )
    assert later_su.released == "2025-02-10"  # CU15's, the update it names


def test_roles_are_parsed_in_their_usual_spelling() -> None:
    exchange = _exchange(
        exchange_root="C:\\Program Files\\Microsoft\\Exchange Server\\V14\\",
        exchange_build="14.3.513.0",
        exchange_roles="Mailbox, clientaccess,HubTransport,,Mailbox,UnifiedMessaging,Management",
        exchange_setup_key="HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup",
    )
    assert exchange is not None
    assert exchange.roles == (
        "Mailbox",
        "ClientAccess",
        "HubTransport",
        "UnifiedMessaging",
        "Management",
    )


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("", ()),
        ("EdgeTransport", ("EdgeTransport",)),
        (" frontendtransport , MAILBOX ", ("FrontendTransport", "Mailbox")),
        ("Mailbox,FutureRole", ("Mailbox", "FutureRole")),  # unknown roles are kept
        (",,,", ()),
    ],
)
def test_parse_roles(text: str, roles: tuple[str, ...]) -> None:
    assert parse_roles(text) == roles


@pytest.mark.parametrize(
    ("build", "sp_fact", "product", "sp", "update", "released"),
    [
        ("6.5.7638.1", "", "Microsoft Exchange Server 2003", 2, "SP2", "2005-10-19"),
        ("6.5.7638.1", "2", "Microsoft Exchange Server 2003", 2, "SP2", "2005-10-19"),
        ("6.0.6249.0", "", "Microsoft Exchange 2000 Server", 3, "SP3", "2002-07-18"),
        ("5.5.2448.0", "", "Microsoft Exchange Server 5.5", 2, "SP2", "1998-12-23"),
        ("5.5.1960.0", "", "Microsoft Exchange Server 5.5", 0, "RTM", "1998-02-03"),
        ("6.5.7654.4", "", "Microsoft Exchange Server 2003", 2, "SP2", "2005-10-19"),
    ],
)
def test_5_5_to_2003_keep_their_service_packs(
    build: str, sp_fact: str, product: str, sp: int, update: str, released: str
) -> None:
    exchange = _exchange(exchange_root="C:\\exchsrvr", exchange_build=build, exchange_sp=sp_fact)
    assert exchange is not None
    assert (exchange.product, exchange.build, exchange.service_pack) == (product, build, sp)
    assert (exchange.update, exchange.released) == (update, released)
    assert exchange.display == f"{product} {update}"


def test_no_exchange_and_an_unreadable_build() -> None:
    assert _exchange() is None
    assert _exchange(exchange_roles="Mailbox") is None  # roles alone are not an installation
    unread = _exchange(exchange_root="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\")
    assert unread is not None
    assert (unread.build, unread.version, unread.update, unread.newer_than_table) == (
        "",
        "",
        "",
        False,
    )
    assert unread.display == "Microsoft Exchange Server"
    odd = _exchange(exchange_root="C:\\x", exchange_build="15.2.garbage")
    assert odd is not None and odd.update == "" and odd.build == "15.2.garbage"
    unknown_line = _exchange(exchange_root="C:\\x", exchange_build="16.0.100.1")
    assert unknown_line is not None
    assert (unknown_line.product, unknown_line.update) == ("Microsoft Exchange Server 16.0", "")
    assert unknown_line.display_with_build == "Microsoft Exchange Server 16.0 (build 16.0.100.1)"


def test_display_of_evidence_from_before_the_build_table() -> None:
    """Stored runs have ExchangeFacts without update: the service pack still shows."""
    old = ExchangeFacts("Microsoft Exchange Server 2003", "6.5", "6.5.7638.1", 2, "C:\\exchsrvr")
    assert old.display == "Microsoft Exchange Server 2003 SP2"
    assert old.display_with_build == "Microsoft Exchange Server 2003 SP2 (build 6.5.7638.1)"
    assert (old.roles, old.update, old.released, old.newer_than_table) == ((), "", "", False)
