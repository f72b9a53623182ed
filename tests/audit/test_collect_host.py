"""The collector end to end: real transports, the lab, one round trip, strict parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remediate.audit.host import collect
from remediate.errors import ProbeError
from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from remediate.probes.collect import CollectRequest, ComponentQuery, EventQuery, FileQuery
from tests.conftest import lab_winrm

HOSTILE_PATH = 'bin\\it\'s "$(Remove-Item C:\\)" `x`; exit 3\n.exe'

FLEET = """
address_base: 127.22.0.1
hosts:
  - name: ex55.lab.local
    exchange: {product: Microsoft Exchange Server 5.5, version: "5.5", build: 5.5.2448.0,
               service_pack: 2, install_root: 'C:\\exchsrvr'}
    files:
      - {path: 'C:\\exchsrvr\\bin\\emsmta.exe', version: 5.5.2448.0, size: 1000,
         modified: 2000-05-01T00:00:00Z}
      - {path: 'C:\\exchsrvr\\mtadata\\mtaview.tpl', size: 10}
      - {path: 'C:\\exchsrvr\\bin\\msexcimc.exe', version: 5.5.2232.0,
         pending_version: 5.5.2417.0}
    services: [{name: MSExchangeMTA, state: stopped, start_mode: manual}]
    components: {iis_smtp: true}
    event_logs:
      records:
        - {source: MSExchangeMTA, event_id: 4284, time: 2026-01-05T10:00:00Z,
           message: "error 8511 <script>alert(1)</script>", data: "74 00 05 00 0e 00 07 80"}
      generators:
        - {source: MSExchangeMTA, event_id: 4287, count: 100000, every_seconds: 60,
           end: 2026-01-06T00:00:00Z}
        - {source: MSExchangeIS, event_id: 1000, type: information, count: 500}
  - name: corrupt.lab.local
    faults: {corrupt_output: true}
  - name: nops.lab.local
    os: {powershell: null}
"""

REQUEST = CollectRequest(
    services=("MSExchangeMTA", "NoSuchService"),
    components=(ComponentQuery("smtp", "iis_smtp", 48),),
    files=(
        FileQuery("emsmta", "exchange", "bin\\emsmta.exe"),
        FileQuery("template", "exchange", "mtadata\\mtaview.tpl"),
        FileQuery("imc", "exchange", "bin\\msexcimc.exe"),
        FileQuery("hostile", "exchange", HOSTILE_PATH),
    ),
    events=(
        EventQuery(
            "mta",
            "Application",
            ("MSExchangeMTA",),
            (4284, 4287),
            since=datetime(2026, 1, 5, tzinfo=UTC),
            max_samples=5,
        ),
        EventQuery("none", "System", ("MSExchangeMTA",), (4284,)),
    ),
)


@pytest.fixture(scope="module")
def lab():
    with Lab(parse_fleet(FLEET, "collector.yml")) as running:
        yield running


def test_one_round_trip_brings_back_all_the_evidence(lab: Lab) -> None:
    before = lab.counters("ex55.lab.local")["commands"]
    link = lab_winrm(lab, "ex55.lab.local")
    try:
        collection = collect(link, "ex55.lab.local", REQUEST)
    finally:
        link.close()
    assert collection.round_trips == 1
    assert lab.counters("ex55.lab.local")["commands"] == before + 1
    assert lab.counters("ex55.lab.local")["shells_open"] == 0
    evidence = collection.evidence
    assert evidence.engine == "powershell"
    assert evidence.exchange is not None
    assert (evidence.exchange.version, evidence.exchange.service_pack) == ("5.5", 2)
    assert evidence.exchange.install_root == "C:\\exchsrvr"
    assert evidence.service("MSExchangeMTA") == evidence.services[0]
    assert (evidence.services[0].state, evidence.services[0].start_mode) == ("Stopped", "Manual")
    assert not evidence.service("NoSuchService").found  # type: ignore[union-attr]
    assert evidence.component("smtp").installed is True  # type: ignore[union-attr]
    emsmta = evidence.file("emsmta")
    assert emsmta is not None and emsmta.version == "5.5.2448.0" and emsmta.size == 1000
    assert emsmta.modified == datetime(2000, 5, 1, tzinfo=UTC)
    template = evidence.file("template")
    assert template is not None and template.exists and template.version is None
    assert evidence.pending_reboot
    assert evidence.pending_renames == ("C:\\exchsrvr\\bin\\msexcimc.exe",)
    mta = evidence.event_matches("mta")
    assert mta is not None
    # 4284 once on Jan 5, and 4287 every minute from Jan 5 00:00 to Jan 6 00:00 inclusive
    assert mta.total == 1 + 24 * 60 + 1
    assert mta.first == datetime(2026, 1, 5, tzinfo=UTC)
    assert mta.last == datetime(2026, 1, 6, tzinfo=UTC)
    assert len(mta.samples) == 5 and mta.samples[0].time == mta.last
    none = evidence.event_matches("none")
    assert none is not None and none.total == 0 and none.samples == ()


def test_hostile_paths_travel_as_data(lab: Lab) -> None:
    link = lab_winrm(lab, "ex55.lab.local")
    try:
        evidence = collect(link, "ex55.lab.local", REQUEST).evidence
    finally:
        link.close()
    hostile = evidence.file("hostile")
    assert hostile is not None and not hostile.exists
    assert hostile.path == "C:\\exchsrvr\\" + HOSTILE_PATH
    received = lab.host("ex55.lab.local").received[-1]
    assert received.name == "collect"
    assert HOSTILE_PATH in [f["path"] for f in received.arguments["files"]]


def test_event_samples_keep_message_and_binary_data(lab: Lab) -> None:
    request = CollectRequest(events=(EventQuery("x", "Application", (), (4284,)),))
    link = lab_winrm(lab, "ex55.lab.local")
    try:
        matches = collect(link, "ex55.lab.local", request).evidence.event_matches("x")
    finally:
        link.close()
    assert matches is not None and matches.total == 1
    sample = matches.samples[0]
    assert sample.message == "error 8511 <script>alert(1)</script>"
    assert sample.data_hex == "740005000e000780"
    assert (sample.source, sample.event_id, sample.type) == ("MSExchangeMTA", 4284, "Error")


def test_corrupt_output_is_a_probe_error_for_that_host(lab: Lab) -> None:
    link = lab_winrm(lab, "corrupt.lab.local")
    try:
        with pytest.raises(ProbeError) as error:
            collect(link, "corrupt.lab.local", REQUEST)
    finally:
        link.close()
    assert error.value.host == "corrupt.lab.local"
    assert "unusable" in str(error.value)


def test_a_host_without_powershell_is_audited_with_wsh(lab: Lab) -> None:
    link = lab_winrm(lab, "nops.lab.local")
    try:
        collection = collect(link, "nops.lab.local", REQUEST)
    finally:
        link.close()
    assert (collection.dialect, collection.round_trips) == ("wsh", 2)
    assert collection.evidence.engine == "wsh"
    assert lab.host("nops.lab.local").temp_files == {}
    assert lab.counters("nops.lab.local")["shells_open"] == 0


def test_lab_answers_are_quick_even_for_huge_generated_logs(lab: Lab) -> None:
    request = CollectRequest(
        events=(EventQuery("all", "Application", (), (), datetime.now(UTC) - timedelta(days=3650)),)
    )
    link = lab_winrm(lab, "ex55.lab.local")
    try:
        matches = collect(link, "ex55.lab.local", request).evidence.event_matches("all")
    finally:
        link.close()
    assert matches is not None and matches.total == 1 + 100_000 + 500
