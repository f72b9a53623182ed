"""Every shipped PowerShell script parses and stays within PowerShell 2.0."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from remediate.probes.collect import CollectRequest, EventQuery, FileQuery, build_collect_script
from remediate.probes.shipped import shipped_script

PACKAGE = Path(__file__).resolve().parents[2] / "remediate"
SHIPPED = sorted(PACKAGE.rglob("*.ps1"))

# Constructs that PowerShell 2.0 (Windows Server 2003 with WMF 2.0) does not have.
PS3_AND_LATER = {
    r"\[ordered\]": "[ordered] (3.0)",
    r"::new\(": "::new() (5.0)",
    r"\bConvert(To|From)-Json\b": "ConvertTo/From-Json (3.0)",
    r"\bGet-CimInstance\b": "Get-CimInstance (3.0)",
    r"\bInvoke-(RestMethod|WebRequest)\b": "Invoke-RestMethod/WebRequest (3.0)",
    r"\$PSItem\b": "$PSItem (3.0)",
    r"\s-(not)?in\s": "-in/-notin (3.0)",
    r"\.(ForEach|Where)\(": ".ForEach()/.Where() (4.0)",
    r"\[pscustomobject\]": "[pscustomobject] (3.0)",
    r"^\s*(class|enum)\s+\w+": "class/enum (5.0)",
    r"\busing\s+(namespace|module)\b": "using namespace/module (5.0)",
    r"\s-sh[lr]\s": "-shl/-shr (3.0)",
    r"\$using:": "$using: (3.0)",
    r"\b(Where-Object|ForEach-Object)\s+\w+\s+-(eq|ne|like|match)\b": "Where-Object A -eq B (3.0)",
    r"\$PSScriptRoot\b": "$PSScriptRoot in scripts (3.0)",
    r"#Requires\s+-Version\s+[3-9]": "#Requires -Version 3+",
    r"\?\.|\?\?": "?. / ?? (7.0)",
    r"\)\s*(&&|\|\|)": "pipeline chain operators (7.0)",
    r"-PipelineVariable\b": "-PipelineVariable (4.0)",
}


STRINGS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"`]|`.)*\"")


def ps3_constructs(source: str) -> list[str]:
    """The PowerShell 3+ constructs found in code (comments and string contents skipped)."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        if line.lstrip().startswith("#") and not line.lstrip().startswith("#Requires"):
            continue
        line = STRINGS.sub("''", line)
        for pattern, name in PS3_AND_LATER.items():
            if re.search(pattern, line, flags=re.IGNORECASE):
                found.append(f"line {number}: {name}")
    return found


def syntax_errors(source: bytes) -> list[str]:
    parser = Parser(Language(tree_sitter_powershell.language()))
    tree = parser.parse(source)
    problems: list[str] = []

    def walk(node: Node) -> None:
        if node.type == "ERROR" or node.is_missing:
            row, column = node.start_point
            problems.append(f"{row + 1}:{column + 1}: {node.type} {node.text[:40]!r}")
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return problems


def test_scripts_are_shipped() -> None:
    assert PACKAGE / "probes" / "collect.ps1" in SHIPPED


@pytest.mark.parametrize("script", SHIPPED, ids=lambda p: p.name)
def test_shipped_script_parses_without_errors(script: Path) -> None:
    assert syntax_errors(script.read_bytes()) == []
    assert syntax_errors(shipped_script(script.name).encode()) == []  # includes spliced in


@pytest.mark.parametrize("script", SHIPPED, ids=lambda p: p.name)
def test_shipped_script_is_powershell_2(script: Path) -> None:
    assert ps3_constructs(script.read_text(encoding="utf-8")) == []


def test_the_script_as_sent_parses_too() -> None:
    request = CollectRequest(
        services=("MSExchangeMTA",),
        files=(FileQuery("f", "exchange", "bin\\it's $(here).exe"),),
        events=(EventQuery("e", "Application", ("MSExchangeMTA",), (9405,)),),
    )
    sent = build_collect_script(request, "powershell")
    assert syntax_errors(sent.encode()) == []
    assert "\n\n" not in sent.rstrip("\r\n").replace("\r\n", "\n")  # no blank line inside


@pytest.mark.parametrize(
    "snippet",
    [
        "$o = [ordered]@{}",
        "$l = [System.Collections.ArrayList]::new()",
        "$x | ConvertTo-Json",
        "Get-CimInstance Win32_OperatingSystem",
        "if ($a -in $b) { }",
        "$a.ForEach({ $_ })",
        "$p = [pscustomobject]@{ a = 1 }",
        "class Probe { }",
        "Get-Service | Where-Object Status -eq 'Running'",
        "$x = $y ?? 1",
    ],
)
def test_lint_catches_newer_constructs(snippet: str) -> None:
    assert ps3_constructs(snippet)


def test_parser_catches_broken_syntax() -> None:
    assert syntax_errors(b"function f { if ($x) { 'a' }")
