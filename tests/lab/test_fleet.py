"""The lab's fleet files: the demo fleet built from the seed articles, and the loader itself.

The demo fleet must model what each seed article describes (sources, event IDs, error codes,
service packs, fix files and their folders) in the states an audit distinguishes; bad fleet
files must fail with a FleetError naming the file and line, never with another exception; and
a large fleet must load quickly without materialising its generated event logs.
"""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.audit.request import collect_request
from remediate.lab.answers.scripts import declared_script, run_declared
from remediate.lab.fleet import (
    EventRecord,
    FileEntry,
    Fleet,
    FleetError,
    HostSpec,
    load_fleet,
    parse_fleet,
)
from remediate.lab.host import LabHost
from remediate.probes.collect import build_collect_script, parse_evidence
from remediate.rules.evaluate import evaluate
from remediate.rules.findings import Status
from remediate.rules.playbook import load_playbooks
from remediate.rules.versions import FileVersion

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "inventory" / "lab" / "demo.yml"
PLAYBOOKS = ROOT / "playbooks"
NOW = datetime.now(UTC)

EX55_ROOT = "C:\\exchsrvr"
EX55_BUILDS = {1: "5.5.2232.", 2: "5.5.2448.", 3: "5.5.2650.", 4: "5.5.2653."}
ARTICLES_55 = ("q232602", "q193639", "q266383", "q319936")
STATES = ("before", "fixed", "fixed-events")
DATA_SUFFIXES = (".sch", ".cat", ".cfg", ".xv2", ".tpl")
MODERN_FOLDERS = ("bin\\", "scripts\\", "fip-fs\\", "transportroles\\")

# Q232602's table (post-SP2 MTA fix): name -> version (None: data file, presence only).
Q232602_TABLE = {
    "dbserver.sch": None,
    "dcprods.cat": None,
    "ems_rid.dll": "5.5.2614.0",
    "emsmta.exe": "5.5.2614.0",
    "info4log.cfg": None,
    "infoblog.cfg": None,
    "infodlog.cfg": None,
    "infollog.cfg": None,
    "infoplog.cfg": None,
    "infotlog.cfg": None,
    "mtacheck.exe": "5.5.2614.0",
    "mtamsg.dll": "5.5.2614.0",
    "p2.xv2": None,
    "x400om.dll": "5.5.2614.0",
    "x400omv1.dll": "5.5.2614.0",
}
# Q319936's table: every row at 5.5.2656.20, data files included.
Q319936_TABLE = (
    "emsmta.exe",
    "dbserver.sch",
    "dcprods.cat",
    "ems_rid.dll",
    "infoplog.cfg",
    "mtacheck.exe",
    "mtamsg.dll",
    "mtaperf.dll",
    "p2.xv2",
    "p42.tpl",
    "p772.tpl",
    "x400om.dll",
)
Q319936_VERSION = "5.5.2656.20"


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> Fleet:
    return load_fleet(DEMO)


def host(fleet: Fleet, short: str) -> HostSpec:
    for spec in fleet.hosts:
        if spec.name == f"{short}.lab.local":
            return spec
    raise AssertionError(f"the demo fleet has no host {short}.lab.local")


def events(spec: HostSpec, source: str, event_id: int) -> list[EventRecord]:
    return [
        r
        for r in spec.event_logs.iter_records(NOW)
        if r.source == source and r.event_id == event_id
    ]


def version(text: str | None) -> FileVersion:
    assert text is not None
    return FileVersion.parse(text)


def mta_file(spec: HostSpec, name: str) -> str:
    folder = "mtadata" if name.endswith(DATA_SUFFIXES) else "bin"
    return f"{EX55_ROOT}\\{folder}\\{name}"


def file_entry(spec: HostSpec, path: str) -> FileEntry:
    for entry in spec.files:
        if entry.path.lower() == path.lower():
            return entry
    raise AssertionError(f"{spec.name} has no file {path}")


def newest_fix_date(spec: HostSpec, names: tuple[str, ...] | list[str]) -> datetime:
    return max(file_entry(spec, mta_file(spec, n)).modified for n in names)


