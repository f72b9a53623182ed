"""The playbooks for current Exchange (issue 16): FIPFS-2022 (symptoms and a scripted fix),
CVE-2025-59249 (security update compliance by build) and KB5013118 (a known issue of the
March 2022 SU), checked on evidence of each Exchange version and planned on each Windows
Server from 2012 R2 to 2025."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from remediate.audit.request import collect_request
from remediate.catalog import exchange_builds
from remediate.catalog.windows import os_family
from remediate.remediation.steps import plan_steps
from remediate.rules.evaluate import evaluate, event_query_id
from remediate.rules.evidence import (
    EventMatches,
    EventSample,
    Evidence,
    ExchangeFacts,
    OsFacts,
)
from remediate.rules.findings import Status
from remediate.rules.playbook import Playbook, load_playbooks

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = {p.id: p for p in load_playbooks([ROOT / "playbooks"])}
NOW = datetime(2026, 11, 20, tzinfo=UTC)
FIPFS, CVE, KB = PLAYBOOKS["FIPFS-2022"], PLAYBOOKS["CVE-2025-59249"], PLAYBOOKS["KB5013118"]
# The events as the Exchange Team blog quotes them ("Email Stuck in Exchange On-premises
# Transport Queues", 1 Jan 2022) and KB5013118 its 4999 sample.
FIPFS_5300 = (
    'The FIP-FS "Microsoft" Scan Engine failed to load. PID: 23092, Error Code: 0x80004005. '
    'Error Description: Can\'t convert "2201010001" to long.'
)
FIPFS_1106 = (
    "The FIP-FS Scan Process failed initialization. Error: 0x80004005. Error Details: "
    "Unspecified error."
)
WATSON_4999 = (
    "Watson report about to be sent for process id: 4564, with parameters: E12IIS, "
    "c-RTL-AMD64, 15.01.2375.024, M.Exchange.ServiceHost, M.Exchange.Diagnostics, "
    "M.E.D.ChainedSerializationBinder.LoadType, M.E.Diagnostics.BlockedDeserializeTypeException, "
    "c0e9-dumptidset, 15.01.2375.024."
)
WINDOWS = {
    "w2012r2": ("Microsoft Windows Server 2012 R2 Standard", "6.3.9600"),
    "w2016": ("Microsoft Windows Server 2016 Standard", "10.0.14393"),
    "w2019": ("Microsoft Windows Server 2019 Standard", "10.0.17763"),
    "w2022": ("Microsoft Windows Server 2022 Standard", "10.0.20348"),
    "w2025": ("Microsoft Windows Server 2025 Standard", "10.0.26100"),
}


def host(
    build: str,
    roles: tuple[str, ...] = ("Mailbox", "ClientAccess"),
    windows: str = "w2019",
    events: tuple[EventMatches, ...] = (),
) -> Evidence:
    """A server as the collector's parser reports it: product and update from the table."""
    match = exchange_builds.lookup(build)
    major, minor = build.split(".")[:2]
    root = "C:\\Program Files\\Microsoft\\Exchange Server\\V" + ("15" if major == "15" else "14")
    facts = ExchangeFacts(
        product=match.product,
        version=f"{major}.{minor}",
        build=build,
        service_pack=int(minor) if major in ("8", "14") else None,
        install_root=root,
        roles=roles,
        update=match.update,
        newer_than_table=match.newer_than_table,
    )
    caption, version = WINDOWS[windows]
    os = OsFacts(caption, version, int(version.split(".")[2]), 0, "x64", "EX", "5.1", NOW, "UTC")
    return Evidence("ex", "powershell", os, facts, False, events=events)


def matches(playbook: Playbook, selection: str, *samples: EventSample) -> EventMatches:
    times = [s.time for s in samples]
    return EventMatches(
        event_query_id(playbook, selection), len(samples), min(times), max(times), samples
    )


