"""Ansible host patterns (`--limit`): which hosts a run is about, in Ansible's order; a part
that matches nothing warns (as ansible-core) and only an empty selection is an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.errors import InputError
from remediate.inventory import Inventory, hosts_for, load_inventory, parse_inventory, select_hosts
from remediate.inventory.patterns import NO_MATCH, Selection, select, selection_for, split_pattern
from tests.inventory.samples import FLEET, ORDER, names, write


@pytest.fixture
def fleet_path(tmp_path: Path) -> Path:
    return write(tmp_path, FLEET)


@pytest.fixture
def fleet(fleet_path: Path) -> Inventory:
    return load_inventory(fleet_path)


# --- --limit patterns -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("all", ORDER),
        ("*", ORDER),
        ("exch02.corp.local", ["exch02.corp.local"]),
        ("mailbox", ORDER[2:7]),
        ("exchange", ORDER[2:]),
        ("ungrouped", ["jump.corp.local"]),
        ("exch0*", ORDER[2:5]),
        ("exch1?.corp.local", ["exch10.corp.local", "exch11.corp.local"]),
        ("~exch1[01]", ["exch10.corp.local", "exch11.corp.local"]),
        ("~.*\\.dmz\\.", ["edge-a.dmz.local", "edge-b.dmz.local"]),
        ("edge:legacy", [*ORDER[7:], "ex2003.corp.local"]),
        ("legacy,edge", ["ex2003.corp.local", *ORDER[7:]]),
        ("legacy, exch01.corp.local , edge-a.dmz.local", [ORDER[1], ORDER[2], ORDER[7]]),
        ("exchange:&edge", ORDER[7:]),
        ("exchange:!edge", ORDER[2:7]),
        ("!edge,&exchange,all", ORDER[2:7]),
        ("&legacy", ["ex2003.corp.local"]),
        ("!mailbox", [ORDER[0], ORDER[1], *ORDER[7:]]),
        ("all:!exchange:!jump*", ["ex2003.corp.local"]),
        ("mailbox[0]", ["exch01.corp.local"]),
        ("mailbox[-1]", ["exch11.corp.local"]),
        ("mailbox[1:2]", ["exch02.corp.local", "exch03.corp.local"]),
        ("mailbox[3:]", ["exch10.corp.local", "exch11.corp.local"]),
        ("2001:db8::25", ["2001:db8::25"]),
        ("exch01.corp.local,exch01.corp.local,mailbox[0]", ["exch01.corp.local"]),
    ],
)
def test_limit_patterns(fleet: Inventory, pattern: str, expected: list[str]) -> None:
    assert names(select_hosts(fleet, pattern)) == expected


def test_limit_retry_file(fleet: Inventory, tmp_path: Path) -> None:
    retry = tmp_path / "site.retry"
    retry.write_text("exch03.corp.local\n\nedge-b.dmz.local\n", encoding="utf-8")
    assert names(select_hosts(fleet, f"@{retry}")) == ["exch03.corp.local", "edge-b.dmz.local"]
    assert names(select_hosts(fleet, f"@{retry},!edge")) == ["exch03.corp.local"]
    with pytest.raises(InputError, match="limit file"):
        select_hosts(fleet, f"@{tmp_path / 'missing.retry'}")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("nosuchhost", "matches no host or group"),
        ("nosuch*", "matches no host or group"),
        ("mailbox:&edge", "selects no host"),
        ("mailbox:&nosuch", "selects no host (nothing matches 'nosuch')"),
        ("gone1,gone2", "selects no host (nothing matches 'gone1', 'gone2')"),
        ("all:!all", "selects no host"),
        ("~(unclosed", "invalid host pattern"),
        ("mailbox[9]", "subscripted pattern"),
        ("", "empty"),
        (" , ", "empty"),
        ("mailbox,!", "names nothing"),
    ],
)
def test_limit_errors(fleet: Inventory, pattern: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        select_hosts(fleet, pattern)


@pytest.mark.parametrize(
    ("pattern", "expected", "unmatched"),
    [
        ("mailbox:!nosuch", ORDER[2:7], ["nosuch"]),
        ("exchange,nosuchhost.corp.local", ORDER[2:], ["nosuchhost.corp.local"]),
        ("nosuchgroup:legacy", ["ex2003.corp.local"], ["nosuchgroup"]),
        ("legacy:&exchange:!gone*", [], None),  # nothing left: an error, see below
        ("legacy:gone[0]", ["ex2003.corp.local"], ["gone"]),  # named without its subscript
        ("~^gone,legacy", ["ex2003.corp.local"], ["~^gone"]),
        ("all:!retired", ORDER, ["retired"]),
        ("legacy", ["ex2003.corp.local"], []),
    ],
)
def test_a_part_that_matches_nothing_warns_and_the_rest_selects(
    fleet: Inventory, pattern: str, expected: list[str], unmatched: list[str] | None
) -> None:
    if unmatched is None:
        with pytest.raises(InputError, match="selects no host"):
            select(fleet, pattern)
        return
    chosen = select(fleet, pattern)
    assert names(chosen.hosts) == expected
    assert list(chosen.warnings) == [NO_MATCH + part for part in unmatched]
    # ansible-core's own words, so that logs read the same
    assert all(
        w.startswith("Could not match supplied host pattern, ignoring: ") for w in chosen.warnings
    )


def test_a_stale_retry_file_still_selects_the_hosts_that_remain(
    fleet: Inventory, tmp_path: Path
) -> None:
    retry = tmp_path / "remediate.retry"
    retry.write_text("exch03.corp.local\nretired01.corp.local\nedge-b.dmz.local\n")
    chosen = select(fleet, f"@{retry}")
    assert names(chosen.hosts) == ["exch03.corp.local", "edge-b.dmz.local"]
    assert chosen.warnings == (NO_MATCH + "retired01.corp.local",)
    retry.write_text("retired01.corp.local\nretired02.corp.local\n")
    with pytest.raises(InputError, match=re.escape("'retired01.corp.local', 'retired02")):
        select(fleet, f"@{retry}")


def test_an_empty_group_is_no_mismatch(tmp_path: Path) -> None:
    inventory = parse_inventory("[empty]\n[full]\nh1\n", "hosts.ini")
    chosen = select(inventory, "full:empty")
    assert names(chosen.hosts) == ["h1"] and chosen.warnings == ()


def test_a_dash_subscript_still_selects_with_ansibles_warning(fleet: Inventory) -> None:
    chosen = select(fleet, "mailbox[0-1]")
    assert names(chosen.hosts) == ["exch01.corp.local", "exch02.corp.local"]
    assert len(chosen.warnings) == 1 and "[x:y]" in chosen.warnings[0]


def test_selection_for_keeps_the_warnings_and_hosts_for_drops_them(fleet: Inventory) -> None:
    assert selection_for(fleet, None) == Selection(fleet.hosts)
    assert selection_for(fleet, "legacy:gone").warnings == (NO_MATCH + "gone",)
    assert names(hosts_for(fleet, "legacy:gone")) == ["ex2003.corp.local"]


def test_split_pattern_as_ansible() -> None:
    assert split_pattern("a:b:&c:!d") == ["a", "b", "&c", "!d"]
    assert split_pattern("a, b ,c") == ["a", "b", "c"]
    assert split_pattern("web[1:3]:db") == ["web[1:3]", "db"]
    assert split_pattern("fe80::1") == ["fe80::1"]
    assert split_pattern("host.local:5986") == ["host.local:5986"]


PATTERN_PARTS = [
    "all", "mailbox", "edge", "exchange", "legacy", "ungrouped", "exch0*", "~exch", "~(", "*",
    "?", "[0]", "[1:2]", "[-1]", "[", "]", ":", ",", "&", "!", " ", ".", "2001:db8::25",
    "exch01.corp.local", "jump.corp.local",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PATTERN_PARTS) | st.text(max_size=4), max_size=8))
def test_fuzz_limit_patterns(parts: list[str]) -> None:
    pattern = "".join(parts).replace("@", "")
    inv = parse_inventory(FLEET, "hosts.ini")
    try:
        chosen = select(inv, pattern)
    except InputError:
        return
    chosen_names = names(chosen.hosts)
    assert chosen_names and len(set(chosen_names)) == len(chosen_names)
    assert set(chosen_names) <= set(ORDER)
    assert all(isinstance(warning, str) and warning for warning in chosen.warnings)


def test_hosts_for_is_every_host_without_a_limit(fleet: Inventory) -> None:
    assert names(hosts_for(fleet, None)) == ORDER
    assert names(hosts_for(fleet, "")) == ORDER  # an empty --limit has always meant no limit
    assert hosts_for(fleet, None) == list(fleet.hosts)


def test_hosts_for_applies_the_limit(fleet: Inventory) -> None:
    assert names(hosts_for(fleet, "exchange:!edge")) == ORDER[2:7]
    # as ansible-playbook --limit: in the order of `all`, not the pattern's
    assert names(select(fleet, "edge:legacy").hosts) == [*ORDER[7:], "ex2003.corp.local"]
    assert names(hosts_for(fleet, "edge:legacy")) == ["ex2003.corp.local", *ORDER[7:]]
    with pytest.raises(InputError, match="matches no host or group"):
        hosts_for(fleet, "nosuchhost")