# -- the demo fleet --------------------------------------------------------------------------


def test_demo_fleet_loads_with_shared_credentials_and_loopback_addresses(demo: Fleet) -> None:
    assert len(demo.hosts) >= 18
    names = [h.name for h in demo.hosts]
    assert len(set(names)) == len(names)
    for spec in demo.hosts:
        assert spec.description.strip(), f"{spec.name} says nothing about what it models"
        assert spec.address is not None and spec.address.startswith("127.")
        creds = spec.credentials
        assert (creds.username, creds.domain) == ("Administrator", "LAB")
        assert creds.password == demo.hosts[0].credentials.password
    assert len({h.address for h in demo.hosts}) == len(demo.hosts)


@pytest.mark.parametrize("article", ARTICLES_55)
@pytest.mark.parametrize("state", STATES)
def test_each_exchange55_article_has_a_host_in_each_state(
    demo: Fleet, article: str, state: str
) -> None:
    spec = host(demo, f"ex55-{article}-{state}")
    assert spec.exchange is not None and spec.exchange.version == "5.5"
    assert spec.exchange.install_root == EX55_ROOT
    assert article.upper() in spec.description


def test_exchange55_builds_match_their_service_packs(demo: Fleet) -> None:
    ex55 = [h for h in demo.hosts if h.exchange and h.exchange.version == "5.5"]
    assert len(ex55) >= 12
    for spec in ex55:
        assert spec.exchange is not None
        prefix = EX55_BUILDS[spec.exchange.service_pack]
        assert spec.exchange.build.startswith(prefix), spec.name
        emsmta = file_entry(spec, f"{EX55_ROOT}\\bin\\emsmta.exe")
        # emsmta.exe is at the service pack's build or at a later hotfix build.
        assert version(emsmta.version) >= version(prefix + "0"), spec.name


def test_files_sit_under_the_install_root_in_the_right_folder(demo: Fleet) -> None:
    for spec in demo.hosts:
        if spec.exchange is None:
            continue
        root = spec.exchange.install_root.lower() + "\\"
        for entry in spec.files:
            path = entry.path.lower()
            assert path.startswith(root), entry.path
            relative = path.removeprefix(root)
            if spec.exchange.line != "legacy":  # 2007 and later: setup's folders
                assert relative.startswith(MODERN_FOLDERS), entry.path
            elif path.endswith(DATA_SUFFIXES):
                assert relative.startswith("mtadata\\"), entry.path
                # data files have no version resource, except where an article's table gives one
                assert entry.version in (None, Q319936_VERSION), entry.path
            else:
                assert relative.startswith(("bin\\", "connect\\msexcimc\\bin\\")), entry.path
                assert entry.version is not None, entry.path
            assert entry.size > 0
            assert entry.modified.tzinfo is not None


def test_every_timestamp_is_timezone_aware(demo: Fleet) -> None:
    for spec in demo.hosts:
        for record in spec.event_logs.records:
            assert record.time.tzinfo is not None, spec.name
        for generator in spec.event_logs.generators:
            assert generator.end is None or generator.end.tzinfo is not None


# Q232602: MSExchangeMTA 4284 (8511) and 4287 (8640), 2035, 1209; fixed in SP3 (5.5.2614.0).


def test_q232602_before(demo: Fleet) -> None:
    spec = host(demo, "ex55-q232602-before")
    assert spec.exchange is not None and spec.exchange.service_pack < 3
    assert version(file_entry(spec, mta_file(spec, "emsmta.exe")).version) < version("5.5.2614.0")
    association = events(spec, "MSExchangeMTA", 4284)
    internal = events(spec, "MSExchangeMTA", 4287)
    assert all("Error code=8511" in r.message for r in association)
    assert all("Error code=8640" in r.message for r in internal)
    assert events(spec, "MSExchangeMTA", 2035) and events(spec, "MSExchangeMTA", 1209)
    # repeating: at least three 4284 within any one hour, and still arriving now
    times = sorted(r.time for r in association)
    assert any(times[i + 2] - times[i] <= timedelta(hours=1) for i in range(len(times) - 2))
    assert NOW - times[-1] < timedelta(hours=1)


