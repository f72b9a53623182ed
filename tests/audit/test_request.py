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
