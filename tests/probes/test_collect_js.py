"""collect.js: JScript 5 (ECMAScript 3) only, and the lab's evidence when run on a fake WSH.

The node tests run the script exactly as sent (`build_collect_script(request, "wsh")`, through
the transport's `eval(WScript.StdIn.ReadAll())` bootstrap) against fake WSH objects derived from
a lab `HostSpec`, and compare its records with what the lab's model answers for that host.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import esprima
import pytest

from remediate.lab.answers.collect import (
    SERVICE_STATES,
    START_MODES,
    answer_collect,
    model_files,
    numeric_version,
    system_root,
)
from remediate.lab.features import server_feature_rows
from remediate.lab.fleet import HostSpec
from remediate.lab.host import LabHost
from remediate.lab.registry import exchange_registry
from remediate.probes.assemble import script_source
from remediate.probes.collect import (
    CollectRequest,
    ComponentQuery,
    EventQuery,
    FileQuery,
    build_collect_script,
    parse_evidence,
)
from remediate.probes.framing import Record, parse_output
from remediate.probes.protocol import parse_declaration
from remediate.rules.evidence import Evidence
from remediate.transport import WSH_BOOTSTRAP

SCRIPT = Path(__file__).resolve().parents[2] / "remediate" / "probes" / "collect.js"
HARNESS = Path(__file__).resolve().parent / "js_harness" / "wsh_host.js"
# What collect.js selects from Win32_NTLogEvent: the fields it reads, never SELECT *.
FIELDS = "EventCode, EventType, Type, SourceName, TimeGenerated, Message, Data, RecordNumber"

# --- ECMAScript 3 lint -----------------------------------------------------------------------

ES5_AND_LATER_NODES = {
    "ArrowFunctionExpression": "arrow function",
    "TemplateLiteral": "template literal",
    "TaggedTemplateExpression": "tagged template",
    "ClassDeclaration": "class",
    "ClassExpression": "class",
    "ForOfStatement": "for-of",
    "SpreadElement": "spread",
    "RestElement": "rest parameter",
    "AssignmentPattern": "default parameter",
    "ObjectPattern": "destructuring",
    "ArrayPattern": "destructuring",
    "YieldExpression": "yield",
    "AwaitExpression": "await",
    "Super": "super",
    "MetaProperty": "new.target",
}
ES5_AND_LATER_GLOBALS = {
    "JSON",
    "Promise",
    "Symbol",
    "Map",
    "Set",
    "WeakMap",
    "WeakSet",
    "Proxy",
    "Reflect",
}
ES5_AND_LATER_METHODS = {
    "forEach",
    "map",
    "filter",
    "reduce",
    "reduceRight",
    "some",
    "every",
    "trim",
    "trimLeft",
    "trimRight",
    "trimStart",
    "trimEnd",
    "bind",
    "toISOString",
    "toJSON",
    "startsWith",
    "endsWith",
    "includes",
    "padStart",
    "padEnd",
    "repeat",
    "find",
    "findIndex",
    "fill",
    "keys",
    "create",
    "defineProperty",
    "defineProperties",
    "getPrototypeOf",
    "getOwnPropertyNames",
    "isArray",
    "now",
    "freeze",
    "assign",
}
# ES3 reserves these even as property names; JScript rejects `x.default` and `{class: 1}`.
ES3_RESERVED = set(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "abstract",
        "boolean",
        "byte",
        "char",
        "double",
        "final",
        "float",
        "goto",
        "implements",
        "int",
        "interface",
        "long",
        "native",
        "package",
        "private",
        "protected",
        "public",
        "short",
        "static",
        "synchronized",
        "throws",
        "transient",
        "volatile",
    ]
)
# indexOf/lastIndexOf is ES5 on arrays: allowed only on what is a string by construction.
STRING_METHODS = {"toLowerCase", "toUpperCase", "substring", "substr", "charAt", "replace", "join"}


def parse(source: str) -> dict[str, Any]:
    tree = esprima.parseScript(source, {"tokens": True, "range": True, "loc": True})
    return tree.toDict()


def _is_string(node: dict[str, Any]) -> bool:
    if node["type"] == "Literal" and isinstance(node.get("value"), str):
        return True
    if node["type"] != "CallExpression":
        return False
    callee = node["callee"]
    if callee["type"] == "Identifier":
        return callee["name"] == "String"
    return (
        callee["type"] == "MemberExpression"
        and not callee["computed"]
        and callee["property"]["name"] in STRING_METHODS
    )


def _check(node: dict[str, Any], line: int) -> list[str]:
    kind = node["type"]
    where = f"line {line}"
    found = []
    if kind in ES5_AND_LATER_NODES:
        found.append(f"{where}: {ES5_AND_LATER_NODES[kind]}")
    elif kind == "VariableDeclaration" and node["kind"] != "var":
        found.append(f"{where}: {node['kind']}")
    elif kind in ("FunctionDeclaration", "FunctionExpression"):
        if node.get("generator") or node.get("isAsync") or node.get("async"):
            found.append(f"{where}: generator/async function")
        if kind == "FunctionExpression" and node.get("id"):
            found.append(f"{where}: named function expression (JScript leaks its name)")
    elif kind == "Property":
        if node["kind"] != "init":
            found.append(f"{where}: getter/setter")
        if node.get("method") or node.get("shorthand") or node.get("computed"):
            found.append(f"{where}: ES6 property shorthand")
        key = node["key"]
        if key["type"] == "Identifier" and key["name"] in ES3_RESERVED:
            found.append(f"{where}: reserved word {key['name']!r} as a property name")
    elif kind == "MemberExpression" and not node["computed"]:
        name = node["property"]["name"]
        if name in ES3_RESERVED:
            found.append(f"{where}: reserved word {name!r} as a property name")
        if name in ES5_AND_LATER_METHODS:
            found.append(f"{where}: .{name} (ES5 or later)")
        if name in ("indexOf", "lastIndexOf") and not _is_string(node["object"]):
            found.append(f"{where}: .{name} on a value not known to be a string (ES5 on arrays)")
    elif kind == "Identifier" and node["name"] in ES5_AND_LATER_GLOBALS:
        found.append(f"{where}: {node['name']} (ES5 or later)")
    elif kind in ("BinaryExpression", "AssignmentExpression") and "**" in node["operator"]:
        found.append(f"{where}: ** operator")
    elif kind == "ArrayExpression" and any(e is None for e in node["elements"]):
        found.append(f"{where}: array hole (JScript counts it differently)")
    elif kind == "Literal" and node.get("regex"):
        if set(node["regex"]["flags"]) - set("gim"):
            found.append(f"{where}: regular expression flags {node['regex']['flags']!r}")
    elif kind == "CallExpression":
        callee = node["callee"]
        arguments = node["arguments"]
        if (
            callee["type"] == "MemberExpression"
            and not callee["computed"]
            and callee["property"]["name"] == "split"
            and arguments
            and arguments[0]["type"] == "Literal"
            and arguments[0].get("regex")
        ):
            found.append(f"{where}: split with a regular expression (broken in JScript)")
    return found


def es3_problems(source: str) -> list[str]:
    """The constructs of the script that JScript 5.x (ECMAScript 3) does not run as written."""
    problems = [
        f"line {n}: non-ASCII text (cscript reads stdin in the OEM code page)"
        for n, line in enumerate(source.splitlines(), start=1)
        if not line.isascii()
    ]
    tree = parse(source)
    line_of = _line_index(source)

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            if isinstance(value.get("type"), str) and "range" in value:
                problems.extend(_check(value, line_of(value["range"][0])))
            for key, item in value.items():
                if key not in ("range", "loc", "regex", "tokens"):
                    walk(item)

    walk(tree["body"])
    tokens = tree["tokens"]
    for token, following in itertools.pairwise(tokens):
        if token["value"] == "," and following["value"] in ("]", "}"):
            problems.append(f"line {line_of(token['range'][0])}: trailing comma")
    return problems


def _line_index(source: str) -> Callable[[int], int]:
    starts = [0] + [m.end() for m in re.finditer("\n", source)]
    return lambda offset: bisect.bisect_right(starts, offset)


def test_collect_js_parses() -> None:
    assert parse(script_source("collect", "wsh"))["body"]


def test_collect_js_is_ecmascript_3() -> None:
    assert es3_problems(script_source("collect", "wsh")) == []  # common.js spliced in


def test_the_script_as_sent_parses_too() -> None:
    sent = build_collect_script(HOSTILE_REQUEST, "wsh")
    assert sent.startswith("// remediate-script: collect v1\r\n")
    assert es3_problems(sent) == []


@pytest.mark.parametrize(
    "snippet",
    [
        "var o = JSON.parse(t);",
        "a.forEach(function (x) { });",
        "var b = a.map(function (x) { return x; });",
        "var b = a.filter(f);",
        "var i = items.indexOf(x);",
        "var s = t.trim();",
        "let x = 1;",
        "const x = 1;",
        "var f = (x) => x;",
        "var s = `x${y}`;",
        "var a = [1, 2,];",
        "var o = {a: 1,};",
        "var o = {get a() { return 1; }};",
        "var o = {set a(v) { }};",
        "var f = function named() { };",
        "var d = o.default;",
        "var o = {class: 1};",
        "var p = t.split(/,/);",
        "var n = Date.now();",
        "var k = Object.keys(o);",
        "for (var x of xs) { }",
        "var s = 'Ünïcødé';",
    ],
)
def test_lint_catches_newer_constructs(snippet: str) -> None:
    assert es3_problems(snippet)


def test_lint_accepts_string_index_of() -> None:
    assert es3_problems("var i = String(t).indexOf('x') + t.toLowerCase().lastIndexOf('y');") == []


def test_parser_catches_broken_syntax() -> None:
    with pytest.raises(esprima.Error):
        parse("function f() { if (x) { return 1; }")


# --- the fake Windows Script Host, derived from a lab host model -----------------------------

HKLM = "HKEY_LOCAL_MACHINE\\"
ARCHITECTURES = {"x86": "x86", "x64": "AMD64", "ia64": "IA64", "alpha": "ALPHA"}
EVENT_TYPES = {
    "error": ("Error", 1),
    "warning": ("Warning", 2),
    "information": ("Information", 3),
    "success_audit": ("Audit Success", 4),
    "failure_audit": ("Audit Failure", 5),
}
EXCHANGE_IMAGES = {
    "msexchangeis": "store.exe",
    "msexchangesa": "mad.exe",
    "msexchangemta": "emsmta.exe",
}
PENDING_RENAMES = "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\PendingFileRenameOperations"
REBOOT_REQUIRED = (
    "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
)


def wmi_time(moment: datetime, offset_minutes: int) -> str:
    """A CIM datetime: local time then the offset from UTC in minutes."""
    local = moment.astimezone(UTC) + timedelta(minutes=offset_minutes)
    sign = "-" if offset_minutes < 0 else "+"
    return local.strftime("%Y%m%d%H%M%S.%f") + f"{sign}{abs(offset_minutes):03d}"


def fake_host(
    spec: HostSpec,
    *,
    offset_minutes: int = 330,
    wow64: bool = False,
    broken: tuple[str, ...] = (),
) -> dict[str, Any]:
    """What WSH would see on a real host built like `spec`. `wow64`: the script runs in a
    32-bit cscript on 64-bit Windows, whose view of HKLM\\SOFTWARE is SOFTWARE\\Wow6432Node:
    Windows' own values are there too, Exchange's only in the 64-bit view (lab/registry.py)."""
    os_ = spec.os
    windows = system_root(spec)
    modern = os_.family not in ("nt4", "w2k", "w2k3")
    registry: dict[str, dict[str, Any]] = {}

    def value(path: str, kind: str, data: Any) -> None:
        registry[HKLM + path] = {"type": kind, "data": data}

    major_minor = ".".join(os_.version.split(".")[:2])
    value("SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\CurrentVersion", "REG_SZ", major_minor)
    value(
        "SYSTEM\\CurrentControlSet\\Control\\TimeZoneInformation\\StandardName",
        "REG_SZ",
        os_.timezone,
    )
    if os_.powershell:
        engine = "1" if os_.powershell.split(".")[0] in ("1", "2") else "3"
        value(
            f"SOFTWARE\\Microsoft\\PowerShell\\{engine}\\PowerShellEngine\\PowerShellVersion",
            "REG_SZ",
            os_.powershell,
        )
    # MoveFileEx's order: the deletes (source, EMPTY destination) were registered first.
    renames: list[str] = []
    for path in spec.pending_deletes:
        renames += [f"\\??\\{path}", ""]
    for entry in spec.files:
        if entry.pending_version is not None:
            renames += [f"\\??\\{entry.path}.new", f"!\\??\\{entry.path}"]
    if renames:
        value(
            "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\PendingFileRenameOperations",
            "REG_MULTI_SZ",
            renames,
        )
    if not modern:
        for name, installed in spec.components.items():
            value(
                "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\OC Manager\\Subcomponents\\"
                + name,
                "REG_DWORD",
                1 if installed else 0,
            )
    files = [
        {
            "path": entry.path,
            # FSO.GetFileVersion: the fixed (binary) version, "" without a version resource.
            "version": numeric_version(entry.version) or "" if entry.version else "",
            "size": entry.size,
            "modified_ms": int(entry.modified.timestamp() * 1000),
        }
        for entry in model_files(spec).values()
    ]
    keys = [HKLM + REBOOT_REQUIRED] if spec.pending_reboot else []
    if os_.architecture in ("x64", "ia64"):  # Windows' values exist in both views
        for path in [p for p in registry if p.startswith(HKLM + "SOFTWARE\\")]:
            registry[HKLM + "SOFTWARE\\Wow6432Node\\" + path[len(HKLM) + 9 :]] = registry[path]
        keys += [HKLM + "SOFTWARE\\Wow6432Node\\" + k[len(HKLM) + 9 :] for k in keys]
    for key, values in exchange_registry(spec).items():
        keys.append(HKLM + key)
        for name, found in values.items():
            registry[HKLM + key + "\\" + name] = {"type": found.kind, "data": found.data}
    exchange = spec.exchange

    def image_of(name: str) -> str:
        exe = EXCHANGE_IMAGES.get(name.lower())
        if exchange is not None and exchange.line == "2013" and name.lower() == "msexchangeis":
            exe = "Microsoft.Exchange.Store.Service.exe"  # 2013 and later have no store.exe
        if exchange is not None and exe:
            return f'"{exchange.install_root}\\bin\\{exe}"'
        return f"{windows}\\system32\\svchost.exe -k netsvcs"

    env = {
        "COMPUTERNAME": spec.hostname,
        "SystemRoot": windows,
        "windir": windows,
        "PROCESSOR_ARCHITECTURE": ARCHITECTURES[os_.architecture],
    }
    if wow64:
        env["PROCESSOR_ARCHITECTURE"], env["PROCESSOR_ARCHITEW6432"] = "x86", "AMD64"
    return {
        "computer_name": spec.hostname,
        "env": env,
        "registry": registry,
        "registry_keys": keys,
        "files": files,
        "special_folders": {"0": windows, "1": windows + "\\system32"},
        "broken": list(broken),
        "wmi": {
            "Win32_OperatingSystem": [
                {
                    "Caption": os_.caption + " ",
                    "Version": os_.version,
                    "BuildNumber": str(os_.build),
                    "ServicePackMajorVersion": os_.service_pack,
                }
            ],
            "Win32_TimeZone": [{"StandardName": os_.timezone}],
            "Win32_Service": [
                {
                    "Name": s.name,
                    "State": SERVICE_STATES[s.state],
                    "StartMode": START_MODES[s.start_mode],
                    "PathName": image_of(s.name),
                }
                for s in spec.services
            ],
            # ID (language neutral) and Name (display name in the host's language).
            "Win32_ServerFeature": (
                server_feature_rows(spec.components, os_.language) if modern else []
            ),
            "Win32_NTLogEvent": _event_rows(spec, offset_minutes),
        },
    }


def _event_rows(spec: HostSpec, offset_minutes: int) -> list[dict[str, Any]]:
    """Every event of the model; record numbers as the lab counts them (explicit ones first)."""
    rows = []
    for number, event in enumerate(spec.event_logs.iter_records(datetime.now(UTC)), start=1):
        type_name, type_number = EVENT_TYPES[event.type]
        time = wmi_time(event.time, offset_minutes)
        rows.append(
            {
                "Logfile": event.log,
                "SourceName": event.source,
                # EventCode: the low 16 bits of EventIdentifier (Win32_NTLogEvent, Learn).
                "EventCode": event.identifier & 0xFFFF,
                "EventIdentifier": event.identifier,
                "Type": type_name,
                "EventType": type_number,
                "Message": event.message or None,
                "Data": list(bytes.fromhex(event.data)) if event.data else None,
                "RecordNumber": number,
                "TimeGenerated": time,
                "TimeWritten": time,
            }
        )
    return rows


# --- host models and requests ----------------------------------------------------------------

HOSTILE = 'it\'s "$(calc)" `whoami`; & | <x> Ünïcødé 🦄'
HOSTILE_NAME = "it's $(calc) `whoami`; & Ünïcødé 🦄 x.dll"  # legal in an NTFS name
HOSTILE_SERVICE = "Svc 'q' \"$(x)\" `y`; Ünïcødé 🦄"
HOSTILE_SOURCE = "Src $(x) 'q' `y`; Ünïcødé 🦄"
HOSTILE_MESSAGE = 'Failed "$(Remove-Item C:\\)" `whoami`; x\'y\r\nline 2 Ünïcødé 🦄\n<end>'


def when(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EX2003 = HostSpec.model_validate(
    {
        "name": "ex2003.lab.local",
        "os": {"powershell": None, "timezone": "W. Europe Standard Time"},
        "exchange": {},
        "pending_reboot": True,
        "services": [
            {"name": "MSExchangeIS"},
            {"name": "MSExchangeMTA", "state": "stopped", "start_mode": "manual"},
            {"name": "MSExchangeSA", "state": "start_pending"},
            {"name": "IMAP4Svc", "state": "paused", "start_mode": "disabled"},
            {"name": HOSTILE_SERVICE, "state": "stop_pending"},
            {"name": "constructor", "state": "stopped"},
        ],
        "components": {"iis_www": True, "iis_nntp": False},
        "files": [
            # The lab answers exchange_build without a store.exe entry, but a file query for
            # store.exe only finds it when it is listed: the model lists it.
            {"path": "C:\\Program Files\\Exchsrvr\\bin\\store.exe", "version": "6.5.7638.1"},
            {
                "path": "C:\\Program Files\\Exchsrvr\\bin\\" + HOSTILE_NAME,
                "version": "6.5.7638.2",
                "size": 12345,
                "modified": "2005-06-30T23:59:59Z",
            },
            {"path": "C:\\Program Files\\Exchsrvr\\bin\\readme.dat", "size": 7},
            {
                "path": "C:\\WINDOWS\\System32\\Drivers\\TCPIP.SYS",
                "version": "5.2.3790.3959",
                "size": 360064,
                "modified": "2007-02-17T03:04:05Z",
                "pending_version": "5.2.3790.4000",
            },
            {"path": "C:\\WINDOWS\\explorer.exe", "version": "6.0.3790.3", "size": 1},
            {"path": "D:\\Tools\\short.dll", "version": "5.5.0.0", "size": 3_000_000_000},
        ],
        "event_logs": {
            "records": [
                {
                    "source": "MSExchangeIS",
                    "event_id": 9548,
                    # 0xC004: severity error and facility 4 in the high word. EventIdentifier
                    # (InstanceId) is then 0xC004254C; EventLogEntry.EventID masks only the top
                    # two bits (0x4254C): only the low 16 bits compare as the Event Viewer does.
                    "qualifiers": 0xC004,
                    "time": "2024-03-01T10:00:00Z",
                    "message": HOSTILE_MESSAGE,
                    "data": "74 00 05 00 0e 00 07 80",
                },
                {
                    "source": "msexchangeis",
                    "event_id": 9548,
                    "type": "warning",
                    "time": "2024-03-01T10:00:00Z",
                    "message": "same second, later record",
                },
                {
                    "source": "MSExchangeIS",
                    "event_id": 1000,
                    "type": "information",
                    "time": "2024-03-02T08:30:00Z",
                    "message": "other id",
                },
                {
                    "source": HOSTILE_SOURCE,
                    "event_id": 1,
                    "type": "information",
                    "time": "2023-12-31T23:59:59Z",
                },
                {
                    "log": "System",
                    "source": "Service Control Manager",
                    "event_id": 7031,
                    "time": "2024-02-29T12:00:00Z",
                    "message": "The MSExchangeIS service terminated unexpectedly.",
                },
                {
                    "log": "Security",
                    "source": "Security",
                    "event_id": 528,
                    "type": "success_audit",
                    "time": "2024-03-01T01:00:00Z",
                    "message": "Successful Logon: 'Administrator'",
                },
                {
                    "log": "Security",
                    "source": "Security",
                    "event_id": 529,
                    "type": "failure_audit",
                    "time": "2024-03-01T01:00:05Z",
                    "message": 'Logon Failure: "; DROP TABLE',
                },
            ],
            "generators": [
                {
                    "source": "MSExchangeMTA",
                    "event_id": 9405,
                    "type": "warning",
                    "message": HOSTILE_MESSAGE,
                    "data": "ff00",
                    "count": 50,
                    "every_seconds": 3600,
                    "end": "2024-03-02T00:00:00Z",
                },
                {
                    "log": "System",
                    "source": "EventLog",
                    "event_id": 6005,
                    "type": "information",
                    "count": 10,
                    "every_seconds": 86400,
                    "end": "2024-02-01T06:00:00Z",
                },
            ],
        },
    }
)
HOSTILE_REQUEST = CollectRequest(
    services=(
        "msexchangeis",
        "MSExchangeMTA",
        "MSEXCHANGESA",
        "IMAP4Svc",
        HOSTILE_SERVICE,
        "constructor",
        "toString",
        "__proto__",
        "hasOwnProperty",
        "NoSuchService",
        "line1\nline2",
    ),
    components=(
        ComponentQuery("IIS", oc="iis_www", feature_id=2),
        ComponentQuery("NNTP", oc="iis_nntp", feature_id=0),
        ComponentQuery("SMTP", oc="iis_smtp", feature_id=48),
    ),
    files=(
        FileQuery("store", "exchange", "bin\\store.exe"),
        FileQuery("hostile", "exchange", "bin\\" + HOSTILE_NAME),
        FileQuery("unversioned", "exchange", "\\bin\\readme.dat"),
        FileQuery("tcpip", "system32", "drivers\\tcpip.sys"),
        FileQuery("explorer", "windows", "explorer.exe"),
        FileQuery("short", "absolute", "d:\\tools\\SHORT.DLL"),
        FileQuery("quoted", "absolute", "C:\\" + HOSTILE),
        FileQuery("newline", "exchange", "bin\\line1\nline2.dll"),
        FileQuery(HOSTILE, "windows", "nothing.exe"),
    ),
    events=(
        EventQuery("is", "Application", ("msexchangeis",), (9548,), max_samples=1),
        EventQuery("is-all", "Application", ("MSExchangeIS",), (), max_samples=10),
        EventQuery("mta", "application", ("MSExchangeMTA",), (9405,), when("2024-03-01T12:00:00")),
        EventQuery("mta-few", "Application", (), (9405,), max_samples=3),
        EventQuery("everything", "Application", (), (), max_samples=100),
        EventQuery(HOSTILE, "Application", (HOSTILE_SOURCE.upper(),), (), max_samples=3),
        EventQuery("audit", "Security", (), (528, 529), max_samples=10),
        EventQuery("none", "System", ("Nope",), (), max_samples=5),
        EventQuery("summary-only", "System", (), (), when("2024-01-25T06:00:00"), 0),
        EventQuery("future", "Application", (), (), when("2030-01-01T00:00:00")),
    ),
)

NT4 = HostSpec.model_validate(
    {
        "name": "ex55-alpha.lab.local",
        "os": {
            "caption": "Microsoft Windows NT Server",
            "version": "4.0.1381",
            "build": 1381,
            "service_pack": 6,
            "architecture": "alpha",
            "powershell": None,
            "winrm": False,
            "timezone": "Pacific Standard Time",
        },
        "exchange": {
            "product": "Microsoft Exchange Server 5.5",
            "version": "5.5",
            "build": "5.5.2653.23",
            "service_pack": 4,
            "install_root": "D:\\exchsrvr",
            # setup's key is gone: the folder is found from the services' image paths
            "in_registry": False,
        },
        "services": [{"name": "MSExchangeIS"}, {"name": "MSExchangeIMC", "state": "stopped"}],
        "files": [
            {
                "path": "D:\\exchsrvr\\connect\\msexcimc\\bin\\msexcimc.exe",
                "version": "5.5.2448.0",
                "size": 654321,
                "modified": "1998-11-10T15:16:17Z",
            }
        ],
        "event_logs": {
            "records": [
                {
                    "source": "MSExchangeIMC",
                    "event_id": 4116,
                    "time": "1999-06-01T07:00:00Z",
                    "message": "The Internet Mail Service stopped.",
                    "data": "74 00 05 00 0e 00 07 80",
                }
            ]
        },
    }
)
NT4_REQUEST = CollectRequest(
    services=("MSExchangeIMC", "MSExchangeIS"),
    files=(FileQuery("imc", "exchange", "connect\\msexcimc\\bin\\Msexcimc.exe"),),
    events=(EventQuery("imc", "Application", ("MSExchangeIMC",), (4116,), when("1999-01-01")),),
)

W2008R2 = HostSpec.model_validate(
    {
        "name": "web01.lab.local",
        "os": {
            "caption": "Microsoft Windows Server 2008 R2 Standard",
            "version": "6.1.7601",
            "build": 7601,
            "service_pack": 1,
            "architecture": "x64",
            "powershell": "5.1",
        },
        "components": {"Web-Server": True, "SMTP-Server": False},
        "files": [
            {"path": "C:\\Windows\\system32\\drivers\\http.sys", "version": "6.1.7601.23403"}
        ],
    }
)
W2008R2_REQUEST = CollectRequest(
    services=("W3SVC",),
    components=(
        ComponentQuery("IIS", oc="iis_www", feature_id=2),
        ComponentQuery("SMTP", oc="iis_smtp", feature_id=48),
    ),
    files=(
        FileQuery("store", "exchange", "bin\\store.exe"),
        FileQuery("http", "system32", "drivers\\http.sys"),
    ),
    events=(EventQuery("app", "Application", (), (1000,)),),
)


def localised(language: str, name: str) -> HostSpec:
    """A Windows Server 2008 R2 host installed in `language`, Web Server (IIS) and SMTP on."""
    spec = W2008R2.model_copy(deep=True)
    spec.name = name
    spec.os.language = language  # type: ignore[assignment]
    spec.components = {"Web-Server": True, "SMTP-Server": True, "Web-WebServer": False}
    return spec


W2008R2_DE = localised("de-DE", "web-de.lab.local")
W2008R2_JA = localised("ja-JP", "web-ja.lab.local")
LOCALISED_REQUEST = CollectRequest(
    components=(
        ComponentQuery("iis_common", oc="iis_common", feature_id=2),
        ComponentQuery("smtp", oc="iis_smtp", feature_id=48),
        ComponentQuery("iis_www", oc="iis_www", feature_id=140),
        ComponentQuery("nntp", oc="iis_nntp", feature_id=0),
    ),
)


# --- running it ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required in CI to run collect.js under the fake WSH")
        pytest.skip("node is not installed: collect.js is not run under the fake WSH")
    return found


def run_js(node: str, host: dict[str, Any], script: str, tmp_path: Path) -> tuple[bytes, list[str]]:
    """Run a script through the WSH bootstrap on the fake host: (stdout, WQL queries run)."""
    out, queries, _ = run_js_reads(node, host, script, tmp_path)
    return out, queries


def run_js_reads(
    node: str, host: dict[str, Any], script: str, tmp_path: Path
) -> tuple[bytes, list[str], list[dict[str, Any]]]:
    """Run a script on the fake host: (stdout, WQL queries, its event log reads and costs)."""
    description = tmp_path / "host.json"
    description.write_text(json.dumps(host), encoding="utf-8")
    done = subprocess.run(
        [node, str(HARNESS), str(description), WSH_BOOTSTRAP],
        input=script.encode("utf-8"),
        capture_output=True,
        timeout=60,
        env={**os.environ, "TZ": "Asia/Kolkata"},  # the script must not depend on node's zone
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    report = json.loads(done.stderr.decode().splitlines()[-1])
    return done.stdout, report["queries"], report["reads"]


def lab_answer(spec: HostSpec, script: str) -> bytes:
    declared = parse_declaration(script)
    assert declared is not None
    return answer_collect(LabHost(spec=spec.model_copy(deep=True)), declared).stdout


def comparable(records: list[Record]) -> list[tuple[str, dict[str, str]]]:
    return [
        (r.kind, dict(r.fields))
        for r in records
        if not (r.kind == "fact" and r.get("name") == "time_utc")
    ]


def without_time(evidence: Evidence) -> Evidence:
    return replace(evidence, os=replace(evidence.os, time_utc=None))


# host model, request, fake host options, the (scope, item) of the expected error records
CASES = {
    "exchange-2003": (EX2003, HOSTILE_REQUEST, {}, []),
    "exchange-55-nt4-root-from-service": (
        NT4,
        NT4_REQUEST,
        {"offset_minutes": -480},
        [],
    ),
    "w2008r2-wow64-features": (
        W2008R2,
        W2008R2_REQUEST,
        {"wow64": True, "offset_minutes": 0},
        [("file", "store")],
    ),
    "w2008r2-german-features": (W2008R2_DE, LOCALISED_REQUEST, {}, []),
    "w2008r2-japanese-features": (W2008R2_JA, LOCALISED_REQUEST, {}, []),
}


@pytest.mark.parametrize("spec", [W2008R2_DE, W2008R2_JA], ids=["de-DE", "ja-JP"])
def test_feature_state_does_not_depend_on_the_language(
    node: str, spec: HostSpec, tmp_path: Path
) -> None:
    """Win32_ServerFeature.Name is the localised display name ("Webserver (IIS)" on a German
    Windows); collect.js compares the language-neutral ID, so both features read installed."""
    host = fake_host(spec)
    names = {row["Name"] for row in host["wmi"]["Win32_ServerFeature"]}
    assert names.isdisjoint({"Web Server (IIS)", "SMTP Server"})  # not English: the point
    out, _ = run_js(node, host, build_collect_script(LOCALISED_REQUEST, "wsh"), tmp_path)
    states = {c.name: c.installed for c in parse_evidence(spec.name, out).components}
    assert states == {"iis_common": True, "smtp": True, "iis_www": False, "nntp": False}
    assert {c.mechanism for c in parse_evidence(spec.name, out).components} == {"server_feature"}


@pytest.mark.parametrize("case", CASES)
def test_same_records_and_evidence_as_the_lab(node: str, case: str, tmp_path: Path) -> None:
    spec, request, options, errors = CASES[case]
    script = build_collect_script(request, "wsh")
    out, queries = run_js(node, fake_host(spec, **options), script, tmp_path)
    expected = lab_answer(spec, script)

    assert comparable(parse_output(out, "collect")) == comparable(parse_output(expected, "collect"))
    evidence = parse_evidence(spec.name, out)
    assert without_time(evidence) == without_time(parse_evidence(spec.name, expected))
    assert evidence.engine == "wsh"
    assert evidence.os.time_utc is not None
    assert abs(evidence.os.time_utc - datetime.now(UTC)) < timedelta(minutes=5)
    assert [(e.scope, e.item) for e in evidence.errors] == errors
    assert all(not re.search(r"Ünïcødé|\$\(|`", q) for q in queries), queries


# A Windows Installer rollback file deleted at restart (PendMoves' own example: "Source:
# C:\\Config.Msi\\3ec7bbbf.rbf  Target: DELETE"), registered before a hotfix replaced store.exe.
STORE = "C:\\Program Files\\Exchsrvr\\bin\\store.exe"
DELETE_THEN_REPLACE = HostSpec.model_validate(
    {
        "name": "ex2003-pending.lab.local",
        "os": {"powershell": None},
        "exchange": {},
        "pending_deletes": ["C:\\Config.Msi\\3ec7bbbf.rbf"],
        "files": [{"path": STORE, "version": "6.5.7638.1", "pending_version": "6.5.7654.4"}],
    }
)


def test_a_delete_before_a_replace_does_not_hide_the_pending_file(
    node: str, tmp_path: Path
) -> None:
    """The fake RegRead drops the empty destination of the delete, as the stricter reader:
    pairing two by two then paired the delete with store.exe.new and lost store.exe."""
    host = fake_host(DELETE_THEN_REPLACE)
    value = host["registry"][HKLM + PENDING_RENAMES]["data"]
    assert "" in value  # the model holds the empty destination; the reader drops it
    script = build_collect_script(CollectRequest(), "wsh")
    out, _ = run_js(node, host, script, tmp_path)
    evidence = parse_evidence(DELETE_THEN_REPLACE.name, out)
    assert evidence.pending_reboot
    assert evidence.pending_renames == (STORE,)
    expected = lab_answer(DELETE_THEN_REPLACE, script)
    assert comparable(parse_output(out, "collect")) == comparable(parse_output(expected, "collect"))


def test_the_lab_answers_pending_deletes_on_the_powershell_path() -> None:
    """collect.ps1 cannot run here (no PowerShell): the lab's answer for it, which mirrors
    Get-RenameTargets, reports the reboot a delete needs and names only the replaced file."""
    spec = DELETE_THEN_REPLACE.model_copy(deep=True)
    spec.os.powershell = "2.0"
    script = build_collect_script(CollectRequest(), "powershell")
    evidence = parse_evidence(spec.name, lab_answer(spec, script))
    assert (evidence.pending_reboot, evidence.pending_renames) == (True, (STORE,))
    spec.files = []
    evidence = parse_evidence(spec.name, lab_answer(spec, script))
    assert (evidence.pending_reboot, evidence.pending_renames) == (True, ())


@pytest.mark.parametrize(
    ("entries", "targets"),
    [
        # as stored: a delete, a replace, a rename without MOVEFILE_REPLACE_EXISTING
        (
            [
                "\\??\\C:\\d.tmp",
                "",
                "\\??\\C:\\a.new",
                "!\\??\\C:\\a",
                "\\??\\C:\\b.new",
                "\\??\\C:\\b",
            ],
            ["C:\\a", "C:\\b"],
        ),
        # the same as a reader that drops the empty entries returns it
        (
            [
                "\\??\\C:\\d.tmp",
                "\\??\\C:\\a.new",
                "!\\??\\C:\\a",
                "\\??\\C:\\b.new",
                "\\??\\C:\\b",
            ],
            ["C:\\a", "C:\\b"],
        ),
        # two deletes, empties dropped: the second could be a destination; counted, not lost
        (["\\??\\C:\\d1", "\\??\\C:\\d2"], ["C:\\d2"]),
        # a delete last, its empty entry dropped
        (["\\??\\C:\\a.new", "!\\??\\C:\\a", "\\??\\C:\\d.tmp"], ["C:\\a"]),
        (["\\??\\C:\\d.tmp"], []),
    ],
    ids=["kept", "dropped", "two-deletes", "delete-last", "lone-delete"],
)
def test_rename_pairing_with_and_without_empty_entries(
    node: str, entries: list[str], targets: list[str], tmp_path: Path
) -> None:
    host = fake_host(
        HostSpec.model_validate({"name": "pairs.lab.local", "os": {"powershell": None}})
    )
    host["registry"][HKLM + PENDING_RENAMES] = {"type": "REG_MULTI_SZ", "data": entries}
    host["multi_sz_keeps_empty"] = True  # a reader that keeps them; the default drops them
    out, _ = run_js(node, host, build_collect_script(CollectRequest(), "wsh"), tmp_path)
    evidence = parse_evidence("pairs.lab.local", out)
    assert evidence.pending_reboot
    assert list(evidence.pending_renames) == targets


def test_the_fake_host_drives_the_output(node: str, tmp_path: Path) -> None:
    """The comparison can fail: a host that differs from the model gives other records."""
    script = build_collect_script(HOSTILE_REQUEST, "wsh")
    changed = EX2003.model_copy(deep=True)
    changed.services[0].state = "stopped"
    changed.event_logs.records[0].message = "another message"
    out, _ = run_js(node, fake_host(changed), script, tmp_path)
    ours = comparable(parse_output(out, "collect"))
    assert ours != comparable(parse_output(lab_answer(EX2003, script), "collect"))
    assert ours == comparable(parse_output(lab_answer(changed, script), "collect"))


def _arguments_line(encoded: str) -> str:
    return f'var REMEDIATE_ARGS = "{encoded}";'


@pytest.mark.parametrize(
    "line",
    [
        _arguments_line("!!!!not-base64"),
        _arguments_line("abc"),
        _arguments_line(base64.b64encode(b'{"v":1,"services":["a"').decode()),
        _arguments_line(base64.b64encode(b'{"v":1} trailing').decode()),
        _arguments_line(base64.b64encode(b"[1, 2]").decode()),
        _arguments_line(base64.b64encode(b'{"v":"\xff\xfe"}').decode()),
        _arguments_line(base64.b64encode(b'{"v":"\\q"}').decode()),
        "var NOT_THE_ARGUMENTS = 1;",
    ],
)
def test_damaged_arguments_still_end_the_output(node: str, line: str, tmp_path: Path) -> None:
    script = build_collect_script(HOSTILE_REQUEST, "wsh").splitlines()
    assert script[1].startswith("var REMEDIATE_ARGS = ")
    script[1] = line
    out, queries = run_js(node, fake_host(EX2003), "\r\n".join(script), tmp_path)
    assert out.endswith(b"\r\nREMEDIATE-END 1\r\n")
    evidence = parse_evidence(EX2003.name, out)
    assert len(evidence.errors) == 1
    error = evidence.errors[0]
    assert (error.scope, error.item) == ("script", "collect")
    assert error.message
    assert queries == []


def test_a_log_name_that_is_not_a_name_never_reaches_wql(node: str, tmp_path: Path) -> None:
    bad = "Application' OR Logfile = 'Security"
    request = CollectRequest(
        events=(EventQuery("bad", bad, (), ()), EventQuery("good", "System", (), (7031,)))
    )
    out, queries = run_js(node, fake_host(EX2003), build_collect_script(request, "wsh"), tmp_path)
    evidence = parse_evidence(EX2003.name, out)
    assert [(e.scope, e.item) for e in evidence.errors] == [("events", "bad")]
    assert "log name" in evidence.errors[0].message
    good = evidence.event_matches("good")
    assert good is not None and good.total == 1
    assert evidence.event_matches("bad") is None
    assert not any("Security" in q for q in queries)
    assert [q for q in queries if "Win32_NTLogEvent" in q] == [
        f"SELECT {FIELDS} FROM Win32_NTLogEvent WHERE Logfile = 'System' AND (EventCode = 7031)"  # noqa: S608
    ]


def test_what_cannot_be_read_becomes_error_records(node: str, tmp_path: Path) -> None:
    broken = ("Win32_Service", "StdRegProv", "Win32_NTLogEvent", "Win32_OperatingSystem")
    host = fake_host(EX2003, broken=broken)
    out, _ = run_js(node, host, build_collect_script(HOSTILE_REQUEST, "wsh"), tmp_path)
    evidence = parse_evidence(EX2003.name, out)
    where = [(e.scope, e.item) for e in evidence.errors]
    assert where[:3] == [("facts", "os"), ("facts", "pending_reboot"), ("services", "*")]
    # no registry provider: Exchange 2007+ cannot be looked for; 2003's RegRead still finds it
    assert where[3] == ("facts", "exchange_registry")
    assert where[4:] == [("events", q.id) for q in HOSTILE_REQUEST.events]
    assert all("broken" in e.message for e in evidence.errors)
    assert all(not s.found for s in evidence.services)
    assert evidence.pending_reboot  # the renames were read before the failure
    assert evidence.os.caption == "" and evidence.os.hostname == "EX2003"
    assert evidence.exchange is not None and evidence.exchange.build == "6.5.7638.1"
    assert [c.installed for c in evidence.components] == [True, False, False]  # OS 5 assumed


def test_text_that_is_not_unicode_is_replaced_not_sent_broken(node: str, tmp_path: Path) -> None:
    host = fake_host(EX2003)
    row = host["wmi"]["Win32_NTLogEvent"][0]
    row["Message"] = "half a pair \ud83e then \udd84 and a whole 🦄"
    request = CollectRequest(events=(EventQuery("is", "Application", ("MSExchangeIS",), (9548,)),))
    out, _ = run_js(node, host, build_collect_script(request, "wsh"), tmp_path)
    matches = parse_evidence(EX2003.name, out).event_matches("is")
    assert matches is not None
    assert matches.samples[-1].message == "half a pair \ufffd then \ufffd and a whole 🦄"


def test_version_text_is_the_fixed_file_version(node: str, tmp_path: Path) -> None:
    """FSO gives the binary version only: version agrees with the lab, version_text cannot."""
    versions = ("5.2.3790.3959 (srv03_sp2_rtm.070216-1710)", "06.00.3790.0003", "5.5")
    spec = HostSpec.model_validate(
        {
            "name": "v.lab.local",
            "files": [{"path": f"C:\\v{n}.dll", "version": v} for n, v in enumerate(versions)],
        }
    )
    request = CollectRequest(
        files=tuple(FileQuery(str(n), "absolute", f"C:\\v{n}.dll") for n in range(len(versions)))
    )
    script = build_collect_script(request, "wsh")
    ours = parse_evidence(spec.name, run_js(node, fake_host(spec), script, tmp_path)[0]).files
    lab = parse_evidence(spec.name, lab_answer(spec, script)).files
    numeric = ["5.2.3790.3959", "6.0.3790.3", "5.5.0.0"]
    assert [f.version for f in ours] == [f.version for f in lab] == numeric
    assert [f.version_text for f in ours] == [f.version for f in lab]
    assert [f.version_text for f in lab] == list(versions)


# --- event collection cost: applicable filters only, one field-limited pass per log -----------

PLAYBOOK_DIR = Path(__file__).resolve().parents[2] / "playbooks"


def _audit_request(since: datetime) -> CollectRequest:
    from remediate.audit.request import collect_request
    from remediate.rules.playbook import load_playbooks

    return collect_request(load_playbooks([PLAYBOOK_DIR]), since)


def _lab_reads(spec: HostSpec, script: str) -> list[Any]:
    declared = parse_declaration(script)
    assert declared is not None
    host = LabHost(spec=spec.model_copy(deep=True))
    answer_collect(host, declared)
    return host.event_queries


def test_an_audit_reads_each_log_once_time_bounded_and_field_limited(
    node: str, tmp_path: Path
) -> None:
    since = when("2024-01-01T00:00:00")
    request = _audit_request(since)
    script = build_collect_script(request, "wsh")
    out, _, reads = run_js_reads(node, fake_host(EX2003), script, tmp_path)
    assert reads, "an Exchange 2003 host is asked for the events of its playbooks"
    logs = [r["log"].lower() for r in reads]
    assert len(logs) == len(set(logs)), f"one pass per log: {logs}"
    assert all(r["fields"] == FIELDS.split(", ") for r in reads)
    assert all(r["since"] == "20240101000000.000000+000" for r in reads)
    lab = _lab_reads(EX2003, script)
    assert [(r.log, r.since) for r in lab] == [(log, since) for log in logs]
    served = {f for r in lab for f in r.filters}
    assert served == {e.id for e in request.events if "6.5" in e.exchange}
    assert [(r.scanned, r.returned) for r in lab] == [(r["scanned"], r["returned"]) for r in reads]
    assert comparable(parse_output(out, "collect")) == comparable(
        parse_output(lab_answer(EX2003, script), "collect")
    )


def test_a_host_outside_every_playbook_is_not_asked_for_events(node: str, tmp_path: Path) -> None:
    """Exchange 5.5: the KB840469 filters (Exchange 2000 SP2+, 2003) are not read there."""
    request = _audit_request(when("1999-01-01T00:00:00"))
    kb840469 = CollectRequest(events=tuple(e for e in request.events if "KB840469" in e.id))
    assert kb840469.events
    script = build_collect_script(kb840469, "wsh")
    out, queries, reads = run_js_reads(node, fake_host(NT4), script, tmp_path)
    assert reads == [] and not any("Win32_NTLogEvent" in q for q in queries)
    assert _lab_reads(NT4, script) == []
    assert parse_evidence(NT4.name, out).events == ()
    no_exchange = W2008R2
    assert _lab_reads(no_exchange, build_collect_script(kb840469, "wsh")) == []


def test_select_star_on_the_event_log_is_refused_by_the_fake(node: str, tmp_path: Path) -> None:
    """The fake is stricter than Windows: the old query shape fails its filters."""
    old = "SELECT * FROM Win32_NTLogEvent WHERE Logfile = 'Application'"
    script = build_collect_script(CollectRequest(), "wsh").replace(
        'writeLine("REMEDIATE-END "',
        f'try {{ wmi().ExecQuery("{old}", "WQL", 48); writeLine("ACCEPTED"); }}'
        ' catch (e) { writeLine("REFUSED " + e.description); }\r\n'
        '        writeLine("REMEDIATE-END "',
    )
    out, _, _ = run_js_reads(node, fake_host(EX2003), script, tmp_path)
    assert b"REFUSED" in out and b"SELECT *" in out


def test_event_ids_are_the_low_16_bits_of_the_identifier(node: str, tmp_path: Path) -> None:
    """An event whose identifier carries qualifiers (0xC004254C) is event 9548."""
    request = CollectRequest(events=(EventQuery("is", "Application", ("MSExchangeIS",), (9548,)),))
    out, queries, _ = run_js_reads(
        node, fake_host(EX2003), build_collect_script(request, "wsh"), tmp_path
    )
    matches = parse_evidence(EX2003.name, out).event_matches("is")
    assert matches is not None and matches.total == 2
    assert {s.event_id for s in matches.samples} == {9548}
    assert any("EventCode = 9548" in q for q in queries)
    assert EX2003.event_logs.records[0].identifier == 0xC004254C


def test_the_powershell_path_reads_events_as_the_lab_models() -> None:
    """collect.ps1 cannot run here: its event facts are checked by reading it."""
    source = build_collect_script(CollectRequest(), "powershell")  # as sent: no comments
    assert "Get-EventLog" not in source  # walks the whole log whatever -After says
    assert ".EventID" not in source  # masks only the top two bits of the identifier
    assert "$e.InstanceId -band 0xFFFF" in source
    assert "ProviderName'] =" not in source  # an unregistered provider fails the whole query
    assert "$e.FormatDescription() } catch" in source  # one record's text, not the query
    assert "Test-FilterApplies $query" in source and "-le 22" in source