@pytest.mark.parametrize("short", ["ex55-q232602-fixed", "ex55-q232602-hotfix"])
def test_q232602_fixed(demo: Fleet, short: str) -> None:
    spec = host(demo, short)
    assert spec.exchange is not None
    for name, required in Q232602_TABLE.items():
        entry = file_entry(spec, mta_file(spec, name))
        if required is not None:
            assert version(entry.version) >= version(required), name
    if short.endswith("hotfix"):  # the post-SP2 fix, not the service pack
        assert spec.exchange.service_pack == 2
        assert file_entry(spec, mta_file(spec, "emsmta.exe")).version == "5.5.2614.0"
    else:
        assert spec.exchange.service_pack >= 3
    assert not events(spec, "MSExchangeMTA", 4284)
    assert not events(spec, "MSExchangeMTA", 4287)


def test_q232602_fixed_with_events(demo: Fleet) -> None:
    spec = host(demo, "ex55-q232602-fixed-events")
    assert spec.exchange is not None and spec.exchange.service_pack >= 3
    fixed_at = newest_fix_date(spec, [n for n, v in Q232602_TABLE.items() if v])
    times = [r.time for r in events(spec, "MSExchangeMTA", 4284)]
    assert any(t < fixed_at for t in times) and any(t > fixed_at for t in times)
    assert any(r.time > fixed_at for r in events(spec, "MSExchangeMTA", 4287))


# Q193639: MSExchangeIMC 4116, data 74 00 05 00 0e 00 07 80; Msexcimc.exe 5.5.2417.0 (SP2).

IMS = f"{EX55_ROOT}\\connect\\msexcimc\\bin\\msexcimc.exe"
MAPI_OUT_OF_MEMORY = "740005000e000780"


def test_q193639_before(demo: Fleet) -> None:
    spec = host(demo, "ex55-q193639-before")
    assert spec.exchange is not None and spec.exchange.service_pack < 2
    assert version(file_entry(spec, IMS).version) < version("5.5.2417.0")
    stops = events(spec, "MSExchangeIMC", 4116)
    assert stops and all((r.data or "").startswith(MAPI_OUT_OF_MEMORY) for r in stops)
    imc = {s.name: s for s in spec.services}["MSExchangeIMC"]
    assert imc.state == "stopped"


def test_q193639_fixed(demo: Fleet) -> None:
    spec = host(demo, "ex55-q193639-fixed")
    assert spec.exchange is not None and spec.exchange.service_pack >= 2
    assert version(file_entry(spec, IMS).version) >= version("5.5.2417.0")
    assert not events(spec, "MSExchangeIMC", 4116)
    assert all(s.state == "running" for s in spec.services)


def test_q193639_fixed_with_events(demo: Fleet) -> None:
    spec = host(demo, "ex55-q193639-fixed-events")
    assert spec.exchange is not None and spec.exchange.service_pack >= 2
    ims = file_entry(spec, IMS)
    assert version(ims.version) >= version("5.5.2417.0")
    stops = events(spec, "MSExchangeIMC", 4116)
    assert all((r.data or "").startswith(MAPI_OUT_OF_MEMORY) for r in stops)
    assert any(r.time < ims.modified for r in stops)
    assert any(r.time > ims.modified for r in stops)


# Q266383: MSExchangeMTA 2026 and MSExchangeIMC 3016 with message tracking; fixed in SP4.


def test_q266383_before(demo: Fleet) -> None:
    spec = host(demo, "ex55-q266383-before")
    assert spec.exchange is not None and spec.exchange.service_pack < 4
    mta = events(spec, "MSExchangeMTA", 2026)
    assert mta and all("[BASE XFER-IN 18 40]" in r.message for r in mta)
    assert events(spec, "MSExchangeIMC", 3016)
    assert "message tracking" in spec.description


