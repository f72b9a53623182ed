"""Playbooks that name Exchange product lines, CU/SU updates, roles and V15 folders (issue 16):
parsing, resolution through the build table, and the errors a wrong one gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from remediate.rules.playbook import (
    FixFile,
    PlaybookError,
    ProductRange,
    parse_playbook,
    product_line,
    resolve_update,
)

ROOT = Path(__file__).resolve().parents[2]

PLAYBOOK = """\
id: CVE-2025-59249
title: an update compliance check
applies_to:
  products:
    - {product: Exchange Server 2019, min_update: [CU14, CU15]}
    - {product: exchange server se}
  roles: [Mailbox]
fix:
  fixed_in:
    Exchange Server 2019: [CU14 Oct25SU, CU15 Oct25SU]
    Exchange Server SE: RTM Oct25SU
  files:
    - {file: ExSetup.exe, version: 15.2.1544.36, folder: 'V15\\Bin'}
"""


def load(text: str = PLAYBOOK, **swap: str):
    for old, new in swap.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_playbook(text, "pb.yml")


def refused(text: str = PLAYBOOK, **swap: str) -> PlaybookError:
    with pytest.raises(PlaybookError) as caught:
        load(text, **swap)
    return caught.value


def swap(old: str, new: str) -> dict[str, str]:
    return {old: new}


def test_product_lines_and_updates_resolve_on_load() -> None:
    playbook = load()
    ex2019, se = playbook.applies_to.products
    assert (ex2019.line, ex2019.version) == ("Exchange Server 2019", "15.2")
    assert (se.line, se.version) == ("Exchange Server SE", "15.2")  # spelled as the table does
    assert [(u.name, u.build) for u in ex2019.min_update] == [
        ("CU14", "15.2.1544.4"),
        ("CU15", "15.2.1748.10"),
    ]
    fixed_in = playbook.fix.fixed_in
    assert fixed_in is not None and fixed_in.version is None
    assert [u.build for u in fixed_in.updates_for("Exchange Server 2019")] == [
        "15.2.1544.36",
        "15.2.1748.39",
    ]
    assert [u.label for u in fixed_in.updates_for("Exchange Server SE")] == [
        "Exchange Server SE RTM Oct25SU (15.2.2562.29)"
    ]
    assert fixed_in.updates_for("Exchange Server 2016") == ()
    assert fixed_in.describe() == (
        "Exchange Server 2019 CU14 Oct25SU or CU15 Oct25SU; Exchange Server SE RTM Oct25SU"
    )
    assert playbook.applies_to.roles == ["Mailbox"]
    assert ex2019.describe() == "Exchange Server 2019 from CU14 or CU15"


def test_the_service_pack_form_stays_as_it_was() -> None:
    playbook = load(
        **{
            "    Exchange Server 2019: [CU14 Oct25SU, CU15 Oct25SU]\n"
            "    Exchange Server SE: RTM Oct25SU\n": '    version: "5.5"\n    service_pack: 3\n',
        }
    )
    fixed_in = playbook.fix.fixed_in
    assert fixed_in is not None
    assert (fixed_in.version, fixed_in.service_pack, fixed_in.lines) == ("5.5", 3, {})
    assert fixed_in.describe() == "Exchange 5.5 SP3"


def test_a_build_may_stand_for_a_name() -> None:
    named = resolve_update("Exchange Server 2019", "15.2.1544.13")
    assert (named.name, named.build) == ("CU14 Nov24SU", "15.2.1544.13")
    unnamed = resolve_update("Exchange Server 2019", "15.02.1544.099")  # newer than the table
    assert (unnamed.name, unnamed.build) == ("", "15.2.1544.99")
    assert unnamed.label == "Exchange Server 2019 build 15.2.1544.99"
    assert resolve_update("Exchange Server 2019", "cu14  nov24su").name == "CU14 Nov24SU"


def test_an_unknown_update_name_names_the_file_the_line_and_the_known_names() -> None:
    error = refused(**swap("CU15 Oct25SU]", "CU15 Oct99SU]"))
    assert error.line == 10
    text = str(error)
    assert text.startswith("pb.yml:10: fix.fixed_in.Exchange Server 2019:")
    assert "no update named 'CU15 Oct99SU'" in text
    assert "CU15 has" in text and "CU15 Oct25SU" in text  # what the table knows of CU15


def test_an_unknown_name_in_applies_to_is_refused_at_its_line() -> None:
    error = refused(**swap("min_update: [CU14, CU15]", "min_update: [CU14, CU16]"))
    assert error.line == 5 and "no update named 'CU16'" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        # SE and 2019 share 15.2: a build of the one is not the other's
        ("RTM Oct25SU", "15.2.1544.36", 11, "is an Exchange Server 2019 build, not Exchange"),
        ("RTM Oct25SU", "CU14 Oct25SU", 11, "Exchange Server SE has no update named"),
        ("RTM Oct25SU", "[RTM Oct25SU, 15.2.2562.29]", 11, "is named twice"),
        ("RTM Oct25SU", "{}", 11, "give a CU/SU name or build"),
        ("Exchange Server SE:", "Exchange 2019:", 11, "unknown key 'Exchange 2019'"),
        ("{product: exchange server se}", "{product: Exchange 2019}", 6, "use exchange or one"),
        ("{product: exchange server se}", "{product: Exchange Server 2010}", 6, "give version"),
        (
            "{product: exchange server se}",
            "{product: Exchange Server 2016, version: '15.2'}",
            6,
            "Exchange Server 2016 is version 15.1, not 15.2",
        ),
        (
            "{product: exchange server se}",
            "{version: '15.2', min_update: CU14}",
            6,
            "min_update names updates of a product line",
        ),
        ("{product: exchange server se}", "{version: '15'}", 6, "must be major.minor"),
        ("roles: [Mailbox]", "roles: [Mailboxes]", 7, "roles.0"),
        ("'V15\\Bin'", "'exchange:V15\\Bin'", 13, "is the V15 folder itself"),
        ("'V15\\Bin'", "'V15'", 13, "use bin, mtadata"),
    ],
)
def test_wrong_product_lines_and_updates(old: str, new: str, line: int, message: str) -> None:
    error = refused(**{old: new})
    assert message in str(error) and error.line == line, str(error)


def test_fixed_in_needs_a_whole_service_pack_or_a_line() -> None:
    only_version = refused(
        **{
            "    Exchange Server 2019: [CU14 Oct25SU, CU15 Oct25SU]\n"
            "    Exchange Server SE: RTM Oct25SU\n": '    version: "5.5"\n'
        }
    )
    assert "version and service_pack go together" in str(only_version)
    empty = refused(
        **{
            "  fixed_in:\n    Exchange Server 2019: [CU14 Oct25SU, CU15 Oct25SU]\n"
            "    Exchange Server SE: RTM Oct25SU\n": "  fixed_in: {}\n"
        }
    )
    assert "fixed_in needs version and service_pack, or a product line" in str(empty)


def test_a_v15_file_row_needs_exchange_15_products() -> None:
    error = refused(**swap("{product: exchange server se}", "{version: '14.3'}"))
    assert error.line == 13  # the file row, not the top of the playbook
    assert str(error).startswith("pb.yml:13: fix.files.0.folder: fix file ExSetup.exe in V15")
    assert "applies to 14.3 too" in str(error)


@pytest.mark.parametrize(
    ("folder", "location"),
    [
        ("V15\\Bin", ("exchange", "Bin\\ExSetup.exe")),
        ("v15\\FIP-FS\\Data\\", ("exchange", "FIP-FS\\Data\\ExSetup.exe")),
        ("V14\\TransportRoles\\agents", ("exchange", "TransportRoles\\agents\\ExSetup.exe")),
        ("%ExchangeInstallPath%Bin", ("exchange", "Bin\\ExSetup.exe")),
        ("exchange:Bin", ("exchange", "Bin\\ExSetup.exe")),
        ("bin", ("exchange", "bin\\ExSetup.exe")),
        ("system32", ("system32", "ExSetup.exe")),
        (
            "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin",
            ("absolute", "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\ExSetup.exe"),
        ),
    ],
)
def test_install_root_folders_resolve_under_the_detected_root(
    folder: str, location: tuple[str, str]
) -> None:
    row = FixFile(file="ExSetup.exe", version="15.2.1544.36", folder=folder)
    assert row.location() == location
    if location[0] == "exchange" and location[1].lower().startswith("bin"):
        assert row.key == "exchange:bin\\exsetup.exe"  # one file, however it is written


@pytest.mark.parametrize(
    ("identifier", "valid"),
    [
        ("KB5013118", True),
        ("Q232602", True),
        ("CVE-2025-59249", True),
        ("FIPFS-2022", True),
        ("cve-2025-59249", False),
        ("FIPFS", False),
        ("FIPFS-22", False),
        ("A-2022", False),
    ],
)
def test_playbook_ids(identifier: str, valid: bool) -> None:
    text = PLAYBOOK.replace("id: CVE-2025-59249", f"id: {identifier}")
    if valid:
        assert parse_playbook(text, "pb.yml").id == identifier
    else:
        with pytest.raises(PlaybookError, match="id"):
            parse_playbook(text, "pb.yml")


def test_product_line_names() -> None:
    assert product_line("Microsoft Exchange Server 2003") == "Exchange Server 2003"
    assert product_line("exchange  server se") == "Exchange Server SE"
    assert product_line("Exchange 2019") is None
    assert ProductRange(product="Exchange Server 2013").version == "15.0"  # type: ignore[call-arg]


def test_the_readme_example_is_a_valid_playbook_part() -> None:
    """The README's CU/SU example (the second YAML block of "### Playbooks") loads."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Playbooks") : readme.index("### Waivers")]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 2
    text = "id: KB1234567\ntitle: README example\n" + blocks[1]
    playbook = parse_playbook(text, "README.md")
    fixed_in = playbook.fix.fixed_in
    assert fixed_in is not None and fixed_in.updates_for("Exchange Server SE")
    assert playbook.fix.files[0].key == "exchange:bin\\exsetup.exe"
