"""The HTML report: structure, escaping, and a real (offline) Chromium using its script."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from remediate.audit.session import audit_and_report
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.report.html import STATUS_ORDER, render_html, write_html
from remediate.rules.findings import NON_COMPLIANT
from remediate.rules.results import AuditRun
from tests.conftest import PLAYBOOKS, AuditRequestFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = (
    "Error code=8511 <script>alert(1)</script> <img src=x onerror=alert(2)> "
    '<a href="javascript:alert(3)">details</a> & "quoted"'
)
LONG = "Error code=8640 " + "overflow " * 600
HOSTILE_TITLE = "<img src=x onerror=alert(4)> MTA & associations"
HOSTILE_STEP = "<script>alert(5)</script>"
HOSTILE_USER = "<b onmouseover=alert(6)>auditor</b>"
FLEET = """
address_base: 127.27.0.1
defaults:
  exchange: {version: "5.5", build: 5.5.2448.0, service_pack: 2, install_root: 'C:\\exchsrvr'}
  files:
    - {path: 'C:\\exchsrvr\\bin\\emsmta.exe', version: 5.5.2448.0}
hosts:
  - name: hostile.lab.local
    event_logs:
      generators:
        - {source: MSExchangeMTA, event_id: 4284, count: 3, every_seconds: 600,
           data: "74 00 05 00", message: MESSAGE}
        - {source: MSExchangeMTA, event_id: 4287, count: 1, every_seconds: 600,
           message: LONG}
"""


# -- parsing helpers ------------------------------------------------------------------------


class Page(HTMLParser):
    """What the checks need from a page: elements with attributes, text, scripts, styles."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._raw: str | None = None
        self._stack: list[tuple[str, dict[str, str], list[str]]] = []
        self.rows: list[dict[str, Any]] = []
        self.header: list[str] = []
        self._in_matrix = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag in ("script", "style"):
            self._raw = tag
            (self.scripts if tag == "script" else self.styles).append("")
        if tag == "table" and attributes.get("id") == "matrix":
            self._in_matrix = True
        if self._in_matrix and tag in ("th", "td", "tr"):
            self._stack.append((tag, attributes, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._raw = None
        if tag == "table":
            self._in_matrix = False
        if self._in_matrix and tag in ("th", "td") and self._stack:
            _, attributes, parts = self._stack.pop()
            cell = {"text": " ".join("".join(parts).split()), **attributes}
            row = self._stack[-1]
            row[2].append(cell)  # type: ignore[arg-type]
        elif self._in_matrix and tag == "tr" and self._stack:
            _, attributes, cells = self._stack.pop()
            if cells and all(c.get("scope") == "col" for c in cells):  # type: ignore[union-attr]
                self.header = [c["text"] for c in cells]  # type: ignore[index]
            else:
                self.rows.append({"attrs": attributes, "cells": cells})

    def handle_data(self, data: str) -> None:
        if self._raw == "script":
            self.scripts[-1] += data
        elif self._raw == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)
            if self._stack and self._stack[-1][0] in ("th", "td"):
                self._stack[-1][2].append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def attribute(self, tag: str, name: str) -> list[str]:
        return [a[name] for t, a in self.elements if t == tag and name in a]


def csp_of(page: Page) -> str:
    (policy,) = [
        a["content"]
        for t, a in page.elements
        if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"
    ]
    return policy


def sha256_source(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def assert_self_contained(page: Page) -> None:
    """No resource from anywhere: links are #anchors, no src, no url() but data-free CSS."""
    for tag, attributes in page.elements:
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "srcset", "poster", "action", "formaction", "data", "background"):
                pytest.fail(f"<{tag} {name}={value!r}> loads a resource")
            if name == "href":
                assert value.startswith("#"), (tag, value)
            if name == "style":
                assert "url(" not in value.lower()
            assert "javascript:" not in value.lower(), (tag, name, value)
        assert tag not in ("img", "link", "iframe", "object", "embed", "base", "audio", "video")
    for style in page.styles:
        assert "url(" not in style.lower() and "@import" not in style.lower()
        assert not re.search(r"https?:|//[a-z]", style, re.IGNORECASE)
    (script,) = page.scripts
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}", script, re.IGNORECASE)
    for word in ("fetch(", "XMLHttpRequest", "innerHTML", "eval(", "import(", ".src"):
        assert word not in script