def test_q266383_fixed(demo: Fleet) -> None:
    spec = host(demo, "ex55-q266383-fixed")
    assert spec.exchange is not None and spec.exchange.service_pack == 4
    assert not events(spec, "MSExchangeMTA", 2026)
    assert not events(spec, "MSExchangeIMC", 3016)


def test_q266383_fixed_with_events(demo: Fleet) -> None:
    spec = host(demo, "ex55-q266383-fixed-events")
    assert spec.exchange is not None and spec.exchange.service_pack == 4
    sp4_files = newest_fix_date(spec, ["emsmta.exe"])
    for source, event_id in (("MSExchangeMTA", 2026), ("MSExchangeIMC", 3016)):
        times = [r.time for r in events(spec, source, event_id)]
        assert any(t < sp4_files for t in times) and any(t > sp4_files for t in times)


# Q319936: MSExchangeMTA 4258 then 4283 (error code 8464); hotfix 5.5.2656.20 on SP4 only.


@pytest.mark.parametrize("short", ["ex55-q319936-before", "w2k-ex55-q319936-before"])
def test_q319936_before(demo: Fleet, short: str) -> None:
    spec = host(demo, short)
    assert spec.exchange is not None and spec.exchange.service_pack == 4
    assert version(file_entry(spec, mta_file(spec, "emsmta.exe")).version) < version(
        Q319936_VERSION
    )
    assert events(spec, "MSExchangeMTA", 4258)
    bad_lpi = events(spec, "MSExchangeMTA", 4283)
    assert bad_lpi and all("Error code = 8464" in r.message for r in bad_lpi)


def test_q319936_fixed(demo: Fleet) -> None:
    spec = host(demo, "ex55-q319936-fixed")
    assert spec.exchange is not None and spec.exchange.service_pack == 4
    for name in Q319936_TABLE:
        entry = file_entry(spec, mta_file(spec, name))
        assert version(entry.version) >= version(Q319936_VERSION), name
    assert not events(spec, "MSExchangeMTA", 4283)


def test_q319936_fixed_with_events(demo: Fleet) -> None:
    spec = host(demo, "ex55-q319936-fixed-events")
    assert spec.exchange is not None and spec.exchange.service_pack == 4
    binaries = tuple(n for n in Q319936_TABLE if not n.endswith(DATA_SUFFIXES))
    for name in binaries:
        assert version(file_entry(spec, mta_file(spec, name)).version) >= version(Q319936_VERSION)
    fixed_at = newest_fix_date(spec, binaries)
    times = [r.time for r in events(spec, "MSExchangeMTA", 4283)]
    assert any(t < fixed_at for t in times) and any(t > fixed_at for t in times)


def test_q319936_hotfix_waiting_for_a_restart(demo: Fleet) -> None:
    spec = host(demo, "ex55-q319936-pending")
    assert spec.pending_reboot
    for name in Q319936_TABLE:
        entry = file_entry(spec, mta_file(spec, name))
        assert entry.pending_version == Q319936_VERSION, name


# KB840469: MTA Stacks does not start on Exchange 2000 SP2+ and Exchange 2003.

KB840469_EVENTS = (
    ("MSExchangeMTA", 9406, None),
    ("MSExchangeMTA", 2219, None),
    ("MSExchangeMTA", 2206, None),
    ("MSExchangeMTA", 2207, None),
    ("MSExchangeMTA", 9405, "Init Routing API returned error -2147219168"),
    ("MSExchangeMTA", 137, None),
    ("MSExchangeTransport", 326, "0x80040148"),
    ("MSExchangeTransport", 324, "0x80040148"),
)


