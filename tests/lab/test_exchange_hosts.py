"""The demo fleet's current Exchange hosts (issue 16), audited through the real transports.

Each host is reached as Windows Server 2012 and later ship WinRM (Negotiate/NTLM on, Basic off,
AllowUnencrypted false) over HTTPS and over HTTP with NTLM-sealed messages, runs the collector
and reports its Exchange as the model holds it: setup's key, root, ExSetup.exe's build, roles.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from remediate.errors import TransportError
from remediate.lab.fleet import Exchange, Fleet, HostSpec, load_fleet
from remediate.lab.registry import exchange_registry
from remediate.lab.server import Lab
from remediate.probes.collect import (
    CollectRequest,
    EventQuery,
    FileQuery,
    build_collect_script,
    parse_evidence,
)
from remediate.probes.framing import parse_output
from remediate.transport.winrm import WinRMTransport
from tests.conftest import DEMO_FLEET, lab_winrm

V15 = "C:\\Program Files\\Microsoft\\Exchange Server\\V15"
V15_KEY = "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup"
MAILBOX_2019 = "Mailbox,ClientAccess,HubTransport,FrontendTransport,Management"
# host -> (OS caption, Exchange facts the collector must report)
HOSTS: dict[str, tuple[str, dict[str, str]]] = {
    "ex2010-sp3.lab.local": (
        "Microsoft Windows Server 2012 R2 Standard",
        {
            "exchange_root": "C:\\Program Files\\Microsoft\\Exchange Server\\V14",
            "exchange_setup_key": "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup",
            "exchange_build": "14.3.513.0",
            "exchange_roles": "Mailbox,ClientAccess,HubTransport,Management",
        },
    ),
    "ex2016-cu23.lab.local": (
        "Microsoft Windows Server 2016 Standard",
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.1.2507.44",
            "exchange_roles": (
                "Mailbox,ClientAccess,HubTransport,UnifiedMessaging,FrontendTransport,Management"
            ),
        },
    ),
    "ex2019-fipfs.lab.local": (
        "Microsoft Windows Server 2019 Standard",
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.986.14",
            "exchange_roles": MAILBOX_2019,
        },
    ),
    "ex2019-cu15.lab.local": (
        "Microsoft Windows Server 2022 Standard",
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.1748.43",
            "exchange_roles": MAILBOX_2019,
        },
    ),
    "exse.lab.local": (
        "Microsoft Windows Server 2025 Standard",
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.2562.37",
            "exchange_roles": MAILBOX_2019,
        },
    ),
    "exse-edge.lab.local": (
        "Microsoft Windows Server 2022 Standard",
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.2562.35",
            "exchange_roles": "EdgeTransport",
        },
    ),
}
FIPFS_5300 = (
    'The FIP-FS "Microsoft" Scan Engine failed to load. PID: 23092, Error Code: 0x80004005. '
    'Error Description: Can\'t convert "2201010001" to long.'
)
FIPFS_1106 = (
    "The FIP-FS Scan Process failed initialization. Error: 0x80004005. "
    "Error Details: Unspecified error."
)
REQUEST = CollectRequest(
    services=("MSExchangeTransport", "FMS"),
    files=(FileQuery("exsetup", "exchange", "Bin\\ExSetup.exe"),),
    events=(
        EventQuery("fipfs", "Application", ("FIPFS",), (5300, 1106), max_samples=2),
        EventQuery("fipfs-old", "Application", ("FIPFS",), (5300,), exchange=("6.5",)),
    ),
)


def current_hosts() -> Fleet:
    fleet = load_fleet(DEMO_FLEET)
    fleet.hosts = [h for h in fleet.hosts if h.name in HOSTS]
    return fleet


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(current_hosts(), port_mode="ephemeral") as running:
        yield running


def test_the_demo_fleet_has_every_current_version() -> None:
    fleet = current_hosts()
    assert sorted(h.name for h in fleet.hosts) == sorted(HOSTS)
    for spec in fleet.hosts:
        assert spec.os.caption == HOSTS[spec.name][0]
        assert spec.os.architecture == "x64"
        endpoints = spec.endpoints
        assert (endpoints.ntlm, endpoints.basic, endpoints.allow_unencrypted) == (
            True,
            False,
            False,
        )
        assert not endpoints.ssh


def https(lab: Lab, name: str) -> WinRMTransport:
    endpoint = lab.endpoint(name)
    return lab_winrm(
        lab, name, scheme="https", port=endpoint.https_port, ca_trust_path=str(lab.ca_path)
    )


@pytest.mark.parametrize("name", list(HOSTS))
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_each_host_reports_its_exchange_through_winrm(lab: Lab, name: str, scheme: str) -> None:
    link = https(lab, name) if scheme == "https" else lab_winrm(lab, name)
    try:
        result = link.run(build_collect_script(REQUEST, "powershell"), "powershell")
    finally:
        link.close()
    facts = {
        r.get("name"): r.get("value")
        for r in parse_output(result.stdout, "collect")
        if r.kind == "fact" and r.get("name").startswith("exchange_")
    }
    assert facts == HOSTS[name][1]
    evidence = parse_evidence(name, result.stdout)
    assert evidence.errors == ()
    exsetup = evidence.file("exsetup")
    assert exsetup is not None and exsetup.exists
    assert exsetup.path == facts["exchange_root"] + "\\Bin\\ExSetup.exe"
    assert exsetup.version == facts["exchange_build"]
    assert evidence.event_matches("fipfs-old") is None  # an Exchange 2003 filter: not read


def test_the_fipfs_host_shows_the_january_2022_events(lab: Lab) -> None:
    link = https(lab, "ex2019-fipfs.lab.local")
    try:
        result = link.run(build_collect_script(REQUEST, "powershell"), "powershell")
    finally:
        link.close()
    matches = parse_evidence("ex2019-fipfs.lab.local", result.stdout).event_matches("fipfs")
    assert matches is not None and matches.total == 192
    assert {(s.source, s.event_id, s.type, s.message) for s in matches.samples} == {
        ("FIPFS", 5300, "Error", FIPFS_5300),
        ("FIPFS", 1106, "Error", FIPFS_1106),
    }
    for other in set(HOSTS) - {"ex2019-fipfs.lab.local"}:
        spec = lab.host(other).spec
        assert not any(g.source == "FIPFS" for g in spec.event_logs.generators), other


def test_basic_and_unsealed_http_are_refused_as_windows_ships(lab: Lab) -> None:
    name = "ex2019-cu15.lab.local"
    for overrides in ({"auth": "basic"}, {"message_encryption": "never"}):
        link = lab_winrm(lab, name, connect_retries=0, **overrides)
        with pytest.raises(TransportError):
            try:
                link.run(build_collect_script(CollectRequest(), "powershell"), "powershell")
            finally:
                link.close()


# --- the model: defaults per line, and what the registry holds ----------------------------------


def exchange(**fields: object) -> Exchange:
    return Exchange.model_validate(fields)


def test_each_line_has_its_setup_folder_and_roles_by_default() -> None:
    e2007 = exchange(version="8.3", build="8.3.517.0")
    e2010 = exchange(version="14.3", build="14.3.513.0")
    e2016 = exchange(version="15.1", build="15.1.2507.44")
    e2019 = exchange(version="15.2", build="15.2.1748.43")
    e2003 = exchange()
    assert e2007.install_root == "C:\\Program Files\\Microsoft\\Exchange Server"
    assert e2010.install_root.endswith("\\V14") and e2016.install_root == V15
    assert e2003.install_root == "C:\\Program Files\\Exchsrvr" and e2003.roles == []
    assert (e2003.service_pack, e2010.service_pack, e2019.service_pack) == (2, None, None)
    assert "UnifiedMessaging" in (e2016.roles or []) and "UnifiedMessaging" not in (
        e2019.roles or []
    )
    assert "FrontendTransport" not in (e2010.roles or [])


@pytest.mark.parametrize(
    "fields",
    [
        {"version": "6.5", "roles": ["Mailbox"]},
        {"version": "14.3", "build": "14.3.513.0", "roles": ["FrontendTransport"]},
        {"version": "15.2", "roles": ["Mailbox", "Gateway"]},
    ],
)
def test_roles_a_version_cannot_have_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        exchange(**fields)


def registry_of(**fields: object) -> dict[str, dict[str, object]]:
    spec = HostSpec.model_validate({"name": "x.lab.local", "exchange": fields})
    return {
        k: {n: v.data for n, v in values.items()} for k, values in exchange_registry(spec).items()
    }


def test_the_registry_holds_setup_key_and_role_keys_in_the_native_view_only() -> None:
    e2019 = registry_of(version="15.2", build="15.2.1748.43")
    assert e2019["SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup"]["MsiInstallPath"] == V15 + "\\"
    roles = sorted(k.rsplit("\\", 1)[1] for k in e2019 if not k.endswith("\\Setup"))
    assert roles == [
        "AdminTools",
        "CafeRole",
        "ClientAccessRole",
        "FrontendTransportRole",
        "HubTransportRole",
        "MailboxRole",
    ]
    assert not any("wow6432node" in k.lower() for k in e2019)
    e2010 = registry_of(version="14.3", build="14.3.513.0", roles=["Mailbox", "ClientAccess"])
    assert sorted(e2010) == [
        "SOFTWARE\\Microsoft\\ExchangeServer\\v14\\ClientAccessRole",  # no CafeRole before 2013
        "SOFTWARE\\Microsoft\\ExchangeServer\\v14\\MailboxRole",
        "SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup",
    ]
    e2007 = registry_of(version="8.3", build="8.3.517.0", roles=["EdgeTransport"])
    assert sorted(e2007) == [
        "SOFTWARE\\Microsoft\\Exchange\\Setup",
        "SOFTWARE\\Microsoft\\Exchange\\v8.0\\EdgeTransportRole",
    ]
    assert registry_of(version="6.5") == {
        "SOFTWARE\\Microsoft\\Exchange\\Setup": {
            "Services": "C:\\Program Files\\Exchsrvr\\",
            "ServicePackNumber": 2,
        }
    }
    assert registry_of(version="15.2", in_registry=False) == {}
