"""Remediation steps drafted from a RESOLUTION procedure: the seed KB840469 against its
hand-written playbook, our own samples of each layout, and what must stay a manual step."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from remediate.kb.draft import draft_playbook, playbook_yaml
from remediate.kb.extract import extract
from remediate.kb.procedure import ProcedureStep, procedure_steps, read_procedure
from remediate.kb.read import read_article
from remediate.rules.playbook import Playbook, Step, load_playbook, parse_playbook

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "samples"
# shared/ sits beside the repository (in CI too); /work/shared is where sessions find it.
_SEED_DIRS = (Path(__file__).resolve().parents[3] / "shared" / "seeds", Path("/work/shared/seeds"))
SEEDS = next((p for p in _SEED_DIRS if p.is_dir()), _SEED_DIRS[0])
IN_CI = os.environ.get("CI", "").lower() == "true"
SEED_PLAYBOOKS = {
    "000_36083ea9a6d87651.txt": "Q266383",
    "001_a7f0d063b3d3fdda.txt": "KB840469",
    "002_3d94ffcb1a7b2bac.txt": "Q232602",
    "003_c2634274b8c65daa.txt": "Q319936",
    "004_ae4425dfa1fd26fd.txt": "Q193639",
}


def _seeds() -> Path:
    """The seed folder; missing is a skip here and a failure in CI (where ../shared exists)."""
    if not SEEDS.is_dir():
        if IN_CI:
            pytest.fail(f"seed articles not found at {SEEDS} (CI checks out ../shared)")
        pytest.skip("seed articles not present")
    return SEEDS


def _shape(step: dict[str, Any] | Step) -> tuple[Any, ...]:
    """What a step does, without its wording: kind, target, action, host filter, copy."""
    data = step.model_dump(exclude_none=True) if isinstance(step, Step) else step
    target = data.get("component") or data.get("service") or data.get("program")
    if data["step"] == "run":
        target = str(target).rsplit("\\", 1)[-1].lower()
    return (
        data["step"],
        target,
        data.get("action"),
        tuple(sorted((data.get("when") or {}).items())),
        data.get("copy_from") is not None,
        data.get("otherwise"),
    )


def _draft(path: Path, article: str | None = None) -> dict[str, Any]:
    text = read_article(path)
    return draft_playbook(extract(text, str(path)), article, text=text)


# --------------------------------------------------------------------------- seeds


def test_kb840469_steps_are_the_hand_written_ones_in_order() -> None:
    seeds = _seeds()
    draft = _draft(seeds / "001_a7f0d063b3d3fdda.txt", "KB840469")
    written = load_playbook(ROOT / "playbooks" / "KB840469.yml")
    assert [_shape(s) for s in draft["remediation"]] == [_shape(s) for s in written.remediation]
    # The fix the procedure leads to is the hand-written one: MTA running, SMTP installed.
    assert draft["fix"]["requires"] == [r.model_dump() for r in written.fix.requires]
    parse_playbook(playbook_yaml(draft), "KB840469.draft.yml")


@pytest.mark.parametrize("seed", sorted(set(SEED_PLAYBOOKS) - {"001_a7f0d063b3d3fdda.txt"}))
def test_other_seeds_keep_one_manual_step(seed: str) -> None:
    """Their RESOLUTION is prose (install a service pack or call for a hotfix): no procedure.
    The hand-written playbooks run the installer from an inventory variable, reboot and
    verify; a draft cannot know the installer, so it keeps the one manual step."""
    seeds = _seeds()
    text = read_article(seeds / seed)
    assert [s.kind for s in read_procedure(text) if s.kind != "manual"] == []
    draft = _draft(seeds / seed, SEED_PLAYBOOKS[seed])
    assert [s["step"] for s in draft["remediation"]] == ["manual"]
    written = load_playbook(ROOT / "playbooks" / f"{SEED_PLAYBOOKS[seed]}.yml")
    assert [s.step for s in written.remediation] == ["run", "reboot", "verify"]


# --------------------------------------------------------------------------- samples


def test_sample_with_sub_sections_per_exchange_version() -> None:
    """Dash bullets, lines wrapped without indent, `Step N:` and version headings, a second
    item run into a note (`... host. - On the ...`)."""
    draft = _draft(SAMPLES / "procedure_subsections.txt")
    assert [_shape(s) for s in draft["remediation"]] == [
        ("windows_component", "nntp", "remove", (), False, None),
        ("reboot", None, None, (), False, None),
        ("windows_component", "nntp", "install", (), False, None),
        ("reboot", None, None, (), False, None),
        ("run", "feedfix.exe", None, (("exchange_version", "6.0"),), True, "manual"),
        ("manual", None, None, (("exchange_version", "6.5"),), False, None),
        ("service", "MSExchangeSA", "restart", (("exchange_version", "6.5"),), False, None),
        ("service", "MSExchangeSA", "start", (), False, None),
        ("verify", None, None, (), False, None),
    ]
    run = draft["remediation"][4]
    assert run["program"] == "{{ exchange_root }}\\bin\\Feedfix.exe"
    assert run["copy_from"] == "{{ feedfix_source }}"
    assert run["copy_sha256"] == "{{ feedfix_sha256 }}"
    manual = draft["remediation"][5]["instruction"]
    for words in (  # every instruction of the 2003 sub-section, none dropped
        "Open Exchange System Manager",
        "Right-click the newsfeed",
        "The newsfeed is named after the remote host",
        "On the Schedule tab, click Always",
    ):
        assert words in manual
    assert draft["fix"]["requires"] == [
        {"service": "MSExchangeSA", "state": "running"},
        {"component": "nntp", "installed": True},
    ]
    playbook = parse_playbook(playbook_yaml(draft), "Q771204.draft.yml")
    assert playbook.review == "required"


def test_sample_numbered_with_indented_lines() -> None:
    """`1.` items with blank lines between and indented continuations (registry key, NOTE)."""
    draft = _draft(SAMPLES / "procedure_numbered.txt")
    assert [_shape(s) for s in draft["remediation"]] == [
        ("service", "MSExchangeIMC", "stop", (), False, None),
        ("manual", None, None, (), False, None),
        ("service", "MSExchangeIMC", "start", (), False, None),
        ("manual", None, None, (), False, None),
        ("verify", None, None, (), False, None),
    ]
    registry = draft["remediation"][1]["instruction"]
    assert "Services\\MSExchangeIMC \\Parameters" in registry
    assert "NOTE: The key above is one path" in registry
    assert "RetrySlots" in registry and registry.endswith("Quit Registry Editor.")
    assert draft["remediation"][3]["instruction"].startswith("If the queue has not drained")


def test_drafts_without_the_text_keep_one_manual_step() -> None:
    path = SAMPLES / "procedure_numbered.txt"
    draft = draft_playbook(extract(read_article(path), str(path)))
    assert [s["step"] for s in draft["remediation"]] == ["manual"]


# --------------------------------------------------------------------------- recognising


def _article(resolution: str, versions: str = "- Microsoft Exchange 2000 Server") -> str:
    return (
        "XCON: A Sample Problem (Q700001)\n\nThe information in this article applies to:\n\n"
        f"{versions}\n\nSYMPTOMS\n\nThe MTA stops.\n\nRESOLUTION\n\n{resolution}\n\n"
        "STATUS\n\nBy design.\n"
    )


def _kinds(resolution: str) -> list[tuple[str, str | None, str | None]]:
    steps = read_procedure(_article(resolution))
    return [(s.kind, s.component or s.service or s.program, s.action) for s in steps]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("Restart the computer.", ("reboot", None, None)),
        ("Manually restart the server that is running Exchange.", ("reboot", None, None)),
        ("You must restart the computer for the change to take effect.", ("reboot", None, None)),
        ("Restart the MTA.", ("service", "MSExchangeMTA", "restart")),
        ("Stop and then restart the Information Store service.", ("service", "MSExchangeIS",
                                                                   "restart")),
        ("Stop the Microsoft Exchange System Attendant service.", ("service", "MSExchangeSA",
                                                                   "stop")),
        ("Start the Internet Mail Service.", ("service", "MSExchangeIMC", "start")),
        ("At a command prompt, type net start MSExchangeMTA.", ("service", "MSExchangeMTA",
                                                                 "start")),
        ("Restart the Exchange Server directory service.", ("service", "MSExchangeDS", "restart")),
        ("Restart the World Wide Web Publishing service.", ("service", "W3SVC", "restart")),
        ("Click to clear the SMTP Service check box.", ("windows_component", "smtp", "remove")),
        ("Click to select the World Wide Web Service check box.", ("windows_component",
                                                                   "iis_www", "install")),
        ("Use Add/Remove Windows Components to remove the NNTP Service.", ("windows_component",
                                                                            "nntp", "remove")),
        ("Run the Fixit.exe file from the Exchsrvr\\Bin folder.", ("run", "Fixit.exe", None)),
    ],
)  # fmt: skip
def test_recognised_actions(item: str, expected: tuple[str, str | None, str | None]) -> None:
    assert _kinds(f"1. {item}") == [expected]


@pytest.mark.parametrize(
    "item",
    [
        "Restart the Proxy service.",  # not a service this toolkit knows
        "Restart the Exchange services.",  # which ones?
        "Restart the computer and load the network drivers by hand.",  # more than a reboot
        "Restart Windows, press F8, and choose Safe Mode.",
        "If the queue does not drain, restart the computer.",  # a condition is the reader's
        "Click to clear the Outlook Web Access check box.",  # not a catalog component
        "Run the Fixit.exe file from the Support\\Tools folder of the CD.",  # not on the host
        "Run the Setup.exe file from the Exchsrvr\\Bin folder.",  # a wizard
        "Run the fix.exe & del.exe file from the Exchsrvr\\Bin folder.",  # not one program
        "At a command prompt, type net start proxysvc.",
        "Start Registry Editor and add the value Slots.",
    ],
)
def test_not_understood_is_a_manual_step_with_the_text(item: str) -> None:
    steps = read_procedure(_article(f"1. {item}"))
    assert [s.kind for s in steps] == ["manual"]
    assert steps[0].text == item
    assert procedure_steps(_article(f"1. {item}"))[0]["instruction"] == item


def test_prose_resolution_is_no_procedure() -> None:
    text = _article("To resolve this problem, restart the computer after you install SP4.")
    assert read_procedure(text) == []


def test_clicks_join_the_action_they_lead_to_and_nothing_else() -> None:
    resolution = (
        "1. Click Start, point to Settings, and then click Control Panel.\n"
        "2. On the Queues tab, click Retry Now.\n"
        "3. Click OK.\n"
        "4. Restart the computer.\n"
    )
    steps = read_procedure(_article(resolution))
    assert [s.kind for s in steps] == ["manual", "reboot"]
    assert "Control Panel" in steps[0].text and "Retry Now" in steps[0].text
    assert "Click OK." in steps[0].text


def test_sub_section_for_a_version_no_when_can_name_stays_manual() -> None:
    """exchange_version is known for Exchange 4.0-2003 only: a 2007 section is read by hand."""
    resolution = (
        "Exchange Server 2007\n- Restart the computer.\n"
        "Exchange 2000 Server\n- Restart the computer.\n"
    )
    steps = read_procedure(_article(resolution))
    assert [(s.kind, s.when_version) for s in steps] == [("manual", None), ("reboot", "6.0")]


def test_bullets_of_other_kinds() -> None:
    resolution = (
        "* Restart the MTA.\n\no Restart the computer.\n\na) Stop the MTA.\n(2) Start the MTA.\n"
    )
    assert _kinds(resolution) == [
        ("service", "MSExchangeMTA", "restart"),
        ("reboot", None, None),
        ("service", "MSExchangeMTA", "stop"),
        ("service", "MSExchangeMTA", "start"),
    ]


def test_article_words_never_become_code() -> None:
    """Only a checked file name reaches `program`; the rest of the text only an instruction."""
    resolution = '1. Run the a.exe" -c "rm.exe file from the Exchsrvr\\Bin folder.\n'
    for step in procedure_steps(_article(resolution)):
        assert step["step"] == "manual"
    good = ProcedureStep("run", "Run it", program="Fixit.exe", copied=True).playbook_step()
    assert good["program"] == "{{ exchange_root }}\\bin\\Fixit.exe"
    Step.model_validate(good)


def test_every_kind_is_a_valid_playbook_step() -> None:
    kinds = [
        ProcedureStep("windows_component", "x", component="smtp", action="remove"),
        ProcedureStep("service", "x", "6.5", service="MSExchangeMTA", action="restart"),
        ProcedureStep("reboot", "x"),
        ProcedureStep("run", "x", program="Fixit.exe"),
        ProcedureStep("manual", "x " * 2000),
    ]
    steps = [Step.model_validate(k.playbook_step()) for k in kinds]
    assert [s.step for s in steps] == ["windows_component", "service", "reboot", "run", "manual"]
    assert len((steps[-1].model_extra or {})["instruction"]) <= 1500


def test_linear_in_the_resolution() -> None:
    """Long and odd input reads in about the time of its length (never quadratic)."""
    pieces = [
        "1. Click Start, point to Settings, and then click Control Panel.\n" * 10000,
        "- select " * 40000,
        "1. Restart" + " " * 200000 + "the computer\n",
        "- " + "In the box, " * 30000 + "\n",
        "Exchange 2000 Server\n" * 20000,
        "1. Click\n" + "to the\n" * 40000,  # wrapped lines: joined once, not re-scanned each
        "1. Restart the MTA.\n2. Click OK.\n3. Edit the key.\n" * 10000,
    ]
    for piece in pieces:
        start = time.perf_counter()
        read_procedure(_article(piece))
        assert time.perf_counter() - start < 10, piece[:40]  # quadratic: minutes


def test_drafted_playbook_parses_and_names_its_review() -> None:
    draft = _draft(SAMPLES / "procedure_subsections.txt")
    playbook: Playbook = parse_playbook(playbook_yaml(draft), "draft.yml")
    assert playbook.remediation[-1].step == "verify"


def test_only_version_and_step_headings_set_the_scope() -> None:
    """A registry key or a command on its own line is part of the item, and never widens a
    version's sub-section to all versions."""
    resolution = (
        "Exchange 2000 Server\n"
        "1. Open the following key:\n\n"
        "HKEY_LOCAL_MACHINE\\SYSTEM\\Fake\\Key\n\n"
        "Exchange System Manager\n"
        "2. Restart the computer.\n"
        "Step 2: Clean up\n"
        "3. Restart the computer.\n"
    )
    steps = read_procedure(_article(resolution))
    assert [(s.kind, s.when_version) for s in steps] == [
        ("manual", "6.0"),
        ("reboot", "6.0"),
        ("reboot", None),
    ]
    assert steps[0].text == "Open the following key: HKEY_LOCAL_MACHINE\\SYSTEM\\Fake\\Key"