@pytest.mark.parametrize(
    ("short", "exchange_version", "build", "sp"),
    [
        ("ex2000-kb840469-before", "6.0", "6.0.6249.", 3),
        ("w2k-ex2000-kb840469-before", "6.0", "6.0.6249.", 3),
        ("ex2003-kb840469-before", "6.5", "6.5.7638.", 2),
    ],
)
def test_kb840469_failure(
    demo: Fleet, short: str, exchange_version: str, build: str, sp: int
) -> None:
    spec = host(demo, short)
    assert spec.exchange is not None
    assert (spec.exchange.version, spec.exchange.service_pack) == (exchange_version, sp)
    assert spec.exchange.build.startswith(build)
    if exchange_version == "6.5":
        assert (spec.os.version, spec.os.service_pack) == ("5.2.3790", 2)
    else:
        assert (spec.os.version, spec.os.service_pack) in (("5.0.2195", 4), ("5.2.3790", 2))
    mta = {s.name: s for s in spec.services}["MSExchangeMTA"]
    assert mta.display_name == "Microsoft Exchange MTA Stacks"
    assert mta.state == "stopped" and mta.fails_to_start
    assert spec.components.get("iis_smtp") is True
    for source, event_id, text in KB840469_EVENTS:
        found = events(spec, source, event_id)
        assert found, f"{short}: no {source} {event_id}"
        assert text is None or all(text in r.message for r in found)


def test_a_healthy_exchange_2003_host(demo: Fleet) -> None:
    spec = host(demo, "ex2003-healthy")
    assert spec.exchange is not None and spec.exchange.version == "6.5"
    assert spec.services and all(s.state == "running" for s in spec.services)
    assert not any(s.fails_to_start for s in spec.services)
    assert spec.components.get("iis_smtp") is True
    assert {r.type for r in spec.event_logs.iter_records(NOW)} == {"information"}
    assert not (spec.faults.down or spec.faults.wrong_password)


def test_windows_2000_hosts_are_reached_over_ssh_only(demo: Fleet) -> None:
    w2k = [h for h in demo.hosts if h.os.family == "w2k"]
    assert w2k
    for spec in w2k:
        assert (spec.os.version, spec.os.service_pack) == ("5.0.2195", 4)
        assert spec.os.powershell is None and not spec.os.winrm
        assert spec.endpoints.ssh
        assert not spec.endpoints.http and not spec.endpoints.https
        assert spec.exchange is not None and spec.exchange.version in ("5.5", "6.0")
        assert re.search(r"\b(Q\d{6}|KB\d{6})\b", spec.description), spec.name


def test_other_exchange55_hosts_show_the_winrm_path(demo: Fleet) -> None:
    ex55 = [h for h in demo.hosts if h.exchange and h.exchange.version == "5.5"]
    over_winrm = [h for h in ex55 if h.os.winrm]
    assert len(over_winrm) >= len(ex55) - 1
    for spec in over_winrm:
        assert (spec.os.version, spec.os.service_pack, spec.os.powershell) == (
            "5.2.3790",
            2,
            "2.0",
        )


def test_a_host_down_and_a_host_with_a_wrong_password(demo: Fleet) -> None:
    down = [h for h in demo.hosts if h.faults.down]
    refused = [h for h in demo.hosts if h.faults.wrong_password]
    assert down and refused
    assert {h.name for h in down}.isdisjoint({h.name for h in refused})
    others = [h for h in demo.hosts if h not in down and h not in refused]
    assert not any(h.faults.down or h.faults.wrong_password for h in others)


def test_every_host_has_background_information_events(demo: Fleet) -> None:
    symptom_sources = {"MSExchangeMTA", "MSExchangeIMC", "MSExchangeTransport"}
    for spec in demo.hosts:
        noise = [
            g
            for g in spec.event_logs.generators
            if g.type == "information" and g.source not in symptom_sources
        ]
        assert noise, spec.name
        assert {g.log for g in spec.event_logs.generators} >= {"Application", "System"}


def test_hosts_sharing_anchored_lists_get_their_own_entries(demo: Fleet) -> None:
    # the demo file reuses file lists with YAML anchors; a reboot mutates one host's entries
    first = host(demo, "ex55-q232602-before")
    second = host(demo, "ex55-q193639-fixed")
    assert [f.path for f in first.files] == [f.path for f in second.files]
    assert first.files[0] is not second.files[0]


