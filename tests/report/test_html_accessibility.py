"""The HTML report passes axe-core in Chromium with no serious or critical violation (issue 17).

axe-core comes from npm (`npm ci --no-audit --no-fund` at the repository root installs the
version pinned in package.json). The report's Content-Security-Policy blocks any script we
would add with a tag, so axe is loaded with `page.evaluate`, which the policy does not govern.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from remediate.rules.findings import NON_COMPLIANT
from remediate.rules.results import AuditRun
from tests.report.test_html import browser, visit  # noqa: F401 (fixtures used by name)
from tests.report.test_html_summary import (  # noqa: F401 (fixtures used by name)
    summary_report,
    two_runs,
)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
"""Impacts that fail the report; axe's impacts are minor, moderate, serious and critical."""
LANDMARKS = ("landmark-one-main", "region")
"""Moderate rules the report passes too: all its content is in a landmark (banner, main)."""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        reason = f"{AXE} is missing (npm ci --no-audit --no-fund)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (required when CI=true)")
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page: Any, axe_source: str, context: str = "document") -> list[str]:
    """axe's serious and critical violations (and the landmark rules) in `context`, a JS
    expression; one line per rule: its id, help and the targets of the failing nodes."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        f"async () => (await axe.run({context})).violations.map(v => ({{"
        "id: v.id, impact: v.impact, help: v.help,"
        "targets: v.nodes.slice(0, 8).map(n => n.target.join(' ')) }))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {'; '.join(v['targets'])}"
        for v in result
        if v["impact"] in BLOCKING or v["id"] in LANDMARKS
    ]


def _assert_accessible(page: Any, axe_source: str, context: str = "document") -> None:
    found = blocking_violations(page, axe_source, context)
    assert found == [], "axe-core violations:\n" + "\n".join(found)


def test_top_summary_and_trend_pass_axe(
    visit: Any,  # noqa: F811
    summary_report: Path,  # noqa: F811
    axe_source: str,
) -> None:
    seen = visit(summary_report)
    page = seen.page
    assert page.locator("figure.trend rect.bar").count() == 2  # the trend of two runs is there
    _assert_accessible(page, axe_source)
    # axe skips what is folded away: unfold every host's findings and facts, and check again
    page.eval_on_selector_all("details", "all => all.forEach(d => d.open = true)")
    assert (
        page.locator("article.finding:visible").count() == page.locator("article.finding").count()
    )
    _assert_accessible(page, axe_source)
    seen.check_clean()


def test_expanded_host_with_next_steps_passes_axe(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],  # noqa: F811
    summary_report: Path,  # noqa: F811
    axe_source: str,
) -> None:
    run, _ = two_runs
    result = max(run.results, key=lambda r: sum(f.status in NON_COMPLIANT for f in r.findings))
    seen = visit(summary_report)
    page = seen.page
    selector = f"section.host[data-host='{result.host}']"
    page.eval_on_selector_all(f"{selector} details", "all => all.forEach(d => d.open = true)")
    assert page.locator(f"{selector} .next-steps code.command").count() > 0
    assert page.locator(f"{selector} ol.host-steps").first.is_visible()
    _assert_accessible(page, axe_source, f"document.querySelector({selector!r})")
    seen.check_clean()


def test_host_with_errors_passes_axe(
    visit: Any,  # noqa: F811
    two_runs: tuple[AuditRun, Any],  # noqa: F811
    summary_report: Path,  # noqa: F811
    axe_source: str,
) -> None:
    run, _ = two_runs
    failed = [r for r in run.results if r.error is not None]
    assert failed
    seen = visit(summary_report)
    page = seen.page
    for result in failed:
        selector = f"section.host[data-host='{result.host}']"
        page.eval_on_selector_all(f"{selector} details", "all => all.forEach(d => d.open = true)")
        assert page.locator(f"{selector} .problem").count() > 0
        _assert_accessible(page, axe_source, f"document.querySelector({selector!r})")
    seen.check_clean()


def test_print_summary_view_passes_axe(
    visit: Any,  # noqa: F811
    summary_report: Path,  # noqa: F811
    axe_source: str,
) -> None:
    seen = visit(summary_report)
    page = seen.page
    page.goto(summary_report.as_uri() + "?print=summary")
    page.emulate_media(media="print")
    assert page.locator("#print-summary").is_checked()
    assert page.locator("section.host").first.is_hidden()
    _assert_accessible(page, axe_source)
    seen.check_clean()


def test_axe_finds_what_it_must(
    visit: Any,  # noqa: F811
    summary_report: Path,  # noqa: F811
    axe_source: str,
    tmp_path: Path,
) -> None:
    """The control: the same check fails on a copy without the page's language, the trend's
    text alternative and the main landmark."""
    html = summary_report.read_text(encoding="utf-8")
    broken = re.sub(r'<title id="trend-title">.*?</title>', "", html, count=1)
    broken = broken.replace('<html lang="en">', "<html>", 1).replace("<main>", "", 1)
    assert "<main>" not in broken and 'id="trend-title"' not in broken
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    seen = visit(tmp_path / "broken.html")
    found = {line.split()[0] for line in blocking_violations(seen.page, axe_source)}
    assert found >= {"html-has-lang", "svg-img-alt", "landmark-one-main", "region"}, found