def sample(event_id: int, message: str, source: str = "FIPFS") -> EventSample:
    return EventSample(NOW - timedelta(hours=1), "Error", source, event_id, message)


def test_the_playbooks_load_with_their_updates_resolved() -> None:
    assert {"FIPFS-2022", "CVE-2025-59249", "KB5013118"} <= set(PLAYBOOKS)
    fixed = CVE.fix.fixed_in
    assert fixed is not None
    assert {line: [u.build for u in ups] for line, ups in fixed.lines.items()} == {
        "Exchange Server 2016": ["15.1.2507.61"],
        "Exchange Server 2019": ["15.2.1544.36", "15.2.1748.39"],
        "Exchange Server SE": ["15.2.2562.29"],
    }
    fipfs = FIPFS.fix.fixed_in
    assert fipfs is not None
    assert [u.build for u in fipfs.updates_for("Exchange Server 2019")] == [
        "15.2.922.27",
        "15.2.986.22",
    ]


# (build, playbook id, status, text in the reason): one row per Exchange version of the demo
# and the edges of each playbook.
MATRIX = [
    # Exchange 2010 SP3: none of the three concerns it
    ("14.3.513.0", "FIPFS-2022", Status.NOT_APPLICABLE, "Exchange Server 2016; Exchange"),
    ("14.3.513.0", "CVE-2025-59249", Status.NOT_APPLICABLE, "the article concerns"),
    ("14.3.513.0", "KB5013118", Status.NOT_APPLICABLE, "the article concerns"),
    # Exchange 2013 CU23 Mar22SU: only KB5013118
    ("15.0.1497.33", "FIPFS-2022", Status.NOT_APPLICABLE, "Exchange Server 2013 CU23 Mar22SU"),
    ("15.0.1497.33", "KB5013118", Status.MISSING_FIX, "needs Exchange Server 2013 CU23 May22SU"),
    ("15.0.1497.36", "KB5013118", Status.COMPLIANT, "has the fix"),
    # Exchange 2016 CU23 Nov24SUv2
    ("15.1.2507.44", "FIPFS-2022", Status.COMPLIANT, "CU23 Nov24SUv2"),
    (
        "15.1.2507.44",
        "CVE-2025-59249",
        Status.MISSING_FIX,
        "needs Exchange Server 2016 CU23 Oct25SU (15.1.2507.61) or later; "
        "has CU23 Nov24SUv2 (15.1.2507.44)",
    ),
    ("15.1.2507.44", "KB5013118", Status.COMPLIANT, "has the fix"),
    ("15.1.2507.61", "CVE-2025-59249", Status.COMPLIANT, "CU23 Oct25SU"),
    ("15.1.2375.24", "KB5013118", Status.MISSING_FIX, "needs Exchange Server 2016 CU22 May22SU"),
    ("15.1.2308.27", "KB5013118", Status.MISSING_FIX, "needs Exchange Server 2016 CU22 May22SU"),
    ("15.1.2375.24", "CVE-2025-59249", Status.MISSING_FIX, "needs Exchange Server 2016 CU23"),
    # Exchange 2019 CU11 Nov21SU, the build of the FIP-FS demo host
    ("15.2.986.14", "FIPFS-2022", Status.MISSING_FIX, "needs Exchange Server 2019 CU11 Mar22SU"),
    ("15.2.986.14", "KB5013118", Status.NOT_APPLICABLE, "from CU10 Mar22SU, CU11 Mar22SU or"),
    (
        "15.2.986.14",
        "CVE-2025-59249",
        Status.MISSING_FIX,
        "needs Exchange Server 2019 CU14 Oct25SU",
    ),
    ("15.2.986.22", "FIPFS-2022", Status.COMPLIANT, "CU11 Mar22SU"),
    ("15.2.986.22", "KB5013118", Status.MISSING_FIX, "needs Exchange Server 2019 CU11 May22SU"),
    ("15.2.922.27", "KB5013118", Status.MISSING_FIX, "needs Exchange Server 2019 CU11 May22SU"),
    ("15.2.922.20", "FIPFS-2022", Status.MISSING_FIX, "needs Exchange Server 2019 CU10 Mar22SU"),
    ("15.2.858.5", "FIPFS-2022", Status.MISSING_FIX, "needs Exchange Server 2019 CU10 Mar22SU"),
    # Exchange 2019 CU13, CU14, CU15
    ("15.2.1258.12", "CVE-2025-59249", Status.MISSING_FIX, "has CU13 (15.2.1258.12)"),
    ("15.2.1544.34", "CVE-2025-59249", Status.MISSING_FIX, "has CU14 Sep25HU (15.2.1544.34)"),
    ("15.2.1544.36", "CVE-2025-59249", Status.COMPLIANT, "CU14 Oct25SU"),
    ("15.2.1748.37", "CVE-2025-59249", Status.MISSING_FIX, "needs Exchange Server 2019 CU15 Oct"),
    ("15.2.1748.43", "CVE-2025-59249", Status.COMPLIANT, "CU15 Feb26SU"),
    ("15.2.1748.43", "FIPFS-2022", Status.COMPLIANT, "has the fix"),
    ("15.2.1748.43", "KB5013118", Status.COMPLIANT, "has the fix"),
    # Exchange Server SE: 15.2 as 2019, told apart by build
    ("15.2.2562.17", "CVE-2025-59249", Status.MISSING_FIX, "needs Exchange Server SE RTM Oct25SU"),
    ("15.2.2562.37", "CVE-2025-59249", Status.COMPLIANT, "Exchange Server SE RTM Feb26SU"),
    ("15.2.2562.37", "FIPFS-2022", Status.NOT_APPLICABLE, "Exchange Server SE RTM Feb26SU"),
    ("15.2.2562.37", "KB5013118", Status.NOT_APPLICABLE, "Exchange Server SE"),
    # newer than the build table: compared by number, never an error
    ("15.2.2562.99", "CVE-2025-59249", Status.COMPLIANT, "newer than the build table"),
    ("15.2.1748.99", "FIPFS-2022", Status.COMPLIANT, "newer than the build table"),
]