EXPECTED_STATUS = {
    "ex55-q232602-before": ("Q232602", Status.AFFECTED),
    "ex55-q232602-fixed": ("Q232602", Status.COMPLIANT),
    "ex55-q232602-hotfix": ("Q232602", Status.COMPLIANT),
    "ex55-q232602-fixed-events": ("Q232602", Status.INVESTIGATE),
    "ex55-q193639-before": ("Q193639", Status.AFFECTED),
    "ex55-q193639-fixed": ("Q193639", Status.COMPLIANT),
    "ex55-q193639-fixed-events": ("Q193639", Status.INVESTIGATE),
    "ex55-q266383-before": ("Q266383", Status.AFFECTED),
    "ex55-q266383-fixed": ("Q266383", Status.COMPLIANT),
    "ex55-q266383-fixed-events": ("Q266383", Status.INVESTIGATE),
    "ex55-q319936-before": ("Q319936", Status.AFFECTED),
    "ex55-q319936-fixed": ("Q319936", Status.COMPLIANT),
    "ex55-q319936-fixed-events": ("Q319936", Status.INVESTIGATE),
    "ex55-q319936-pending": ("Q319936", Status.NEEDS_REBOOT),
    "w2k-ex55-q319936-before": ("Q319936", Status.AFFECTED),
    "ex2000-kb840469-before": ("KB840469", Status.AFFECTED),
    "w2k-ex2000-kb840469-before": ("KB840469", Status.AFFECTED),
    "ex2003-kb840469-before": ("KB840469", Status.AFFECTED),
    "ex2003-healthy": ("KB840469", Status.COMPLIANT),
}


def test_the_playbooks_see_each_host_in_the_state_it_models(demo: Fleet) -> None:
    """Through the lab's answer to the collector: what an audit of the demo would decide."""
    playbooks = {p.id: p for p in load_playbooks(sorted(PLAYBOOKS.glob("*.yml")))}
    request = collect_request(playbooks.values(), NOW - timedelta(days=7))
    declared = declared_script(build_collect_script(request, "powershell"))
    assert declared is not None and not isinstance(declared, Exception)
    decided = {}
    for short, (article, _) in EXPECTED_STATUS.items():
        spec = host(demo, short)
        answer = run_declared(LabHost(spec.model_copy(deep=True)), declared, "winrm")
        evidence = parse_evidence(spec.name, answer.stdout)
        decided[short] = (article, evaluate(playbooks[article], evidence).status)
    assert decided == EXPECTED_STATUS


# -- bad fleet files -------------------------------------------------------------------------

BAD_FLEETS = {
    "unknown field": (
        "name: bad\nhosts:\n  - name: a.lab.local\n  - name: b.lab.local\n    colour: blue\n",
        5,
        "hosts.1.colour",
    ),
    "wrong type": (
        "hosts:\n"
        "  - name: a.lab.local\n"
        "    event_logs:\n"
        "      records:\n"
        "        - {source: MSExchangeMTA, event_id: 4284, time: 2024-01-01T00:00:00Z}\n"
        "        - {source: MSExchangeMTA, event_id: many, time: 2024-01-01T00:00:00Z}\n",
        6,
        "hosts.0.event_logs.records.1.event_id",
    ),
    "wrong type under defaults": (
        "defaults:\n"
        "  credentials: {username: Administrator}\n"
        "hosts:\n"
        "  - name: a.lab.local\n"
        "    faults: {latency_ms: -5}\n",
        5,
        "hosts.0.faults.latency_ms",
    ),
    "duplicate host name": (
        "hosts:\n  - name: a.lab.local\n  - name: b.lab.local\n  - name: a.lab.local\n",
        None,
        "appears twice",
    ),
    "address not loopback": (
        "hosts:\n  - name: a.lab.local\n  - name: b.lab.local\n    address: 10.1.2.3\n",
        4,
        "not a loopback address",
    ),
    "address not an address": (
        "hosts:\n  - {name: a.lab.local, address: 127.0.0.300}\n",
        2,
        "hosts.0.address",
    ),
    "invalid YAML": (
        "hosts:\n  - name: a.lab.local\n    os: {version: '5.2.3790'\n  - name: b.lab.local\n",
        4,
        "not valid YAML",
    ),
    "tab indentation": ("hosts:\n\t- name: a.lab.local\n", 2, "not valid YAML"),
    "hex data invalid": (
        "hosts:\n"
        "  - name: a.lab.local\n"
        "    event_logs:\n"
        "      records:\n"
        "        - {source: MSExchangeIMC, event_id: 4116, time: 2024-01-01T00:00:00Z,\n"
        "           data: '74 00 05 zz'}\n",
        6,
        "hex bytes",
    ),
    "bad service state": (
        "hosts:\n  - name: a.lab.local\n    services:\n      - {name: X, state: asleep}\n",
        4,
        "hosts.0.services.0.state",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FLEETS))
