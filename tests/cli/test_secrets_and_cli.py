"""Secrets never leak; the smaller commands behave as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediate.audit.host import collect
from remediate.audit.request import collect_request
from remediate.lab.fleet import parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.probes.collect import CollectRequest, EventQuery, FileQuery
from remediate.rules.playbook import load_playbooks
from remediate.transport.winrm import WinRMSettings, WinRMTransport

ROOT = Path(__file__).resolve().parents[2]
REMEDIATE = [sys.executable, "-m", "remediate"]
SECRET = "S3cret-#Not'Shown$(x)"

FLEET = f"""
address_base: 127.24.0.1
defaults:
  credentials: {{password: "{SECRET}"}}
  exchange: {{version: "5.5", build: 5.5.2448.0, service_pack: 2, install_root: 'C:\\exchsrvr'}}
  files:
    - {{path: 'C:\\exchsrvr\\bin\\emsmta.exe', version: 5.5.2448.0}}
  event_logs:
    generators:
      - {{source: MSExchangeMTA, event_id: 4284, count: 30, every_seconds: 600,
          message: "An error has occurred. Error code=8511"}}
hosts:
  - name: good.lab.local
  - name: locked.lab.local
    faults: {{wrong_password: true}}
  - name: w2k.lab.local
    os: {{version: 5.0.2195, caption: Windows 2000 Server, powershell: null, winrm: false}}
