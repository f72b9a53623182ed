"""Evaluation with plain data: evidence in, findings out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.rules.evaluate import evaluate, event_query_id
from remediate.rules.evidence import (
    ComponentState,
    EventMatches,
    EventSample,
    Evidence,
    ExchangeFacts,
    FileEvidence,
    OsFacts,
    ServiceState,
)
from remediate.rules.findings import Status
from remediate.rules.playbook import Playbook, load_playbooks

PLAYBOOKS = {p.id: p for p in load_playbooks([Path(__file__).parents[2] / "playbooks"])}
NOW = datetime(2026, 11, 20, tzinfo=UTC)
OLD = datetime(2000, 1, 1, tzinfo=UTC)
FIXED_ON = datetime(2001, 6, 1, tzinfo=UTC)


def host(version: str = "5.5", build: str = "5.5.2448.0", sp: int | None = 2, **parts) -> Evidence:
    os = OsFacts(
        "Microsoft Windows 2000 Server", "5.0.2195", 2195, 4, "x86", "EX", "2.0", NOW, "UTC"
    )
    exchange = ExchangeFacts(f"Exchange {version}", version, build, sp, "C:\\exchsrvr")
    return Evidence(
        host="ex", engine="powershell", os=os, exchange=exchange, pending_reboot=False, **parts
    )


def files_for(
    playbook: Playbook, version: str | None, modified: datetime = OLD, exists: bool = True
):
    return tuple(
        FileEvidence(
            row.key,
            f"C:\\exchsrvr\\{row.location()[1]}",
            exists,
            version if row.version else None,
            version if row.version else None,
            10,
            modified,
        )
        for row in playbook.fix.files
    )


def events(playbook: Playbook, name: str, *samples: EventSample, total: int | None = None):
    times = [s.time for s in samples]
    return EventMatches(
        event_query_id(playbook, name),
        len(samples) if total is None else total,
        min(times, default=None),
        max(times, default=None),
        samples,
    )


def sample(
    event_id: int,
    message: str = "",
    when: datetime = NOW,
    data: str = "",
    source: str = "MSExchangeMTA",
):
    return EventSample(when, "Error", source, event_id, message, data)


def test_not_applicable_for_another_product() -> None:
    finding = evaluate(PLAYBOOKS["Q232602"], host("6.5", "6.5.7638.1", 2))
    assert finding.status is Status.NOT_APPLICABLE
    assert "Exchange 5.5" in finding.reason


def test_q319936_applies_to_sp4_only() -> None:
    assert (
        evaluate(PLAYBOOKS["Q319936"], host(sp=3, build="5.5.2650.0")).status
        is Status.NOT_APPLICABLE
    )


def test_missing_fix_then_affected_q232602() -> None:
    playbook = PLAYBOOKS["Q232602"]
    before = host(files=files_for(playbook, "5.5.2448.0"))
    finding = evaluate(playbook, before)
    assert finding.status is Status.MISSING_FIX
    assert (
        "SP2 is below SP3" in finding.reason
        and "Ems_rid.dll 5.5.2448.0 < 5.5.2614.0" in finding.reason
    )
    older = [v for v in finding.files if v.verdict == "older"]
    assert [v.file for v in older] == [
        "Ems_rid.dll",
        "Emsmta.exe",
        "Mtacheck.exe",
        "Mtamsg.dll",
        "X400om.dll",
        "X400omv1.dll",
    ]
    with_events = replace(
        before, events=(events(playbook, "association_error", sample(4284, "Error code=8511")),)
    )
    affected = evaluate(playbook, with_events)
    assert affected.status is Status.AFFECTED
    assert "association_error (1)" in affected.reason


def test_codes_must_appear_in_the_message() -> None:
    playbook = PLAYBOOKS["Q232602"]
    other_code = replace(
        host(files=files_for(playbook, "5.5.2448.0")),
        events=(events(playbook, "association_error", sample(4284, "Error code=1234")),),
    )
    assert evaluate(playbook, other_code).status is Status.MISSING_FIX


def test_hotfix_files_make_it_compliant_and_later_events_investigate() -> None:
    playbook = PLAYBOOKS["Q232602"]
    fixed = host(files=files_for(playbook, "5.5.2614.0", FIXED_ON))
    assert evaluate(playbook, fixed).status is Status.COMPLIANT
    old_events = replace(
        fixed, events=(events(playbook, "association_error", sample(4284, "8511", OLD)),)
    )
    assert evaluate(playbook, old_events).status is Status.COMPLIANT
    new_events = replace(
        fixed, events=(events(playbook, "association_error", sample(4284, "8511", NOW)),)
    )
    finding = evaluate(playbook, new_events)
    assert finding.status is Status.INVESTIGATE
    assert "after the fix's file date 2001-06-01" in finding.reason


def test_service_pack_supersedes_the_file_table() -> None:
    playbook = PLAYBOOKS["Q193639"]
    sp3 = host(build="5.5.2650.0", sp=3, files=files_for(playbook, "5.5.2650.0"))
    assert evaluate(playbook, sp3).status is Status.COMPLIANT


def test_q193639_matches_on_event_data_bytes() -> None:
    playbook = PLAYBOOKS["Q193639"]
    base = host(build="5.5.2232.0", sp=1, files=files_for(playbook, "5.5.2232.0"))
    wrong = sample(4116, data="7400050001000780", source="MSExchangeIMC")
    right = sample(4116, data="740005000e000780aabb", source="MSExchangeIMC")
    name = "imc_stopped_on_mapi_error"
    assert (
        evaluate(playbook, replace(base, events=(events(playbook, name, wrong),))).status
        is Status.MISSING_FIX
    )
    assert (
        evaluate(playbook, replace(base, events=(events(playbook, name, right),))).status
        is Status.AFFECTED
    )


def test_pending_rename_means_needs_reboot() -> None:
    playbook = PLAYBOOKS["Q193639"]
    files = files_for(playbook, "5.5.2232.0")
    pending = (
        host(
            build="5.5.2232.0",
            sp=1,
            files=files,
            pending_reboot=True,
            pending_renames=(files[0].path,),
        )
        if False
        else replace(
            host(build="5.5.2232.0", sp=1, files=files),
            pending_reboot=True,
            pending_renames=(files[0].path,),
        )
    )
    assert evaluate(playbook, pending).status is Status.NEEDS_REBOOT


def test_kb840469_state_based_fix() -> None:
    playbook = PLAYBOOKS["KB840469"]
    broken = host(
        "6.5",
        "6.5.7638.1",
        2,
        services=(ServiceState("MSExchangeMTA", True, "Stopped", "Auto"),),
        components=(ComponentState("smtp", True, "oc_manager"),),
        events=(
            events(
                playbook,
                "init_routing_error",
                sample(9405, "Init Routing API returned error -2147219168."),
            ),
        ),
    )
    finding = evaluate(playbook, broken)
    assert finding.status is Status.AFFECTED
    assert "service MSExchangeMTA running does not hold" in finding.reason
    healthy = replace(broken, services=(ServiceState("MSExchangeMTA", True, "Running", "Auto"),))
    assert evaluate(playbook, healthy).status is Status.COMPLIANT
    stopped_quiet = replace(broken, events=())
    assert evaluate(playbook, stopped_quiet).status is Status.MISSING_FIX
    unread = replace(broken, services=())
    assert evaluate(playbook, unread).status is Status.UNKNOWN


def test_exchange_2000_before_sp2_is_not_concerned_by_kb840469() -> None:
    assert (
        evaluate(PLAYBOOKS["KB840469"], host("6.0", "6.0.4712.7", 1)).status
        is Status.NOT_APPLICABLE
    )
    assert (
        evaluate(
            PLAYBOOKS["KB840469"],
            host(
                "6.0",
                "6.0.6249.0",
                3,
                services=(ServiceState("MSExchangeMTA", True, "Running", "Auto"),),
                components=(ComponentState("smtp", True),),
            ),
        ).status
        is Status.COMPLIANT
    )


def test_unknown_service_pack_with_bounds_is_unknown() -> None:
    assert evaluate(PLAYBOOKS["Q319936"], host(sp=None)).status is Status.UNKNOWN


def test_repeating_events_count_rule() -> None:
    playbook = PLAYBOOKS["Q232602"]
    base = host(files=files_for(playbook, "5.5.2448.0"))
    burst = [sample(4287, when=NOW.replace(minute=m)) for m in (0, 10, 20)]
    spread = [sample(4287, when=NOW.replace(hour=h)) for h in (0, 5, 10)]
    assert (
        evaluate(
            playbook, replace(base, events=(events(playbook, "repeating_errors", *burst),))
        ).status
        is Status.AFFECTED
    )
    assert (
        evaluate(
            playbook, replace(base, events=(events(playbook, "repeating_errors", *spread),))
        ).status
        is Status.MISSING_FIX
    )


@pytest.mark.parametrize("playbook_id", sorted(PLAYBOOKS))
def test_every_playbook_decides_something_for_any_55_host(playbook_id: str) -> None:
    finding = evaluate(PLAYBOOKS[playbook_id], host())
    assert finding.status in set(Status)
    assert finding.reason