def test_bad_fleet_files_name_the_file_and_line(case: str) -> None:
    text, line, fragment = BAD_FLEETS[case]
    with pytest.raises(FleetError) as caught:
        parse_fleet(text, "bad.yml")
    message = str(caught.value)
    where = re.match(r"bad\.yml:(\d+): ", message)
    assert where, message
    if line is not None:
        assert int(where.group(1)) == line, message
    assert fragment in message
    assert "Traceback" not in message and "pydantic" not in message


@pytest.mark.parametrize(
    "text",
    [
        "",
        "- a\n- b\n",
        "just text\n",
        "name: x\n",
        "hosts: {a: 1}\n",
        "defaults: [1]\nhosts: []\n",
        "hosts:\n  - 5\n",
        "hosts:\n  - {1: 2}\n",
    ],
)
def test_fleet_files_of_the_wrong_shape_are_fleet_errors(text: str) -> None:
    with pytest.raises(FleetError, match=r"^bad\.yml"):
        parse_fleet(text, "bad.yml")


def test_unreadable_fleet_files_are_fleet_errors(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="cannot read"):
        load_fleet(tmp_path / "missing.yml")
    latin1 = tmp_path / "latin1.yml"
    latin1.write_bytes("hosts:\n  - name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(FleetError, match="not UTF-8"):
        load_fleet(latin1)
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("hosts:\n  - name: a\n    faults: {down: maybe}\n")
    with pytest.raises(FleetError, match=re.escape(f"{wrong}:3:")):
        load_fleet(wrong)


# Gaps in the model, pinned so they flip to XPASS (and fail) once fleet.py handles them.


@pytest.mark.parametrize("base", ["not-an-address", "10.0.0.1", "255.255.255.255"])
def test_address_base_must_be_a_loopback_address(base: str) -> None:
    with pytest.raises(FleetError, match=r"bad\.yml:\d+: address_base"):
        parse_fleet(f"address_base: '{base}'\nhosts:\n  - name: a\n  - name: b\n", "bad.yml")


def test_a_duplicate_host_is_reported_at_its_own_line() -> None:
    text = "hosts:\n  - name: a.lab.local\n  - name: b.lab.local\n  - name: a.lab.local\n"
    with pytest.raises(FleetError, match=r"^bad\.yml:4: "):
        parse_fleet(text, "bad.yml")


GENERATOR_TRAPS = {
    "hex data": "{source: X, event_id: 1, count: 2, data: '74 zz'}",
    "infinite interval": "{source: X, event_id: 1, count: 2, every_seconds: .inf}",
    "count beyond any log": "{source: X, event_id: 1, count: 100000000000000000000}",
}


@pytest.mark.parametrize("trap", list(GENERATOR_TRAPS))
def test_generators_that_cannot_produce_records_are_rejected_at_load(trap: str) -> None:
    text = (
        "hosts:\n  - name: a.lab.local\n    event_logs:\n      generators:\n"
        f"        - {GENERATOR_TRAPS[trap]}\n"
    )
    with pytest.raises(FleetError, match=r"bad\.yml:5: "):
        fleet = parse_fleet(text, "bad.yml")
        # what the lab does with a generator: count its records, make them, compare their times
        logs = fleet.hosts[0].event_logs
        assert len(logs) > 0
        assert all(record.time <= NOW for record in logs.iter_records(NOW))


def test_event_and_file_times_without_a_zone_are_rejected_or_made_utc() -> None:
    text = (
        "hosts:\n  - name: a.lab.local\n"
        "    files: [{path: 'C:\\x.dll', modified: 2020-01-01}]\n"
        "    event_logs:\n"
        "      records: [{source: X, event_id: 1, time: 2020-01-01 10:00:00}]\n"
    )
    try:
        fleet = parse_fleet(text, "bad.yml")
    except FleetError:
        return
    spec = fleet.hosts[0]
    assert spec.files[0].modified.tzinfo is not None
    assert spec.event_logs.records[0].time.tzinfo is not None


# -- fuzzing ---------------------------------------------------------------------------------


def _parses_or_fleet_error(text: str) -> None:
    try:
        fleet = parse_fleet(text, "fuzz.yml")
    except FleetError as exc:
        assert str(exc).startswith("fuzz.yml")
        return
    for spec in fleet.hosts:
        assert spec.address is not None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_is_a_fleet_or_a_fleet_error(text: str) -> None:
    _parses_or_fleet_error(text)


FIELD_NAMES = sorted(
    {
        *HostSpec.model_fields,
        "records",
        "generators",
        "source",
        "event_id",
        "type",
        "time",
        "message",
        "data",
        "count",
        "every_seconds",
        "log",
        "path",
        "version",
        "modified",
        "pending_version",
        "state",
        "fails_to_start",
        "winrm",
        "powershell",
        "build",
        "service_pack",
        "down",
        "latency_ms",
        "flapping",
        "username",
        "password",
    }
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.datetimes(timezones=st.just(UTC)),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=4)
    ),
    max_leaves=12,
)
_documents = st.fixed_dictionaries(
    {"hosts": st.lists(st.dictionaries(st.sampled_from(FIELD_NAMES), _values, max_size=5))},
    optional={"name": _values, "defaults": _values},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_fleet_shaped_documents_are_a_fleet_or_a_fleet_error(document: dict) -> None:
    _parses_or_fleet_error(yaml.safe_dump(document))


# -- scale -----------------------------------------------------------------------------------

HOSTS, EVENTS = 1_000, 10_000


def _large_fleet_text() -> str:
    lines = ["name: scale", "address_base: 127.40.0.1", "hosts:"]
    for index in range(HOSTS):
        lines += [
            f"  - name: host{index:04d}.lab.local",
            "    event_logs:",
            f"      generators: [{{source: MSExchangeMTA, event_id: 4284, count: {EVENTS},",
            "                     every_seconds: 60, message: 'Error code=8511'}]",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def large_text() -> str:
    return _large_fleet_text()


def test_a_thousand_hosts_with_ten_thousand_events_each_load_quickly(large_text: str) -> None:
    started = time.perf_counter()
    fleet = parse_fleet(large_text, "large.yml")
    elapsed = time.perf_counter() - started
    assert len(fleet.hosts) == HOSTS
    assert sum(len(h.event_logs) for h in fleet.hosts) == HOSTS * EVENTS
    assert len({h.address for h in fleet.hosts}) == HOSTS
    assert elapsed < 15, f"loading took {elapsed:.1f} s"


def test_loading_a_large_fleet_uses_little_memory(large_text: str) -> None:
    tracemalloc.start()
    try:
        fleet = parse_fleet(large_text, "large.yml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(fleet.hosts) == HOSTS
    assert peak < 200 * 1024 * 1024, f"loading peaked at {peak / 2**20:.0f} MB"


def test_a_generated_log_is_iterated_lazily(large_text: str) -> None:
    fleet = parse_fleet(large_text, "large.yml")
    logs = fleet.hosts[HOSTS // 2].event_logs
    records = logs.iter_records(NOW)
    assert isinstance(records, Iterator)
    tracemalloc.start()
    try:
        count, previous, first = 0, None, None
        for record in records:
            assert previous is None or record.time > previous
            first = first or record.time
            previous = record.time
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == EVENTS
    assert previous == NOW and first == NOW - timedelta(seconds=60 * (EVENTS - 1))
    assert peak < 5 * 1024 * 1024, f"iterating peaked at {peak / 2**20:.1f} MB"
