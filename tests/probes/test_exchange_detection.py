"""Exchange detection from 5.5 to Exchange Server SE, in both dialects (issue 16).

collect.js runs under the fake WSH (tests/probes/js_harness), whose registry has two views on
64-bit Windows: a 32-bit cscript that does not ask for the 64-bit view finds no Exchange key,
and 2013 and later have no store.exe. collect.ps1 cannot run here (no PowerShell on this
machine): the lab answers it from the same host model, and the script's text is checked for
what the model makes Windows demand (the keys, the 64-bit view, ExSetup.exe).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from remediate.lab.answers.collect import exchange_facts, model_files
from remediate.lab.fleet import HostSpec
from remediate.lab.registry import ROLE_KEYS, ROLE_PARENTS, SETUP_KEYS, exchange_registry
from remediate.probes.assemble import script_source
from remediate.probes.collect import (
    CollectRequest,
    EventQuery,
    FileQuery,
    build_collect_script,
    parse_evidence,
)
from remediate.probes.framing import parse_output
from tests.probes.test_collect_js import (
    EX2003,
    NT4,
    comparable,
    fake_host,
    lab_answer,
    node,  # noqa: F401  (the fixture)
    run_js,
)

V15 = "C:\\Program Files\\Microsoft\\Exchange Server\\V15"
V14 = "C:\\Program Files\\Microsoft\\Exchange Server\\V14"
E2007 = "C:\\Program Files\\Microsoft\\Exchange Server"
V15_KEY = "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup"


def windows(caption: str, version: str, powershell: str | None = "5.1") -> dict[str, Any]:
    return {
        "caption": caption,
        "version": version,
        "build": int(version.split(".")[2]),
        "service_pack": 0,
        "architecture": "x64",
        "powershell": powershell,
    }


def exchange_host(name: str, os: dict[str, Any], exchange: dict[str, Any]) -> HostSpec:
    return HostSpec.model_validate(
        {
            "name": f"{name}.lab.local",
            "os": os,
            "exchange": exchange,
            "services": [{"name": "MSExchangeIS"}, {"name": "MSExchangeTransport"}],
        }
    )


# Exchange 2007 SP3 RU23 (8.3.517.0) on Windows Server 2003 x64 with PowerShell 1.0 and no
# WinRM: only the JScript dialect reaches it.
EX2007 = exchange_host(
    "ex2007",
    {
        **windows("Microsoft(R) Windows(R) Server 2003 Standard x64 Edition", "5.2.3790", "1.0"),
        "service_pack": 2,
        "winrm": False,
    },
    {"product": "Microsoft Exchange Server 2007", "version": "8.3", "build": "8.3.517.0"},
)
EX2010 = exchange_host(
    "ex2010",
    windows("Microsoft Windows Server 2008 R2 Standard", "6.1.7601", "2.0") | {"service_pack": 1},
    {"product": "Microsoft Exchange Server 2010", "version": "14.3", "build": "14.3.513.0"},
)
EX2016 = exchange_host(
    "ex2016",
    windows("Microsoft Windows Server 2016 Standard", "10.0.14393"),
    {"product": "Microsoft Exchange Server 2016", "version": "15.1", "build": "15.1.2507.44"},
)
EX2019 = exchange_host(
    "ex2019",
    windows("Microsoft Windows Server 2022 Standard", "10.0.20348"),
    {"product": "Microsoft Exchange Server 2019", "version": "15.2", "build": "15.2.1748.43"},
)
EXSE = exchange_host(
    "exse",
    windows("Microsoft Windows Server 2025 Standard", "10.0.26100"),
    {"product": "Exchange Server SE", "version": "15.2", "build": "15.2.2562.37"},
)
EDGE = exchange_host(
    "exse-edge",
    windows("Microsoft Windows Server 2022 Standard", "10.0.20348"),
    {"version": "15.2", "build": "15.2.2562.35", "roles": ["EdgeTransport"]},
)

MAILBOX_2019 = "Mailbox,ClientAccess,HubTransport,FrontendTransport,Management"
# host -> (root, setup key, build, roles, sp) as every dialect must report them
EXPECTED: dict[str, tuple[HostSpec, dict[str, str]]] = {
    "5.5": (
        NT4,
        {"exchange_root": "D:\\exchsrvr", "exchange_build": "5.5.2653.23"},
    ),
    "2003": (
        EX2003,
        {
            "exchange_root": "C:\\Program Files\\Exchsrvr",
            "exchange_setup_key": "HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup",
            "exchange_build": "6.5.7638.1",
            "exchange_sp": "2",
        },
    ),
    "2007": (
        EX2007,
        {
            "exchange_root": E2007,
            "exchange_setup_key": "HKLM\\SOFTWARE\\Microsoft\\Exchange\\Setup",
            "exchange_build": "8.3.517.0",
            "exchange_roles": "Mailbox,ClientAccess,HubTransport,Management",
        },
    ),
    "2010": (
        EX2010,
        {
            "exchange_root": V14,
            "exchange_setup_key": "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup",
            "exchange_build": "14.3.513.0",
            "exchange_roles": "Mailbox,ClientAccess,HubTransport,Management",
        },
    ),
    "2016": (
        EX2016,
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.1.2507.44",
            "exchange_roles": (
                "Mailbox,ClientAccess,HubTransport,UnifiedMessaging,FrontendTransport,Management"
            ),
        },
    ),
    "2019": (
        EX2019,
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.1748.43",
            "exchange_roles": MAILBOX_2019,
        },
    ),
    "SE": (
        EXSE,
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.2562.37",
            "exchange_roles": MAILBOX_2019,
        },
    ),
    "SE-edge": (
        EDGE,
        {
            "exchange_root": V15,
            "exchange_setup_key": V15_KEY,
            "exchange_build": "15.2.2562.35",
            "exchange_roles": "EdgeTransport",
        },
    ),
}
MODERN = ("2007", "2010", "2016", "2019", "SE", "SE-edge")
# (id, root-relative path): the rows of playbooks rooted at `exchange`
REQUEST = CollectRequest(
    files=(
        FileQuery("exsetup", "exchange", "Bin\\ExSetup.exe"),
        FileQuery("store", "exchange", "Bin\\store.exe"),
        FileQuery("fipfs", "exchange", "FIP-FS\\Bin\\fms.exe"),
    ),
    events=(
        EventQuery("fipfs-2019", "Application", ("FIPFS",), (5300, 1106), exchange=("15.2",)),
        EventQuery("is-2010", "Application", ("MSExchangeIS",), (), exchange=("14.3",)),
    ),
)


def same_records(stdout: bytes) -> list[tuple[str, dict[str, str]]]:
    """The records to compare with the lab's: FSO gives a file's binary version only, so a
    file's version_text ("15.02.1748.043" in the lab, as FileVersionInfo spells it) is left out
    (see test_collect_js.test_version_text_is_the_fixed_file_version)."""
    return [
        (kind, {k: v for k, v in fields.items() if not (kind == "file" and k == "version_text")})
        for kind, fields in comparable(parse_output(stdout, "collect"))
    ]


def exchange_fact_records(stdout: bytes) -> dict[str, str]:
    return {
        r.get("name"): r.get("value")
        for r in parse_output(stdout, "collect")
        if r.kind == "fact" and r.get("name").startswith("exchange_")
    }


# --- each version, each dialect -----------------------------------------------------------------


# Each version in a 64-bit cscript and, on 64-bit Windows, in a 32-bit one (WOW64).
RUNS = [(v, False) for v in EXPECTED] + [
    (v, True) for v, (spec, _) in EXPECTED.items() if spec.os.architecture == "x64"
]


@pytest.mark.parametrize(
    ("version", "wow64"), RUNS, ids=[f"{v}-{'wow64' if w else 'native'}" for v, w in RUNS]
)
def test_jscript_detects_each_version_as_the_lab_does(
    node: str,  # noqa: F811
    version: str,
    wow64: bool,
    tmp_path: Path,
) -> None:
    spec, expected = EXPECTED[version]
    script = build_collect_script(REQUEST, "wsh")
    out, _ = run_js(node, fake_host(spec, wow64=wow64), script, tmp_path)
    assert exchange_fact_records(out) == expected
    assert same_records(out) == same_records(lab_answer(spec, script))
    assert parse_evidence(spec.name, out).errors == ()


@pytest.mark.parametrize("version", [v for v in EXPECTED if v not in ("5.5", "2007")])
def test_the_powershell_answer_gives_the_same_facts(version: str) -> None:
    """PowerShell 2.0 and later hosts: the lab answers collect.ps1 with the same facts."""
    spec, expected = EXPECTED[version]
    assert exchange_fact_records(lab_answer(spec, build_collect_script(REQUEST, "powershell")))
    assert exchange_fact_records(
        lab_answer(spec, build_collect_script(REQUEST, "powershell"))
    ) == exchange_fact_records(lab_answer(spec, build_collect_script(REQUEST, "wsh")))
    assert dict((k, str(v)) for k, v in exchange_facts(spec) if v is not None) == expected


@pytest.mark.parametrize("version", MODERN)
def test_file_rows_resolve_from_the_install_root(
    node: str,  # noqa: F811
    version: str,
    tmp_path: Path,
) -> None:
    spec, expected = EXPECTED[version]
    out, _ = run_js(node, fake_host(spec), build_collect_script(REQUEST, "wsh"), tmp_path)
    files = {f.id: f for f in parse_evidence(spec.name, out).files}
    root = expected["exchange_root"]
    assert files["exsetup"].path == root + "\\Bin\\ExSetup.exe"
    assert files["exsetup"].exists and files["exsetup"].version == expected["exchange_build"]
    assert files["fipfs"].path == root + "\\FIP-FS\\Bin\\fms.exe" and not files["fipfs"].exists
    # 2013 and later have no store.exe; 2007 and 2010 still have one
    assert files["store"].exists is (root != V15)


def test_event_filters_follow_the_version_read_from_exsetup(
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    out, queries = run_js(node, fake_host(EX2019), build_collect_script(REQUEST, "wsh"), tmp_path)
    evidence = parse_evidence(EX2019.name, out)
    assert evidence.event_matches("fipfs-2019") is not None  # 15.2: read
    assert evidence.event_matches("is-2010") is None  # a 14.3 filter: not this host's
    assert any("EventCode = 5300" in q for q in queries)


# --- the lab is stricter than Windows -----------------------------------------------------------


def without_64_bit_view(script: str) -> str:
    """collect.js as a script that never asks the registry provider for the 64-bit view."""
    asked = 'context.Add("__ProviderArchitecture", 64);'
    assert asked in script
    return script.replace(asked, 'context.Add("__NotAnArchitecture", 64);')


@pytest.mark.parametrize("version", ["2010", "2016", "SE"])
def test_a_32_bit_reader_without_the_64_bit_view_finds_no_exchange(
    node: str,  # noqa: F811
    version: str,
    tmp_path: Path,
) -> None:
    spec, expected = EXPECTED[version]
    spec = spec.model_copy(update={"services": []})  # no service image path to fall back on
    blind = without_64_bit_view(build_collect_script(REQUEST, "wsh"))
    out, _ = run_js(node, fake_host(spec, wow64=True), blind, tmp_path)
    assert exchange_fact_records(out) == {}
    assert parse_evidence(spec.name, out).exchange is None
    # the same script in a 64-bit cscript sees the native view: the harness models the view
    out, _ = run_js(node, fake_host(spec, wow64=False), blind, tmp_path)
    assert exchange_fact_records(out) == expected


def test_regread_of_the_setup_key_fails_in_a_32_bit_process(
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The registry is stored by physical path: RegRead in WOW64 goes to Wow6432Node."""
    probe = (
        "// remediate-script: probe v1\r\n"
        "var shell = new ActiveXObject('WScript.Shell');\r\n"
        "function read(path) { try { return String(shell.RegRead(path)); }"
        " catch (e) { return 'missing'; } }\r\n"
        "WScript.StdOut.Write(read('HKLM\\\\"
        + SETUP_KEYS["2013"].replace("\\", "\\\\")
        + "\\\\MsiInstallPath'));\r\n"
    )
    out32, _ = run_js(node, fake_host(EX2019, wow64=True), probe, tmp_path)
    out64, _ = run_js(node, fake_host(EX2019, wow64=False), probe, tmp_path)
    assert (out32, out64) == (b"missing", (V15 + "\\").encode())


