"""Plans: concrete steps per OS (no I/O). Signatures, approvals, four eyes and expiry:
tests/remediation/test_signing.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediate.remediation.plan import HostPlan, Plan
from remediate.remediation.steps import StepError, mechanism_for, plan_steps
from remediate.rules.evidence import Evidence, ExchangeFacts, OsFacts
from remediate.rules.playbook import load_playbooks

PLAYBOOKS = {p.id: p for p in load_playbooks([Path(__file__).parents[2] / "playbooks"])}
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def evidence(os_version: str, exchange_version: str) -> Evidence:
    return Evidence(
        host="h",
        engine="powershell",
        os=OsFacts("Windows", os_version, 1, 2, "x86", "H", "2.0", NOW, "UTC"),
        exchange=ExchangeFacts(
            "Exchange",
            exchange_version,
            f"{exchange_version}.1.0",
            2,
            "C:\\Program Files\\Exchsrvr",
        ),
        pending_reboot=False,
    )


@pytest.mark.parametrize(
    ("version", "family", "mechanism"),
    [
        ("5.0.2195", "w2k", "sysocmgr"),
        ("5.2.3790", "w2k3", "sysocmgr"),
        ("6.0.6002", "w2k8", "ocsetup"),
        ("6.1.7601", "w2k8r2", "servermanager"),
        ("10.0.14393", "w2016", "servermanager"),
    ],
)
def test_the_component_mechanism_follows_the_os(version: str, family: str, mechanism: str) -> None:
    from remediate.catalog.windows import os_family

    assert os_family(version) == family and mechanism_for(family) == mechanism


def test_kb840469_on_exchange_2000_windows_2003(tmp_path: Path) -> None:
    installer = tmp_path / "Smtpreinstall.exe"  # copy_from: see tests/remediation/test_copy.py
    installer.write_bytes(b"MZ")
    source = {"smtpreinstall_source": str(installer)}
    steps = plan_steps(PLAYBOOKS["KB840469"], evidence("5.2.3790", "6.0"), source)
    kinds = [s.kind for s in steps]
    assert kinds == [
        "windows_component",
        "reboot",
        "windows_component",
        "reboot",
        "run",
        "reboot",
        "service",
        "verify",
    ]
    remove, install = steps[0].arguments, steps[2].arguments
    assert remove == {
        "action": "component",
        "op": "remove",
        "mechanism": "sysocmgr",
        "name": "iis_smtp",
        "unattend": "[Components]\r\niis_smtp = off\r\n",
        "timeout": 3600,  # sysocmgr's limit in the script: the kind's default, no playbook timeout
    }
    assert install is not None and install["unattend"] == "[Components]\r\niis_smtp = on\r\n"
    assert "sysocmgr.exe /i:%windir%\\inf\\sysoc.inf" in steps[0].display
    assert steps[4].arguments is not None
    assert steps[4].arguments["program"] == "C:\\Program Files\\Exchsrvr\\bin\\Smtpreinstall.exe"


def test_kb840469_on_exchange_2003_asks_the_operator_and_2008_uses_ocsetup() -> None:
    steps = plan_steps(PLAYBOOKS["KB840469"], evidence("6.0.6002", "6.5"), {})
    assert [s.kind for s in steps] == [
        "windows_component",
        "reboot",
        "windows_component",
        "reboot",
        "manual",
        "service",
        "verify",
    ]
    assert steps[0].display == "start /w ocsetup IIS-SMTP /uninstall"
    assert "reapply all Exchange Server 2003" in (steps[4].instruction or "")


def test_missing_installer_variable_becomes_the_manual_step() -> None:
    steps = plan_steps(PLAYBOOKS["Q232602"], evidence("5.2.3790", "5.5"), {})
    assert steps[0].kind == "manual" and "exchange55_sp_installer" in (steps[0].instruction or "")
    given = plan_steps(
        PLAYBOOKS["Q232602"],
        evidence("5.2.3790", "5.5"),
        {"exchange55_sp_installer": "\\\\share\\sp4\\update.exe"},
    )
    assert given[0].kind == "run" and given[0].arguments is not None
    assert given[0].arguments["program"] == "\\\\share\\sp4\\update.exe"
    assert given[0].arguments["arguments"] == ["-q"]


def test_a_run_step_without_fallback_needs_its_variable() -> None:
    playbook = PLAYBOOKS["KB840469"]
    step = playbook.remediation[4].model_copy(
        update={"program": "{{ nowhere }}\\x.exe", "otherwise": None}
    )
    broken = playbook.model_copy(update={"remediation": [step]})
    with pytest.raises(StepError, match="needs the inventory variable"):
        plan_steps(broken, evidence("5.2.3790", "6.0"), {})


def make_plan() -> Plan:
    steps = plan_steps(PLAYBOOKS["KB840469"], evidence("5.2.3790", "6.5"), {})
    host = HostPlan(
        host="ex1", status_before="affected", reason="r", os="w2k3", exchange="2003", steps=steps
    )
    return Plan(
        playbook="KB840469",
        title="t",
        inventory="hosts.ini",
        playbooks=["p"],
        created=NOW,
        planned_by="alice",
        hosts=[host],
    ).sealed()