@pytest.mark.parametrize(("build", "article", "status", "text"), MATRIX)
def test_each_version(build: str, article: str, status: Status, text: str) -> None:
    finding = evaluate(PLAYBOOKS[article], host(build))
    assert finding.status is status, finding.reason
    assert text in finding.reason, finding.reason


def test_fipfs_events_make_an_unfixed_server_affected() -> None:
    failed = matches(FIPFS, "engine_failed_to_load", sample(5300, FIPFS_5300))
    scan = matches(FIPFS, "scan_process_failed", sample(1106, FIPFS_1106))
    finding = evaluate(FIPFS, host("15.2.986.14", events=(failed, scan)))
    assert finding.status is Status.AFFECTED
    assert finding.reason == (
        "needs Exchange Server 2019 CU11 Mar22SU (15.2.986.22) or later; has CU11 Nov21SU "
        "(15.2.986.14); symptoms seen: engine_failed_to_load (1), scan_process_failed (1)"
    )
    # on a build that tolerates the engine, the error means the engine must still be reset
    assert evaluate(FIPFS, host("15.2.986.22", events=(failed,))).status is Status.INVESTIGATE


def test_fipfs_needs_the_2022_engine_number_in_the_5300_text() -> None:
    other = matches(
        FIPFS,
        "engine_failed_to_load",
        sample(5300, FIPFS_5300.replace("2201010001", "2112330001")),
    )
    scan_only = matches(FIPFS, "scan_process_failed", sample(1106, FIPFS_1106))
    finding = evaluate(FIPFS, host("15.2.986.14", events=(other, scan_only)))
    assert finding.status is Status.MISSING_FIX  # 1106 alone has other causes


