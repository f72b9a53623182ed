"""Server features on non-English Windows 6.x: the lab answers Win32_ServerFeature with the
language-neutral ID and the localised Name, as Windows does, so comparing names fails.

Sources: the ID table and the Name property ("Display name of the server feature") of
Microsoft's "Win32_ServerFeature class" page; see `remediate.lab.features`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from remediate.audit.request import collect_request
from remediate.catalog.components import COMPONENTS
from remediate.lab.answers.collect import answer_collect
from remediate.lab.answers.step import answer_step
from remediate.lab.fleet import FleetError, HostSpec, parse_fleet
from remediate.lab.host import LabHost
from remediate.probes.collect import build_collect_script, parse_evidence
from remediate.probes.protocol import parse_declaration
from remediate.probes.step import build_step_script, parse_step_result
from remediate.remediation.steps import _component
from remediate.rules.playbook import load_playbooks

PLAYBOOKS = {p.id: p for p in load_playbooks([Path(__file__).parents[2] / "playbooks"])}
NOW = datetime(2026, 11, 20, tzinfo=UTC)
DIALECTS = ("powershell", "wsh")


def host(language: str = "de-DE", version: str = "6.1.7601", **components: bool) -> LabHost:
    spec = HostSpec.model_validate(
        {
            "name": f"web-{language.lower()}.lab.local",
            "os": {
                "caption": "Microsoft Windows Server 2008 R2 Standard",
                "version": version,
                "build": int(version.split(".")[2]),
                "service_pack": 1,
                "architecture": "x64",
                "language": language,
            },
            "components": {"Web-Server": True, "SMTP-Server": True, **components},
        }
    )
    return LabHost(spec=spec)


def collect(lab_host: LabHost, dialect: Any, arguments: Any = None) -> dict[str, bool | None]:
    request = collect_request([PLAYBOOKS["KB840469"]], NOW)
    script = build_collect_script(request, dialect)
    declared = parse_declaration(script)
    assert declared is not None
    if arguments is not None:
        declared = type(declared)(declared.name, declared.version, arguments, declared.dialect)
    evidence = parse_evidence(lab_host.spec.name, answer_collect(lab_host, declared).stdout)
    return {c.name: c.installed for c in evidence.components}


@pytest.mark.parametrize("language", ["en-US", "de-DE", "ja-JP"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_smtp_reads_installed_in_every_language(language: str, dialect: str) -> None:
    assert collect(host(language), dialect) == {"smtp": True}
    assert collect(host(language, **{"SMTP-Server": False}), dialect) == {"smtp": False}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_request_by_display_name_finds_nothing_on_a_german_host(dialect: str) -> None:
    """What collect sent before issue 13 (the English display name): right on an English
    host, wrong on a German one, whose Win32_ServerFeature.Name is "SMTP-Server"."""
    old = {"v": 1, "services": [], "files": [], "events": []}
    old["components"] = [{"name": "smtp", "oc": "iis_smtp", "feature": "SMTP Server"}]
    assert collect(host("en-US"), dialect, old) == {"smtp": True}
    assert collect(host("de-DE"), dialect, old) == {"smtp": False}


def step(lab_host: LabHost, dialect: Any, arguments: dict[str, Any]) -> Any:
    declared = parse_declaration(build_step_script(arguments, dialect))
    assert declared is not None
    return parse_step_result(answer_step(lab_host, declared).stdout)


@pytest.mark.parametrize("language", ["en-US", "de-DE"])
def test_servermanager_removes_smtp_and_the_collector_sees_it(language: str) -> None:
    german = host(language)
    planned = _component(
        1, "Remove the SMTP service", {"component": "smtp", "action": "remove"}, "w2k8r2"
    )
    assert planned.arguments["name"] == "SMTP-Server"
    done = step(german, "powershell", planned.arguments)
    assert (done.status, done.changed) == ("ok", True)
    assert german.spec.components["SMTP-Server"] is False
    for dialect in DIALECTS:
        assert collect(german, dialect) == {"smtp": False}


def test_dism_is_given_its_own_feature_names() -> None:
    """step.js has no ServerManager module: dism.exe knows IIS-WebServerRole, not Web-Server
    ("Installing IIS 7.0 on Windows Server 2008"); the plan sends the DISM name beside it."""
    lab_host = host("de-DE", **{"Web-Server": False})
    planned = _component(1, "IIS", {"component": "iis_common", "action": "install"}, "w2k8r2")
    assert planned.arguments["dism"] == COMPONENTS["iis_common"].dism == "IIS-WebServerRole"
    done = step(lab_host, "wsh", planned.arguments)
    assert done.status == "ok" and "/featurename:IIS-WebServerRole" in done.command
    assert lab_host.spec.components["Web-Server"] is True
    # The ServerManager name given to dism.exe is an unknown feature, as on Windows.
    wrong = dict(planned.arguments, dism="")
    refused = step(host("de-DE"), "wsh", wrong)
    assert refused.status == "failed" and "/featurename:Web-Server" in refused.command


def test_smtp_dism_and_ocsetup_names_are_unverified_so_the_lab_refuses_them() -> None:
    """No public source confirms SMTP's DISM (2008 R2) or ocsetup (2008) name: the lab knows
    none, and the step fails rather than pretend (the playbook says so)."""
    planned = _component(1, "SMTP", {"component": "smtp", "action": "remove"}, "w2k8r2")
    assert step(host("de-DE"), "wsh", planned.arguments).status == "failed"
    planned = _component(1, "SMTP", {"component": "smtp", "action": "remove"}, "w2k8")
    assert planned.arguments["mechanism"] == "ocsetup"
    w2008 = host("de-DE", version="6.0.6002")
    assert step(w2008, "powershell", planned.arguments).status == "failed"
    assert w2008.spec.components["SMTP-Server"] is True


def test_a_6x_host_names_features_by_servermanager_name() -> None:
    text = """
hosts:
  - name: web.lab.local
    os: {version: 6.1.7601, build: 7601, language: de-DE}
    components: {SMTP Server: true}
"""
    with pytest.raises(FleetError, match="ServerManager name"):
        parse_fleet(text, "fleet.yml")
    with pytest.raises(FleetError, match="language"):
        parse_fleet(text.replace("de-DE", "klingon").replace("SMTP Server", "SMTP-Server"))
