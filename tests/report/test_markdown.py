"""The Markdown summary (`--format md`): counts servers, lists them worst first with a next step,
and keeps whatever a host sent as inert text, in the table and out of HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from markdown_it import MarkdownIt

from remediate.errors import ConnectError
from remediate.report.document import run_document, run_from_document
from remediate.report.markdown import escape, render_markdown
from remediate.report.registry import write_reports
from remediate.report.reporter import ReportContext
from remediate.rules.evidence import Evidence, ExchangeFacts, OsFacts
from remediate.rules.findings import Finding, Status
from remediate.rules.playbook import load_playbooks
from remediate.rules.results import AuditRun, HostResult

PLAYBOOKS = tuple(load_playbooks([Path(__file__).resolve().parents[2] / "playbooks"]))
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CONTEXT = ReportContext(inventory="inventory/site-a.ini", generated_by="carol@ci")
HOSTILE = "ex|<script>alert(1)</script>`rm`*x*[l](http://e)"


def _evidence(host: str) -> Evidence:
    os = OsFacts(
        "Microsoft Windows Server 2019 Standard", "10.0.17763", 17763, 0, "64-bit", host,
        "5.1", NOW, "UTC",
    )  # fmt: skip
    exchange = ExchangeFacts(
        "Exchange Server 2019", "15.2", "15.2.1544.4", None, r"C:\Exchange", update="CU14"
    )
    return Evidence(host, "powershell", os, exchange, False)


def _host(host: str, status: Status, playbooks: int = 2) -> HostResult:
    findings = tuple(
        Finding(host=host, playbook=p.id, status=Status.COMPLIANT, reason="ok")
        for p in PLAYBOOKS[:playbooks]
    )
    first = Finding(host=host, playbook=PLAYBOOKS[0].id, status=status, reason=HOSTILE)
    return HostResult(host, (first, *findings[1:]), evidence=_evidence(host))


def _run(*results: HostResult) -> AuditRun:
    return AuditRun("run-1", NOW, PLAYBOOKS, NOW - timedelta(days=7), list(results), finished=NOW)


def _fleet() -> AuditRun:
    down = HostResult(
        "ex-down",
        tuple(
            Finding(host="ex-down", playbook=p.id, status=Status.ERROR, reason="unreachable")
            for p in PLAYBOOKS[:2]
        ),
        error=ConnectError("connection refused | <b>bold</b>", host="ex-down"),
    )
    return _run(
        _host("ex-ok", Status.COMPLIANT),
        _host("ex-missing", Status.MISSING_FIX),
        _host("ex-affected", Status.AFFECTED),
        down,
    )


def _table_rows(text: str, heading: str) -> list[str]:
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|")][2:]


def test_the_summary_counts_servers_not_findings() -> None:
    text = render_markdown(_fleet(), CONTEXT)
    assert "**2 of 4 server(s) need action**" in text
    assert "- 1 compliant" in text
    assert "- 1 not audited" in text
    assert "Run by: carol@ci" in text and "Inventory: inventory/site-a.ini" in text


def test_per_article_the_servers_affected_and_severity() -> None:
    text = render_markdown(_fleet(), CONTEXT)
    rows = {row.split("|")[1].strip(): row for row in _table_rows(text, "Articles")}
    first = PLAYBOOKS[0]
    cells = [c.strip() for c in rows[first.id].split("|")[1:-1]]
    assert cells[:4] == [first.id, first.severity, "2", "1"]
    assert set(rows) == {p.id for p in PLAYBOOKS}
    # The article with servers affected comes first.
    assert _table_rows(text, "Articles")[0].split("|")[1].strip() == first.id


def test_the_server_overview_is_worst_first_with_product_and_next_step() -> None:
    text = render_markdown(_fleet(), CONTEXT)
    rows = [[c.strip() for c in row.split("|")[1:-1]] for row in _table_rows(text, "Servers")]
    assert [r[0] for r in rows] == ["ex-affected", "ex-missing", "ex-down", "ex-ok"]
    assert [r[3] for r in rows] == ["affected", "missing_fix", "error", "compliant"]
    affected = rows[0]
    assert affected[1] == "Microsoft Windows Server 2019 Standard"
    assert affected[2] == "Exchange Server 2019 CU14"
    assert (
        f"`remediate plan inventory/site-a.ini --playbook {PLAYBOOKS[0].id} --limit ex-affected`"
        in affected[4]
    )
    assert "unreachable" in rows[2][4] and rows[3][4] == "nothing to do"


def test_host_text_cannot_break_the_table_or_inject_html() -> None:
    host = _host(HOSTILE, Status.MISSING_FIX)
    text = render_markdown(_run(host), ReportContext("inv|<i>x</i>", "<script>me</script>"))
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in html and "<i>" not in html
    assert "<a " not in html and "<em>" not in html
    rows = html.split("<tbody>")[2].split("</tbody>")[0].count("<tr>")
    assert rows == 1
    # The one server row still has its five cells, the hostile name whole in the first.
    row = html.split("<tbody>")[2].split("<tr>")[1]
    assert row.count("<td") == 5
    assert "ex|&lt;script&gt;alert(1)&lt;/script&gt;`rm`*x*[l](http://e)" in row


def test_escape_keeps_one_line_and_a_bounded_length() -> None:
    assert escape("a\nb\r\x00c") == "a b c"
    assert len(escape("x" * 10_000)) <= 120
    assert escape("a|b`c<d>") == "a\\|b\\`c\\<d\\>"


def test_a_run_read_back_from_history_renders_the_same() -> None:
    run = _fleet()
    again = run_from_document(run_document(run), list(PLAYBOOKS))
    assert render_markdown(again, CONTEXT) == render_markdown(run, CONTEXT)


def test_a_large_fleet_is_cut_with_a_count(tmp_path: Path) -> None:
    run = _run(*(_host(f"ex{n:04}", Status.COMPLIANT) for n in range(250)))
    text = render_markdown(run, CONTEXT)
    assert len(_table_rows(text, "Servers")) == 200
    assert "and 50 more server(s)" in text


def test_md_is_a_registered_format(tmp_path: Path) -> None:
    (path,) = write_reports(_fleet(), ("md",), tmp_path, "hosts.ini", "me")
    assert path.name == "audit-run-1.md"
    assert "need action" in (tmp_path / "latest.md").read_text(encoding="utf-8")


def test_new_and_resolved_since_the_previous_run_when_the_history_knows() -> None:
    from dataclasses import replace

    run = _fleet()
    assert "Since the previous run" not in render_markdown(run, CONTEXT)
    drifts = iter(["new", "resolved", "unchanged", "new"])
    run.results[:] = [
        replace(r, findings=tuple(replace(f, drift=next(drifts, "unchanged")) for f in r.findings))
        for r in run.results
    ]
    assert "Since the previous run: 2 new finding(s), 1 resolved" in render_markdown(run, CONTEXT)