def test_fipfs_concerns_mailbox_servers_only() -> None:
    edge = evaluate(FIPFS, host("15.2.986.14", roles=("EdgeTransport",)))
    assert edge.status is Status.NOT_APPLICABLE and "Mailbox role" in edge.reason
    assert evaluate(CVE, host("15.2.986.14", roles=("EdgeTransport",))).status is (
        Status.MISSING_FIX  # a security update concerns every role
    )


def test_kb5013118_symptoms() -> None:
    watson = matches(KB, "blocked_deserialize", sample(4999, WATSON_4999, "MSExchange Common"))
    finding = evaluate(KB, host("15.1.2375.24", events=(watson,)))
    assert finding.status is Status.AFFECTED
    assert "symptoms seen: blocked_deserialize (1)" in finding.reason
    plain = matches(
        KB, "blocked_deserialize", sample(4999, "Watson report ... M.Exchange.ServiceHost ...")
    )
    assert evaluate(KB, host("15.1.2375.24", events=(plain,))).status is Status.MISSING_FIX


@pytest.mark.parametrize("windows", sorted(WINDOWS))
def test_remediation_plans_on_each_windows_server(windows: str) -> None:
    assert os_family(WINDOWS[windows][1]) == windows
    build = "15.2.986.14" if windows != "w2012r2" else "15.1.2308.27"
    evidence = host(build, windows=windows)
    script = "C:\\Tools\\Reset-ScanEngineVersion.ps1"
    fipfs = plan_steps(FIPFS, evidence, {"reset_scan_engine_script": script})
    assert [s.kind for s in fipfs] == ["run", "service", "verify"]
    run = fipfs[0].arguments or {}
    assert run["program"] == "powershell.exe"
    assert run["arguments"][-2:] == ["-File", script]
    assert run["arguments"][:5] == [
        "-NoProfile",
        "-NonInteractive",
        "-ExecutionPolicy",
        "RemoteSigned",
        "-File",
    ]
    assert run["timeout"] == 3600
    assert (fipfs[1].arguments or {})["name"] == "MSExchangeTransport"
    assert [s.kind for s in plan_steps(CVE, evidence, {})] == ["manual", "verify"]
    kb = plan_steps(KB, evidence, {})
    assert [s.kind for s in kb] == ["manual", "service", "verify"]
    assert "KB5014261" in (kb[0].instruction or "")


def test_the_collect_request_asks_for_their_events_on_15_x_only() -> None:
    request = collect_request([FIPFS, KB, CVE], NOW - timedelta(days=7))
    queries = {q.id: q for q in request.events}
    engine = queries["FIPFS-2022.engine_failed_to_load"]
    assert (engine.sources, engine.event_ids, engine.exchange) == (
        ("FIPFS",),
        (5300,),
        ("15.1", "15.2"),
    )
    watson = queries["KB5013118.blocked_deserialize"]
    assert (watson.log, watson.sources, watson.event_ids) == ("Application", (), (4999,))
    assert watson.exchange == ("15.0", "15.1", "15.2")
    assert queries["KB5013118.service_host_terminated"].log == "System"
    assert request.files == ()


def test_without_the_script_variable_the_reset_is_the_manual_instruction() -> None:
    steps = plan_steps(FIPFS, host("15.2.986.14"), {})
    assert steps[0].kind == "manual"
    assert "https://aka.ms/ResetScanEngineVersion" in (steps[0].instruction or "")


@pytest.mark.parametrize(
    ("version", "family"),
    [
        ("6.3.9600", "w2012r2"),
        ("10.0", "w2016"),
        ("10.0.14393", "w2016"),
        ("10.0.19042", "w2019"),  # a Semi-Annual Channel server after 2019
        ("10.0.25398", "w2022"),  # Windows Server 23H2
        ("10.0.26100", "w2025"),
        ("5.2.3790", "w2k3"),
    ],
)
def test_windows_server_families(version: str, family: str) -> None:
    assert os_family(version) == family