def test_command_typed_then_enter_is_one_service_step() -> None:
    resolution = '1. At a command line, type "net stop msexchangeis", and then press ENTER.\n'
    assert _kinds(resolution) == [("service", "MSExchangeIS", "stop")]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("Right-click IIS Admin Service, and then click Stop.", ("IISADMIN", "stop")),
        ("Select the MTA Service and click Stop.", ("MSExchangeMTA", "stop")),
        (
            "Click the Microsoft Exchange Internet Mail Service, click Stop, and then click Start.",
            ("MSExchangeIMC", "restart"),
        ),
        (
            "In Services, right-click Microsoft Exchange MTA Stacks, and then click Restart.",
            ("MSExchangeMTA", "restart"),
        ),
        ("Restart the Microsoft Exchange Routing Engine service.", ("RESvc", "restart")),
        ("Stop the Microsoft Exchange POP3 service.", ("POP3Svc", "stop")),
    ],
)
def test_services_picked_in_the_services_tool(item: str, expected: tuple[str, str]) -> None:
    assert _kinds(f"1. {item}") == [("service", *expected)]


def test_a_service_picked_for_its_properties_is_manual() -> None:
    item = (
        "Right-click the Microsoft Exchange Information Store service, and then click Properties."
    )
    assert _kinds(f"1. {item}") == [("manual", None, None)]
    assert _kinds("1. Restart POP3.") == [("manual", None, None)]  # the protocol, or the service?