"""


@pytest.fixture(scope="module")
def lab():
    with Lab(parse_fleet(FLEET, "secrets.yml")) as running:
        yield running


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REMEDIATE, *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_the_password_appears_in_no_output_or_report(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "hosts.ini")
    assert SECRET in inventory.read_text()  # the lab's inventory carries it, the run must not
    out = tmp_path / "out"
    audit = cli("audit", str(inventory), "-o", str(out), "--timeout", "20")
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert "locked.lab.local: authentication" in audit.stdout.replace("\n", " ")
    collect_run = cli("collect", str(inventory), "--json", "--limit", "good*:locked*")
    listing = cli("inventory", str(inventory), "--vars")
    assert listing.returncode == 0 and "***" in listing.stdout
    texts = [audit.stdout, audit.stderr, collect_run.stdout, collect_run.stderr, listing.stdout]
    texts += [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
    for text in texts:
        assert SECRET not in text
        assert "S3cret" not in text


def test_both_dialects_give_the_same_evidence(lab: Lab) -> None:
    endpoint = lab.endpoint("good.lab.local")
    settings = WinRMSettings(
        address=endpoint.address,
        port=endpoint.http_port or 0,
        scheme="http",
        username="LAB\\Administrator",
        password=SECRET,
    )
    playbooks = load_playbooks([ROOT / "playbooks"])
    from datetime import UTC, datetime, timedelta

    request = collect_request(playbooks, datetime.now(UTC) - timedelta(days=7))
    request = replace(request, files=(*request.files, FileQuery("odd", "absolute", "D:\\x.dll")))
    evidence = {}
    for dialect in ("powershell", "wsh"):
        link = WinRMTransport(settings, host="good")
        try:
            evidence[dialect] = collect(link, "good", request, dialect).evidence  # type: ignore[arg-type]
        finally:
            link.close()

    def comparable(e):
        return replace(e, engine="", os=replace(e.os, time_utc=None))

    assert comparable(evidence["powershell"]) == comparable(evidence["wsh"])
    assert evidence["wsh"].engine == "wsh"
    matches = evidence["wsh"].event_matches("Q232602.association_error")
    assert matches is not None and matches.total == 30


def test_collect_json_prints_one_document_per_host(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "hosts.ini")
    result = cli("collect", str(inventory), "--json", "--limit", "good.lab.local:w2k.lab.local")
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    by_host = {d["host"]: d for d in documents}
    assert by_host["good.lab.local"]["evidence"]["engine"] == "powershell"
    assert by_host["w2k.lab.local"]["evidence"]["engine"] == "wsh"


def test_fail_percent_stops_starting_hosts(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "hosts.ini")
    result = cli(
        "audit",
        str(inventory),
        "-o",
        str(tmp_path),
        "--forks",
        "1",
        "--fail-percent",
        "10",
        "--limit",
        "w2k.lab.local:locked.lab.local:good.lab.local",
    )
    # As `ansible-playbook --limit`, hosts run in the inventory's order: good, locked, w2k.
    # good.lab.local is `affected`, which exit code 1 reports before host errors (3).
    assert result.returncode == 1, result.stdout
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["aborted"].startswith("1 of 3 hosts failed")
    w2k = next(h for h in document["hosts"] if h["name"] == "w2k.lab.local")
    assert w2k["error"]["kind"] == "not_audited"


def test_playbook_lint_reports_each_bad_file(tmp_path: Path) -> None:
    good = (ROOT / "playbooks" / "Q193639.yml").read_text()
    (tmp_path / "good.yml").write_text(good)
    (tmp_path / "bad.yml").write_text(good.replace("service_pack: 2", "service_pack: two"))
    result = cli("playbook", "lint", str(tmp_path))
    assert result.returncode == 2
    assert "bad.yml:" in result.stderr and "fix.fixed_in.service_pack" in result.stderr
    assert "ok   " in result.stdout and "1 of 2 playbooks valid" in result.stdout
    assert cli("playbook", "lint", str(ROOT / "playbooks")).returncode == 0


def test_playbook_show_prints_the_fix_table() -> None:
    result = cli("playbook", "show", "q232602")
    assert result.returncode == 0
    assert "Emsmta.exe" in result.stdout and "5.5.2614.0" in result.stdout
    assert cli("playbook", "show", "KB000000").returncode == 2


def test_help_explains_exit_codes() -> None:
    result = cli("audit", "--help")
    assert result.returncode == 0 and "Exit codes" in result.stdout


def test_unknown_event_query_fields_do_not_break_the_collector(lab: Lab) -> None:
    endpoint = lab.endpoint("good.lab.local")
    link = WinRMTransport(
        WinRMSettings(
            address=endpoint.address,
            port=endpoint.http_port or 0,
            scheme="http",
            username="LAB\\Administrator",
            password=SECRET,
        )
    )
    try:
        request = CollectRequest(events=(EventQuery("x", "No Such Log", (), (1,)),))
        evidence = collect(link, "good", request).evidence
    finally:
        link.close()
    assert evidence.event_matches("x") is not None


def test_basic_over_plain_http_is_refused_unless_asked(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[exchange]\nex1 ansible_host=127.0.0.1 ansible_port=5985\n\n"
        "[exchange:vars]\nansible_winrm_transport=basic\nansible_password=x\n"
    )
    refused = cli("audit", str(inventory), "-o", str(tmp_path))
    assert refused.returncode == 3  # that host's configuration error; no request was sent
    shown = refused.stdout.replace("\n", "")
    assert "ex1: configuration" in shown and "--allow-insecure" in shown
    listed = cli("inventory", str(inventory), "--allow-insecure")
    assert listed.returncode == 0


def test_terminal_output_is_stripped_of_escape_sequences() -> None:
    from remediate.cli.console import safe

    hostile = "ok\x1b[31mRED\x1b[0m\x1b]0;title\x07\x00 end" + "x" * 20_000
    cleaned = safe(hostile)
    assert "\x1b" not in cleaned and "\x00" not in cleaned and "\x07" not in cleaned
    assert cleaned.startswith("okRED") and len(cleaned) <= 500


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_a_playbook_or_our_error(text: str) -> None:
    from remediate.rules.playbook import PlaybookError, parse_playbook

    try:
        parse_playbook(text, "fuzz.yml")
    except PlaybookError as exc:
        assert str(exc).startswith("fuzz.yml")


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "title", "applies_to", "symptoms", "fix", "remediation", "x"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=10,
        ),
    )
)
def test_playbook_shaped_documents_load_or_fail_cleanly(document: dict) -> None:
    from remediate.rules.playbook import PlaybookError, parse_playbook

    try:
        parse_playbook(json.dumps(document), "fuzz.yml")
    except PlaybookError:
        pass