# -- runs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(
    demo_inventory: Path,
    tmp_path_factory: pytest.TempPathFactory,
    audit_request: AuditRequestFactory,
) -> AuditRun:
    """The demo fleet audited once for the module (fixtures from conftest.py)."""
    return audit_and_report(audit_request(demo_inventory, tmp_path_factory.mktemp("html-demo"))).run


@pytest.fixture(scope="module")
def demo_report(demo_run: AuditRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html-report") / "report.html"
    return write_html(demo_run, path, inventory="lab/demo/hosts.ini", generated_by="ci@lab")


@pytest.fixture(scope="module")
def hostile_run(
    tmp_path_factory: pytest.TempPathFactory, audit_request: AuditRequestFactory
) -> Iterator[AuditRun]:
    """One host whose event messages, and one playbook whose title and steps, are hostile."""
    folder = tmp_path_factory.mktemp("html-hostile")
    playbooks = folder / "playbooks"
    playbooks.mkdir()
    text = (PLAYBOOKS / "Q232602.yml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^title: .*$", f"title: {_yaml(HOSTILE_TITLE)}", text)
    text = re.sub(r"(?m)^    instruction: .*$", f"    instruction: {_yaml(HOSTILE_STEP)}", text)
    (playbooks / "Q232602.yml").write_text(text, encoding="utf-8")
    fleet = FLEET.replace("MESSAGE", _yaml(HOSTILE)).replace("LONG", _yaml(LONG))
    with Lab(parse_fleet(fleet, "hostile.yml"), port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, folder / "hosts.ini")
        request = audit_request(inventory, folder / "out", playbooks=(playbooks,))
        yield audit_and_report(request).run


def _yaml(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def hostile_report(hostile_run: AuditRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html-hostile-report") / "report.html"
    return write_html(hostile_run, path, inventory="hosts.ini", generated_by=HOSTILE_USER)


# -- structure ------------------------------------------------------------------------------


def test_matrix_has_a_row_per_host_and_a_column_per_article(
    demo_run: AuditRun, demo_report: Path
) -> None:
    page = Page(demo_report.read_text(encoding="utf-8"))
    articles = [p.id for p in demo_run.playbooks]
    assert page.header == ["Host", *articles]
    hosts = sorted(r.host for r in demo_run.results)
    assert [row["attrs"]["data-host"] for row in page.rows] == hosts
    status = {(f.host, f.playbook): f.status.value for f in demo_run.findings}
    for row in page.rows:
        host = row["attrs"]["data-host"]
        cells = row["cells"]
        assert len(cells) == 1 + len(articles)
        assert cells[0]["text"] == host
        for article, cell in zip(articles, cells[1:], strict=True):
            expected = status[(host, article)]
            assert cell["data-status"] == expected
            assert expected.replace("_", " ") in cell["text"]
        assert set(row["attrs"]["data-statuses"].split()) == {status[(host, a)] for a in articles}


def test_every_finding_and_the_header_are_on_the_page(
    demo_run: AuditRun, demo_report: Path
) -> None:
    html = demo_report.read_text(encoding="utf-8")
    page = Page(html)
    findings = [a for t, a in page.elements if t == "article" and "finding" in a.get("class", "")]
    assert len(findings) == len(demo_run.findings)
    on_page = sorted(a["data-status"] for a in findings)
    assert on_page == sorted(f.status.value for f in demo_run.findings)
    text = " ".join(page.all_text.split())
    for needed in (demo_run.run_id, "lab/demo/hosts.ini", "ci@lab", "remediate 0.1.0"):
        assert needed in text
    for playbook in demo_run.playbooks:
        assert f"{playbook.id}: {playbook.title}" in text
    for status, count in demo_run.counts().items():
        row = re.search(rf'<tr data-status="{status.value}">.*?<td class="count">(\d+)</td>', html)
        assert row is not None and int(row.group(1)) == count
    # an error host names its hint, an affected finding its events and a link to the steps
    assert "What to try: check ansible_user/ansible_password" in text
    assert "Remediation available: steps for Q193639" in text
    assert 'id="rem-Q193639"' in html and 'href="#rem-Q193639"' in html
    assert "data: 740005000e000780" in text


def test_the_page_loads_nothing_and_allows_only_its_own_script(demo_report: Path) -> None:
    page = Page(demo_report.read_text(encoding="utf-8"))
    assert_self_contained(page)
    policy = csp_of(page)
    (script,) = page.scripts
    assert f"script-src {sha256_source(script)};" in policy
    assert "default-src 'none'" in policy and "unsafe-inline'" not in policy.split("script-src")[1]
    head = [t for t, _ in page.elements]
    assert head.index("meta") < head.index("style") < head.index("script")


def test_hostile_host_and_playbook_text_is_only_escaped_text(hostile_report: Path) -> None:
    html = hostile_report.read_text(encoding="utf-8")
    page = Page(html)
    assert_self_contained(page)
    assert len(page.scripts) == 1 and "alert" not in page.scripts[0]
    for raw in ("<script>alert(1)", "<img src=x", '<a href="javascript', "<b onmouseover"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    text = page.all_text
    for hostile in (HOSTILE, HOSTILE_TITLE, HOSTILE_STEP, HOSTILE_USER):
        assert hostile in text
    assert f"(truncated, {len(LONG)} characters)" in " ".join(text.split())


def test_long_text_is_cut_with_a_visible_note(hostile_run: AuditRun) -> None:
    html = render_html(hostile_run, inventory="x" * 5000, generated_by="me")
    assert "(truncated, 5000 characters)" in html
    assert "x" * 1001 not in html


# -- the real browser -----------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing (pip install playwright)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Visit:
    """A page opened from disk, offline, with every dialog, request and error recorded."""

    def __init__(self, browser: Any, path: Path, **context: Any) -> None:
        self.context = browser.new_context(
            offline=True, viewport={"width": 1280, "height": 1400}, **context
        )
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: self._note(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def _note(self, url: str) -> None:
        if not url.startswith("file://"):
            self.requests.append(url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def visible_hosts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#matrix tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.host)"
        )

    def check_clean(self) -> None:
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.requests == [], f"the page asked the network: {self.requests}"
        assert self.errors == [], f"errors in the page: {self.errors}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_page(path: Path, **context: Any) -> Visit:
        opened.append(Visit(browser, path, **context))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def test_browser_shows_hostile_text_as_text_and_runs_nothing(
    visit: Any, hostile_report: Path
) -> None:
    seen = visit(hostile_report)
    page = seen.page
    page.wait_for_timeout(300)
    assert page.locator("#controls").is_visible()  # the one allowed script ran
    message = page.locator("pre.message", has_text="<script>alert(1)</script>").first
    assert message.is_visible()
    shown = message.inner_text()
    assert "<img src=x onerror=alert(2)>" in shown and "javascript:alert(3)" in shown
    assert page.get_by_text(HOSTILE_USER).first.is_visible()
    assert page.locator("h3", has_text=HOSTILE_TITLE).first.is_visible()
    assert page.locator("img, a[href^='javascript'], [onerror], [onmouseover]").count() == 0
    assert page.evaluate("document.scripts.length") == 1
    seen.check_clean()


def test_browser_filters_searches_and_sorts(
    visit: Any, demo_run: AuditRun, demo_report: Path, tmp_path: Path
) -> None:
    seen = visit(demo_report)
    page = seen.page
    hosts = sorted(r.host for r in demo_run.results)
    assert seen.visible_hosts() == hosts
    assert page.locator("#shown-count").inner_text() == f"{len(hosts)} of {len(hosts)} hosts shown"

    # status filter: hide compliant and not applicable findings, and hosts with nothing else
    page.locator("input[name=status][value=compliant]").uncheck()
    page.locator("input[name=status][value=not_applicable]").uncheck()
    hidden = {"compliant", "not_applicable"}
    expected = [
        r.host
        for r in sorted(demo_run.results, key=lambda r: r.host)
        if {f.status.value for f in r.findings} - hidden
    ]
    assert 0 < len(expected) < len(hosts)
    assert seen.visible_hosts() == expected
    assert page.locator("article.finding[data-status=compliant]:visible").count() == 0
    assert page.locator("article.finding[data-status=affected]:visible").count() > 0
    page.locator("#show-all").click()
    assert seen.visible_hosts() == hosts

    # host search
    page.locator("#host-search").fill("W2K")
    assert seen.visible_hosts() == [h for h in hosts if "w2k" in h.lower()] != []
    assert page.locator("section.host:visible").count() == len(seen.visible_hosts())
    page.locator("#show-all").click()

    # sorting by an article column: worst status first, then reversed
    column = [p.id for p in demo_run.playbooks].index("Q232602")
    status = {
        r.host: next(f.status for f in r.findings if f.playbook == "Q232602")
        for r in demo_run.results
    }
    worst_first = sorted(hosts, key=lambda h: (STATUS_ORDER.index(status[h]), h))
    assert worst_first != hosts
    header = page.locator("#matrix thead th").nth(column + 1)
    header.locator("button").click()
    assert seen.visible_hosts() == worst_first
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    assert seen.visible_hosts() == worst_first[::-1]
    page.locator("#matrix thead th").first.locator("button").click()
    assert seen.visible_hosts() == hosts

    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot))
    data = screenshot.read_bytes()
    assert len(data) > 1000 and data.startswith(b"\x89PNG\r\n\x1a\n")
    seen.check_clean()


def test_browser_without_javascript_shows_everything(
    visit: Any, demo_run: AuditRun, demo_report: Path
) -> None:
    seen = visit(demo_report, java_script_enabled=False)
    page = seen.page
    assert page.locator("#controls").is_hidden()  # controls that could not work stay hidden
    assert page.locator("#matrix tbody tr:visible").count() == len(demo_run.results)
    # every finding is on the page; those needing action are open, the rest fold out
    assert page.locator("article.finding").count() == len(demo_run.findings)
    action = [f for f in demo_run.findings if f.status in NON_COMPLIANT]
    assert page.locator("article.finding:visible").count() == len(action) > 0
    page.eval_on_selector_all("details", "all => all.forEach(d => d.open = true)")
    assert page.locator("article.finding:visible").count() == len(demo_run.findings)
    assert page.locator("#matrix thead th button").count() == 0
    seen.check_clean()


def test_print_layout_hides_controls_and_flows_hosts(visit: Any, demo_report: Path) -> None:
    seen = visit(demo_report)
    page = seen.page
    page.emulate_media(media="print")
    assert page.locator("#controls").is_hidden()
    breaks = page.eval_on_selector_all(
        "section.host", "all => all.map(s => getComputedStyle(s).breakBefore)"
    )
    assert breaks and "page" not in breaks  # no page per host
    assert page.locator("details.not-applicable").first.is_hidden()
    seen.check_clean()


def test_browser_csp_stops_scripts_even_if_escaping_failed(
    visit: Any, hostile_report: Path, tmp_path: Path
) -> None:
    html = hostile_report.read_text(encoding="utf-8")
    injected = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    broken = html.replace('<pre class="message">', f'<pre class="message">{injected}', 1)
    assert injected in broken
    (tmp_path / "broken.html").write_text(broken, encoding="utf-8")
    seen = visit(tmp_path / "broken.html")
    seen.page.wait_for_timeout(300)
    assert seen.dialogs == []
    assert seen.page.locator("#controls").is_visible()  # the report's own script still ran
    # the control: without the policy the same page does raise a dialog
    unguarded = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", broken)
    (tmp_path / "unguarded.html").write_text(unguarded, encoding="utf-8")
    control = visit(tmp_path / "unguarded.html")
    control.page.wait_for_timeout(300)
    assert control.dialogs != []
