"""The HTML report's answer for people: servers (not findings) at the top, the server overview,
per-host next steps, the trend from the history, and a print that stays short (issue 17)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from remediate.audit.session import audit_and_report
from remediate.errors import InputError
from remediate.history import History
from remediate.report.html import (
    NEEDS_ACTION,
    NOT_AUDITED,
    NOTHING_TO_DO,
    WHAT_TO_TRY,
    TrendPoint,
    host_anchor,
    host_standing,
    plan_command,
    render_html,
    trend_point,
    trend_point_from_document,
    write_html,
)
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED
from remediate.rules.results import AuditRun
from tests.conftest import AuditRequestFactory
from tests.report.test_html import (  # noqa: F401 (fixtures used by name)
    Page,
    assert_self_contained,
    browser,
    visit,
)

INVENTORY = "lab/demo/hosts.ini"
MAX_PAGES, MAX_SUMMARY_PAGES = 20, 3
A4_WITH_MARGINS = {
    "format": "A4",
    "margin": {"top": "1cm", "bottom": "1cm", "left": "1cm", "right": "1cm"},
}


@pytest.fixture(scope="module")
def two_runs(
    demo_inventory: Path,
    tmp_path_factory: pytest.TempPathFactory,
    audit_request: AuditRequestFactory,
) -> tuple[AuditRun, list[TrendPoint]]:
    """The demo fleet audited twice into one history; the second run and the trend as the
    history gives it (the call the report's writer makes when it has the history)."""
    folder = tmp_path_factory.mktemp("html-summary")
    history = folder / "history.db"
    run = None
    for number in (1, 2):
        request = audit_request(demo_inventory, folder / f"out{number}", history=history)
        run = audit_and_report(request).run
    assert run is not None
    with History(history) as stored:
        trend = [trend_point_from_document(stored.document(r.run_id)) for r in stored.runs()]
    return run, trend


@pytest.fixture(scope="module")
def summary_report(
    two_runs: tuple[AuditRun, list[TrendPoint]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    run, trend = two_runs
    path = tmp_path_factory.mktemp("html-summary-report") / "report.html"
    return write_html(
        run, path, inventory=INVENTORY, generated_by="ci@lab", trend=trend, host_steps=_plan_lines
    )


def _standing(run: AuditRun) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {NEEDS_ACTION: [], NOT_AUDITED: [], NOTHING_TO_DO: []}
    for result in sorted(run.results, key=lambda r: r.host):
        found[host_standing(result)].append(result.host)
    return found


# -- without a browser ----------------------------------------------------------------------


def test_hosts_are_counted_by_their_worst_need(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs
    standing = _standing(run)
    for result in run.results:
        statuses = {f.status for f in result.findings}
        expected = (
            NEEDS_ACTION
            if statuses & NON_COMPLIANT
            else NOT_AUDITED
            if statuses & UNDETERMINED
            else NOTHING_TO_DO
        )
        assert result.host in standing[expected]
    # the demo has each kind, so the counts below can fail
    assert all(standing.values())


def test_top_counts_servers_and_articles(two_runs: tuple[AuditRun, Any]) -> None:
    run, trend = two_runs
    html = render_html(run, inventory=INVENTORY, generated_by="ci", trend=trend)
    page = Page(html)
    text = " ".join(page.all_text.split())
    standing = _standing(run)
    hosts = len(run.results)
    assert f"{len(standing[NEEDS_ACTION])} of {hosts} server(s) need action" in text
    assert f"{len(standing[NOTHING_TO_DO])} compliant (nothing to do)" in text
    assert f"{len(standing[NOT_AUDITED])} not audited" in text
    for playbook in run.playbooks:
        affected = {f.host for f in run.findings if f.playbook == playbook.id} & {
            f.host for f in run.findings if f.playbook == playbook.id and f.status in NON_COMPLIANT
        }
        row = re.search(
            rf'<tr data-article="{re.escape(playbook.id)}">.*?</th><td class="sev[^"]*">'
            rf'{playbook.severity}</td><td class="count[^"]*">(\d+)</td>',
            html,
        )
        assert row is not None and int(row.group(1)) == len(affected), playbook.id
    assert_self_contained(page)


def test_changes_and_trend_come_from_the_history(two_runs: tuple[AuditRun, Any]) -> None:
    run, trend = two_runs
    assert len(trend) == 2 and trend[0].run_id == run.run_id
    assert trend[0] == trend_point(run)  # the stored document counts as the run does
    html = render_html(run, inventory=INVENTORY, generated_by="ci", trend=trend)
    text = " ".join(Page(html).all_text.split())
    assert "0 new, 0 resolved." in text  # the demo does not change between two runs
    assert html.count('<rect class="bar') == 2
    assert '<svg role="img" aria-labelledby="trend-title"' in html
    needing = trend_point(run).needs_action
    assert f"{needing} of {len(run.results)}; " in text  # the text alternative names values
    # without a history: no chart, and the page says why nothing is compared
    alone = replace(run, results=[_undrifted(r) for r in run.results])
    html = render_html(alone, inventory=INVENTORY, generated_by="ci")
    assert "<svg" not in html and "was not recorded with a history" in html


def _undrifted(result: Any) -> Any:
    return replace(result, findings=tuple(replace(f, drift=None) for f in result.findings))


def test_new_and_resolved_link_to_their_hosts(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs
    action = next(f for f in run.findings if f.status in NON_COMPLIANT)
    done = next(f for f in run.findings if f.status not in NON_COMPLIANT)
    changed = replace(
        run,
        results=[
            replace(
                r,
                findings=tuple(
                    replace(f, drift="new" if f is action else "resolved" if f is done else None)
                    for f in r.findings
                ),
            )
            for r in run.results
        ],
    )
    html = render_html(changed, inventory=INVENTORY, generated_by="ci")
    text = " ".join(Page(html).all_text.split())
    assert "1 new, 1 resolved." in text
    assert f"New: {action.host} {action.playbook}" in text
    assert f"Resolved: {done.host} {done.playbook}" in text
    assert f'href="#host-{action.host.lower()}"' in html


def test_trend_keeps_the_last_runs_oldest_first(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs
    old = [TrendPoint(f"old-{n}", run.started - timedelta(days=n), n, 30) for n in range(1, 20)]
    html = render_html(run, inventory=INVENTORY, generated_by="ci", trend=old)
    assert html.count('<rect class="bar') == 12
    assert html.count('<rect class="bar current"') == 1
    labels = re.findall(r'font-weight="700">(\d+)/(\d+)</text>', html)
    assert labels[0] == ("11", "30")  # eleven days back is the oldest kept
    assert labels[-1] == (str(trend_point(run).needs_action), str(len(run.results)))


def test_trend_ticks_are_dates_or_times_of_day(two_runs: tuple[AuditRun, Any]) -> None:
    """Daily runs are labelled by day; runs within a day (hourly cron) by their time."""
    run, _ = two_runs
    ticks = re.compile(r'<text[^>]*class="tick"[^>]*>([^<]+)</text>')
    daily = [TrendPoint(f"d-{n}", run.started - timedelta(days=n), 1, 30) for n in (2, 1)]
    html = render_html(run, inventory=INVENTORY, generated_by="ci", trend=daily)
    assert ticks.findall(html)[-1] == f"{run.started:%m-%d}"
    hourly = [TrendPoint(f"h-{n}", run.started - timedelta(hours=n), 1, 30) for n in (2, 1)]
    html = render_html(run, inventory=INVENTORY, generated_by="ci", trend=hourly)
    assert ticks.findall(html) == [
        f"{run.started - timedelta(hours=2):%H:%M}",
        f"{run.started - timedelta(hours=1):%H:%M}",
        f"{run.started:%H:%M}",
    ]


def test_each_error_reason_is_stated_once_per_host(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs
    html = render_html(run, inventory=INVENTORY, generated_by="ci")
    failed = [r for r in run.results if r.error is not None]
    assert failed
    for result in failed:
        section = _section(html, result.host)
        assert section.count(f"Not audited ({result.error.reason.replace('_', ' ')})") == 1
        assert section.count("What to try:") == 1
        assert WHAT_TO_TRY[result.error.reason] in " ".join(Page(section).all_text.split())
        assert "Error (" not in section  # not repeated for each article


def test_plan_commands_name_inventory_article_and_host(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs
    html = render_html(run, inventory="my hosts.ini", generated_by="ci")
    for result in run.results:
        section = " ".join(Page(_section(html, result.host)).all_text.split())
        for finding in result.findings:
            command = plan_command("my hosts.ini", finding.playbook, result.host)
            assert (command in section) == (finding.status in NON_COMPLIANT), command
    assert shlex.split(plan_command("my hosts.ini", "Q1", "h"))[2] == "my hosts.ini"
    assert plan_command("x" * 2000, "Q1", "h").split()[2] == "INVENTORY"


def _section(html: str, host: str) -> str:
    pattern = rf'<section class="host [^"]*" id="[^"]*" data-host="{re.escape(host)}">'
    match = re.search(pattern, html)
    assert match is not None
    return html[match.start() : html.index("</section>", match.start())]


# -- in Chromium ----------------------------------------------------------------------------


def test_browser_first_screen_gives_the_answer(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],
    summary_report: Path,
    tmp_path: Path,
) -> None:
    run, _ = two_runs
    seen = visit(summary_report)
    page = seen.page
    standing = _standing(run)
    first = page.locator("ul.standing li.standing-action")
    assert first.inner_text().split()[0] == str(len(standing[NEEDS_ACTION]))
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] < 1400  # within the first screen
    assert page.locator("table.articles tbody tr").count() == len(run.playbooks)
    chart = page.locator("figure.trend svg")
    assert chart.is_visible() and page.locator("figure.trend rect.bar").count() == 2
    assert "Servers needing action" in page.locator("figure.trend figcaption").inner_text()
    page.screenshot(path=str(tmp_path / "top.png"))
    seen.check_clean()


def test_browser_server_overview_has_a_row_per_host(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],
    summary_report: Path,
) -> None:
    run, _ = two_runs
    seen = visit(summary_report)
    page = seen.page
    rows = page.locator("table.overview tbody tr")
    hosts = sorted(run.results, key=lambda r: r.host)
    assert rows.count() == len(hosts)
    for index, result in enumerate(hosts):
        row = rows.nth(index)
        assert row.get_attribute("data-host") == result.host
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        assert cells[0] == result.host
        assert cells[3] == result.transport
        if result.evidence is not None and result.evidence.exchange is not None:
            assert result.evidence.exchange.display.removeprefix("Microsoft ") == cells[2]
        worst = min(
            (f.status for f in result.findings),
            key=lambda s: (
                [*NON_COMPLIANT, *UNDETERMINED].index(s)
                if s in NON_COMPLIANT | UNDETERMINED
                else 99
            ),
        )
        if worst in NON_COMPLIANT:
            assert "install" in cells[5] or "restart" in cells[5] or "look into" in cells[5]
        if result.error is not None:
            assert cells[5].startswith("restore access")
        # the link lands on the host's own section, named after it
        row.locator("th a").click()
        anchor = page.evaluate("location.hash")
        assert anchor == f"#host-{result.host.lower()}"
        assert page.locator(f"section.host[data-host='{result.host}'] h2").is_visible()
    seen.check_clean()


def test_browser_host_shows_next_steps_first_and_folds_the_rest(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],
    summary_report: Path,
    tmp_path: Path,
) -> None:
    run, _ = two_runs
    seen = visit(summary_report)
    page = seen.page
    result = max(run.results, key=lambda r: sum(f.status in NON_COMPLIANT for f in r.findings))
    section = page.locator(f"section.host[data-host='{result.host}']")
    steps = section.locator(".next-steps")
    assert steps.is_visible()
    commands = steps.locator("code.command").all_inner_texts()
    action = sorted(f.playbook for f in result.findings if f.status in NON_COMPLIANT)
    assert sorted(shlex.split(c)[4] for c in commands) == action
    assert all(shlex.split(c)[:3] == ["remediate", "plan", INVENTORY] for c in commands)
    # findings needing action are open and come before everything else
    visible = section.locator("article.finding:visible")
    assert visible.count() == len(action)
    na = section.locator("details.not-applicable")
    if na.count():
        assert na.get_attribute("open") is None
        assert section.locator("details").last.inner_text().startswith("Host facts")
    section.screenshot(path=str(tmp_path / "host.png"))
    seen.check_clean()


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_print_fits_the_page_budget(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],
    summary_report: Path,
) -> None:
    run, _ = two_runs
    assert len(run.results) >= 27
    seen = visit(summary_report)
    full = _pages(seen.page.pdf(**A4_WITH_MARGINS))
    assert 3 < full <= MAX_PAGES, full
    box = seen.page.locator("#print-summary")
    box.check()
    summary = _pages(seen.page.pdf(**A4_WITH_MARGINS))
    assert 0 < summary <= MAX_SUMMARY_PAGES < full, summary
    seen.check_clean()
    # the address asks for the same
    by_address = visit(summary_report)
    by_address.page.goto(summary_report.as_uri() + "?print=summary")
    assert by_address.page.locator("#print-summary").is_checked()
    assert _pages(by_address.page.pdf(**A4_WITH_MARGINS)) == summary
    by_address.check_clean()


def test_browser_not_applicable_is_not_printed(
    visit: Any,  # noqa: F811
    summary_report: Path,
) -> None:
    seen = visit(summary_report)
    page = seen.page
    page.emulate_media(media="print")
    assert page.locator("details.not-applicable").count() > 0
    assert page.locator("details.not-applicable:visible").count() == 0
    assert page.locator("#overview").is_visible()
    seen.check_clean()


def test_browser_filter_unfolds_what_it_asks_for_and_folds_back(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],
    summary_report: Path,
) -> None:
    run, _ = two_runs
    seen = visit(summary_report)
    page = seen.page
    compliant = page.locator("article.finding[data-status=compliant]")
    assert (
        compliant.count() > 0
        and page.locator("article.finding[data-status=compliant]:visible").count() == 0
    )  # folded at first
    for box in page.locator("input[name=status]").all():
        if box.get_attribute("value") != "compliant":
            box.uncheck()
    expected = sum(f.status.value == "compliant" for f in run.findings)
    assert page.locator("article.finding:visible").count() == expected
    page.locator("#show-all").click()
    assert page.locator("article.finding[data-status=compliant]:visible").count() == 0
    action = sum(f.status in NON_COMPLIANT for f in run.findings)
    assert page.locator("article.finding:visible").count() == action
    seen.check_clean()


def _plan_lines(playbook: Any, evidence: Any) -> list[str]:
    """What the command line passes as `host_steps`: remediation's own steps for the host."""
    from remediate.remediation.steps import plan_steps

    return [f"{step.name}: {step.display}" for step in plan_steps(playbook, evidence, {})]


def test_steps_are_made_for_each_host(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs
    html = render_html(run, inventory=INVENTORY, generated_by="ci", host_steps=_plan_lines)
    by_host = {r.host: r for r in run.results}
    kb = [f.host for f in run.findings if f.playbook == "KB840469" and f.status in NON_COMPLIANT]
    versions = {h: by_host[h].evidence.exchange.version for h in kb}  # type: ignore[union-attr]
    assert {"6.0", "6.5"} <= set(versions.values())
    for host, version in versions.items():
        text = " ".join(Page(_section(html, host)).all_text.split())
        assert "Steps on this host" in text and "sysocmgr.exe" in text  # Windows 2000/2003
        assert ("Run Smtpreinstall.exe" in text) == (version == "6.0")
        assert ("Reinstall Exchange Server 2003" in text) == (version == "6.5")
        assert "{{" not in text
    # findings that need nothing list no steps, and without the maker there are none at all
    compliant = next(r for r in run.results if host_standing(r) == NOTHING_TO_DO)
    assert "Steps on this host" not in _section(html, compliant.host)
    assert "Steps on this host" not in render_html(run, inventory=INVENTORY, generated_by="ci")


def test_steps_that_cannot_be_made_say_why(two_runs: tuple[AuditRun, Any]) -> None:
    run, _ = two_runs

    def failing(playbook: Any, evidence: Any) -> list[str]:
        raise InputError(f"{playbook.id}: <b>no</b> step")

    html = render_html(run, inventory=INVENTORY, generated_by="ci", host_steps=failing)
    assert "The steps cannot be made for this host:" in html
    assert "&lt;b&gt;no&lt;/b&gt; step" in html and "<b>no</b>" not in html


def test_host_anchors_are_named_after_hosts_and_safe() -> None:
    taken: set[str] = set()
    assert host_anchor("EX01.corp.local", taken) == "host-ex01.corp.local"
    assert host_anchor("ex01.corp.local", taken) == "host-ex01.corp.local-2"  # unique
    hostile = host_anchor('<script>"x y', taken)
    assert re.fullmatch(r"host-[a-z0-9_.-]+", hostile) and hostile == "host-script-x-y"


def test_trend_point_of_a_document_without_a_time_sorts_first(
    two_runs: tuple[AuditRun, Any],
) -> None:
    run, _ = two_runs
    odd = trend_point_from_document({"run_id": "odd", "started": "not a time", "hosts": []})
    naive = trend_point_from_document({"run_id": "naive", "started": "2020-01-01T00:00:00"})
    assert odd.started < naive.started < run.started and naive.started.tzinfo is not None
    html = render_html(run, inventory=INVENTORY, generated_by="ci", trend=[odd, naive])
    assert html.count('<rect class="bar') == 3
