"""What an audit asks a host for: the selected playbooks' needs, merged into one request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from remediate.audit.request import SAMPLES, SAMPLES_FILTERED, collect_request
from remediate.rules.playbook import load_playbooks

PLAYBOOKS = {p.id: p for p in load_playbooks([Path(__file__).parents[2] / "playbooks"])}
NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_collect_request_merges_every_need_once() -> None:
    request = collect_request(PLAYBOOKS.values(), NOW)
    assert request.services == ("MSExchangeMTA",)
    assert [c.oc for c in request.components] == ["iis_smtp"]
    keys = [f.id for f in request.files]
    assert len(keys) == len(set(keys))
    assert (
        "exchange:bin\\emsmta.exe" in keys
        and "exchange:connect\\msexcimc\\bin\\msexcimc.exe" in keys
    )
    ids = {e.id for e in request.events}
    assert "KB840469.init_routing_error" in ids and "Q193639.imc_stopped_on_mapi_error" in ids
    assert all(e.since == NOW for e in request.events)


def test_selections_that_filter_ask_for_more_samples() -> None:
    request = collect_request([PLAYBOOKS["KB840469"]], NOW)
    samples = {e.id: e.max_samples for e in request.events}
    assert samples["KB840469.init_routing_error"] == SAMPLES_FILTERED  # filters on codes
    assert samples["KB840469.mta_recovery"] == SAMPLES  # source and event ids only
    assert SAMPLES < SAMPLES_FILTERED


def test_components_are_asked_for_by_language_neutral_id() -> None:
    """Win32_ServerFeature.Name is localised; the request carries the ID (48 = SMTP Server in
    the ID table of Microsoft's "Win32_ServerFeature class" page), never a display name."""
    request = collect_request([PLAYBOOKS["KB840469"]], NOW)
    (smtp,) = request.components
    assert (smtp.name, smtp.oc, smtp.feature_id) == ("smtp", "iis_smtp", 48)
    sent = request.arguments()["components"]
    assert sent == [{"name": "smtp", "oc": "iis_smtp", "feature_id": 48}]
    assert "SMTP Server" not in str(sent)


def test_event_filters_carry_their_playbooks_exchange_versions() -> None:
    """The collector skips a filter on a host outside its playbook (one round trip)."""
    request = collect_request(PLAYBOOKS.values(), NOW)
    by_id = {e.id: e for e in request.events}
    assert by_id["KB840469.init_routing_error"].exchange == ("6.0", "6.5")
    for event in request.events:
        playbook = PLAYBOOKS[event.id.split(".")[0]]
        assert set(event.exchange) == {p.version for p in playbook.applies_to.products}
    assert request.arguments()["events"][0]["exchange"] == list(request.events[0].exchange)


def test_the_lab_reads_no_events_on_a_host_outside_the_playbooks() -> None:
    from remediate.lab.answers.collect import answer_collect
    from remediate.lab.fleet import HostSpec
    from remediate.lab.host import LabHost
    from remediate.probes.collect import build_collect_script
    from remediate.probes.protocol import parse_declaration

    request = collect_request([PLAYBOOKS["KB840469"]], NOW)
    declared = parse_declaration(build_collect_script(request, "powershell"))
    assert declared is not None
    outside = LabHost(
        spec=HostSpec.model_validate(
            {
                "name": "ex55.lab.local",
                "exchange": {"version": "5.5", "build": "5.5.2653.23", "service_pack": 4},
            }
        )
    )
    answer_collect(outside, declared)
    assert outside.event_queries == []
    inside = LabHost(spec=HostSpec.model_validate({"name": "ex2003.lab.local", "exchange": {}}))
    answer_collect(inside, declared)
    assert [r.log for r in inside.event_queries] == ["application"]
    assert all(r.since == NOW for r in inside.event_queries)