def _evidence(exchange_version: str) -> Any:
    from datetime import UTC, datetime

    from remediate.rules.evidence import Evidence, ExchangeFacts, OsFacts

    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    return Evidence(
        host="h",
        engine="powershell",
        os=OsFacts("Windows", "5.2.3790", 1, 2, "x86", "H", "2.0", now, "UTC"),
        exchange=ExchangeFacts(
            "Exchange",
            exchange_version,
            f"{exchange_version}.1.0",
            2,
            "C:\\Program Files\\Exchsrvr",
        ),
        pending_reboot=False,
    )


_COMPONENT_TWICE = ["windows_component", "reboot", "windows_component", "reboot"]


@pytest.mark.parametrize(
    ("version", "kinds"),
    [
        ("6.0", [*_COMPONENT_TWICE, "manual", "service"]),
        ("6.5", [*_COMPONENT_TWICE, "manual", "service", "service"]),
    ],
)
def test_drafted_steps_plan_per_exchange_version(version: str, kinds: list[str]) -> None:
    """The draft plans like a hand-written playbook: `when` keeps a sub-section to its version,
    and a run whose program the inventory does not give is the operator's (its text)."""
    from remediate.remediation.steps import plan_steps

    draft = _draft(SAMPLES / "procedure_subsections.txt")
    playbook = parse_playbook(playbook_yaml(draft), "Q771204.draft.yml")
    steps = plan_steps(playbook, _evidence(version), {})
    assert [s.kind for s in steps] == [*kinds, "verify"]
    assert steps[0].display.startswith("sysocmgr.exe")  # nntp off through OC Manager
    if version == "6.0":
        assert "Copy the Feedfix.exe file" in (steps[4].instruction or "")
        assert "feedfix_source" in (steps[4].instruction or "")


def test_a_saved_html_page_keeps_its_list_items_as_steps() -> None:
    """Saved pages: each <li> stays a list item, so the procedure reader sees the steps."""
    from remediate.kb.read import html_to_text

    page = (
        "<html><body><h1>XCON: The MTA stops</h1><h2>Resolution</h2>"
        "<p>To resolve this problem, follow these steps:</p><ol>"
        "<li>Stop the Microsoft Exchange MTA Stacks service.</li>"
        "<li>Restart the computer.</li></ol></body></html>"
    )
    steps = procedure_steps(html_to_text(page))
    assert [step["step"] for step in steps] == ["service", "reboot"]
    assert steps[0]["service"] == "MSExchangeMTA" and steps[0]["action"] == "stop"
