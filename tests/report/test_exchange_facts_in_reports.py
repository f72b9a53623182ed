"""Reports name an Exchange server as people do ("Exchange Server 2019 CU14 Nov24SU"), and
the run document carries the facts behind it (issue 16)."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta

import jsonschema

from remediate.report.document import SCHEMA_FILE, run_document, run_from_document
from remediate.report.html import render_html
from remediate.rules.evaluate import _describe_exchange
from remediate.rules.evidence import Evidence, ExchangeFacts, OsFacts
from remediate.rules.findings import Finding, Status
from remediate.rules.results import AuditRun, HostResult

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OS = OsFacts("Windows Server 2019", "10.0.17763", 17763, 0, "x64", "EX19", None, None, "UTC")
EX2019 = ExchangeFacts(
    product="Exchange Server 2019",
    version="15.2",
    build="15.2.1544.13",
    service_pack=None,
    install_root="C:\\Program Files\\Microsoft\\Exchange Server\\V15\\",
    roles=("Mailbox", "Management"),
    update="CU14 Nov24SU",
    released="2024-11-12",
)
NEWER = ExchangeFacts(
    "Exchange Server SE", "15.2", "15.2.9999.1", None, "D:\\Exchange\\", newer_than_table=True
)


def _run(*exchanges: ExchangeFacts | None) -> AuditRun:
    results = []
    for number, exchange in enumerate(exchanges):
        host = f"ex{number}"
        evidence = Evidence(
            host=host, engine="powershell", os=OS, exchange=exchange, pending_reboot=False
        )
        finding = Finding(host=host, playbook="KB1", status=Status.COMPLIANT, reason="ok")
        results.append(HostResult(host, (finding,), evidence=evidence, transport="winrm"))
    return AuditRun("run-1", NOW, (), NOW - timedelta(days=7), results)


def test_the_document_carries_the_facts_and_the_display_and_validates() -> None:
    document = run_document(_run(EX2019, NEWER, None))
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    first = document["hosts"][0]["facts"]["exchange"]
    assert first["display"] == "Exchange Server 2019 CU14 Nov24SU"
    assert (first["update"], first["released"], first["roles"]) == (
        "CU14 Nov24SU",
        "2024-11-12",
        ["Mailbox", "Management"],
    )
    assert document["hosts"][1]["facts"]["exchange"]["newer_than_table"] is True
    assert document["hosts"][2]["facts"]["exchange"] is None


def test_a_stored_document_reads_back_to_the_same_facts() -> None:
    document = run_document(_run(EX2019, NEWER))
    again = run_from_document(json.loads(json.dumps(document)), [])
    assert [r.evidence.exchange for r in again.results if r.evidence] == [EX2019, NEWER]
    assert run_document(again) == document


def test_a_document_written_before_the_build_table_still_reads() -> None:
    document = run_document(_run(EX2019))
    old = document["hosts"][0]["facts"]["exchange"]
    for key in ("roles", "update", "released", "newer_than_table", "display"):
        del old[key]
    jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    exchange = run_from_document(document, []).results[0].evidence.exchange
    assert exchange is not None
    assert (exchange.build, exchange.update, exchange.roles) == ("15.2.1544.13", "", ())


def test_a_wrong_released_date_is_refused_by_the_schema() -> None:
    document = run_document(_run(EX2019))
    document["hosts"][0]["facts"]["exchange"]["released"] = "12/11/2024"
    try:
        jsonschema.validate(document, json.loads(SCHEMA_FILE.read_text()))
    except jsonschema.ValidationError as error:
        assert "released" in str(error.absolute_path)
    else:
        raise AssertionError("the schema accepted a date that is not YYYY-MM-DD")


def test_the_html_report_and_findings_show_the_display_name() -> None:
    run = _run(EX2019, NEWER)
    page = html.unescape(render_html(run, inventory="inv", generated_by="test", now=NOW))
    assert "Exchange Server 2019 CU14 Nov24SU (build 15.2.1544.13)" in page
    assert "Mailbox, Management" in page and "2024-11-12" in page
    assert "Exchange Server SE build 15.2.9999.1, newer than the build table" in page
    assert "(build 15.2.9999.1)" not in page  # the build is said once
    evidence = run.results[0].evidence
    assert evidence is not None
    assert _describe_exchange(evidence) == (
        "Exchange Server 2019 CU14 Nov24SU (build 15.2.1544.13)"
    )