def test_required_64_bit_provider_on_32_bit_windows_fails(
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """__RequiredArchitecture with 64 on 32-bit Windows: WBEM_E_PROVIDER_LOAD_FAILURE."""
    probe = "\r\n".join(
        [
            "var ctx = new ActiveXObject('WbemScripting.SWbemNamedValueSet');",
            "ctx.Add('__ProviderArchitecture', 64); ctx.Add('__RequiredArchitecture', true);",
            "var reg = new ActiveXObject('WbemScripting.SWbemLocator')"
            ".ConnectServer('.', 'root\\\\default').Get('StdRegProv');",
            "var input = reg.Methods_.Item('EnumKey').InParameters.SpawnInstance_();",
            "input.hDefKey = 0x80000002; input.sSubKeyName = 'SOFTWARE';",
            "try { reg.ExecMethod_('EnumKey', input, 0, ctx); WScript.StdOut.Write('read'); }",
            "catch (e) { WScript.StdOut.Write('refused ' + e.number); }",
        ]
    )
    out, _ = run_js(node, fake_host(EX2003), probe, tmp_path)
    assert out == b"refused -2147217389"  # 0x80041013


def test_store_exe_gives_no_build_from_2013_on(
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A collector that read the build from store.exe, as before issue 16, finds none on
    2013 and later; on 2010 the same script still finds one."""
    script = build_collect_script(REQUEST, "wsh")
    assert 'var names = ["Bin\\\\ExSetup.exe"];' in script
    old_style = script.replace(
        'var names = ["Bin\\\\ExSetup.exe"];', 'var names = ["bin\\\\store.exe"];'
    )
    out, _ = run_js(node, fake_host(EX2019), old_style, tmp_path)
    assert exchange_fact_records(out)["exchange_build"] == ""
    out, _ = run_js(node, fake_host(EX2010), old_style, tmp_path)
    assert exchange_fact_records(out)["exchange_build"] == "14.3.513.0"
    assert not any(p.endswith("\\store.exe") for p in model_files(EX2019))


def test_an_unreadable_event_record_costs_that_record(
    node: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """One Win32_NTLogEvent instance whose properties throw: the log's other records are kept
    and one error record counts the lost one."""
    spec = EX2019.model_copy(deep=True)
    spec.event_logs = spec.event_logs.model_validate(
        {
            "records": [
                {"source": "FIPFS", "event_id": 5300, "ago": f"{n}h", "message": f"m{n}"}
                for n in (1, 2, 3)
            ]
        }
    )
    host = fake_host(spec)
    host["wmi"]["Win32_NTLogEvent"][1]["_unreadable"] = True
    request = CollectRequest(events=(EventQuery("fipfs", "Application", ("FIPFS",), (5300,)),))
    out, _ = run_js(node, host, build_collect_script(request, "wsh"), tmp_path)
    evidence = parse_evidence(spec.name, out)
    matches = evidence.event_matches("fipfs")
    assert matches is not None and matches.total == 2
    assert [s.message for s in matches.samples] == ["m1", "m3"]
    assert [(e.scope, e.item) for e in evidence.errors] == [("event_record", "Application")]
    assert evidence.errors[0].message.startswith("1 record(s) could not be read")


# --- collect.ps1: what cannot run here is checked against the model ----------------------------

PS1 = script_source("collect", "powershell")
JS = script_source("collect", "wsh")


def test_both_dialects_name_every_key_the_lab_models() -> None:
    keys = set(SETUP_KEYS.values()) | set(ROLE_PARENTS.values())
    roles = {key for key, _ in ROLE_KEYS}
    for spec, _ in EXPECTED.values():
        keys |= {
            k for k in exchange_registry(spec) if not k.startswith(tuple(ROLE_PARENTS.values()))
        }
    for key in keys:
        assert f"'{key}'" in PS1, key
        assert '"' + key.replace("\\", "\\\\") + '"' in JS, key
    for role in roles:
        assert f"'{role}'" in PS1 and f'"{role}"' in JS, role
    assert "'MsiInstallPath'" in PS1 and '"MsiInstallPath"' in JS


def test_collect_ps1_reads_exchange_keys_in_the_64_bit_view() -> None:
    """.NET 2.0 has no RegistryView: the WMI registry provider with __ProviderArchitecture 64
    in the context of each call; never Get-ItemProperty on a 2007+ key (the 32-bit trap)."""
    assert "$context.Add('__ProviderArchitecture', 64)" in PS1
    assert "New-Object System.Management.InvokeMethodOptions" in PS1
    assert "$call.Context = $context" in PS1
    assert "InvokeMethod($Method, $in, $script:Registry.Call)" in PS1
    # __RequiredArchitecture would make 32-bit Windows refuse: named in comments only
    code = "\n".join(
        ln for ln in (PS1 + JS).splitlines() if not ln.lstrip().startswith(("#", "//"))
    )
    assert "__RequiredArchitecture" not in code
    for line in PS1.splitlines():
        if re.search(r"Get-(ItemProperty|RegistryValue)\b", line) and "function" not in line:
            assert "ExchangeServer" not in line and "MsiInstallPath" not in line, line
    assert "ExecMethod_(method, input, 0, reg.context)" in JS


def test_collect_ps1_reads_the_build_from_exsetup_and_no_store_exe_from_2013_on() -> None:
    v15 = re.search(r"@\{ Key = 'SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup'[^}]*\}", PS1)
    assert v15 is not None and "Store = $false" in v15.group(0)
    assert "$names = @('Bin\\ExSetup.exe')" in PS1
    assert "Get-ExchangeBuild $script:ExchangeRoot @('bin\\store.exe')" in PS1  # 5.5-2003


def test_get_winevent_keeps_the_records_it_could_read() -> None:
    """Get-WinEvent reports an unreadable record or an unformattable message as a
    non-terminating error and goes on (PowerShell's GetWinEventCommand): -ErrorAction Stop
    lost the whole query on the first; they are counted instead."""
    body = PS1[PS1.index("function Read-WinEventLog") : PS1.index("function ConvertTo-EventRow")]
    assert "-ErrorAction SilentlyContinue -ErrorVariable problems" in body
    assert "-ErrorAction Stop" not in body
    assert "NoMatchingEventsFound" in body
    assert "'event_record'" in body
    assert "if ($events.Count -eq 0 -and $first -ne $null) { throw $first }" in body
