"""The one script assembler: declaration, arguments line, shipped code, in both dialects."""

from __future__ import annotations

import pytest

from remediate.probes import assemble
from remediate.probes.assemble import build_script, script_source
from remediate.probes.protocol import parse_declaration
from remediate.probes.shipped import shipped_script

HOSTILE = 'it\'s "$(Remove-Item C:\\)" `whoami` ; exit 3\r\nÜnïcødé'
DOCUMENT = {"v": 1, "name": HOSTILE, "items": [1, "two", None], "nested": {"k": HOSTILE}}


@pytest.mark.parametrize("name", ["collect", "step"])
@pytest.mark.parametrize("dialect", ["powershell", "wsh"])
def test_the_arguments_line_decodes_back_to_the_document(name: str, dialect: str) -> None:
    sent = build_script(name, 7, dialect, DOCUMENT)  # type: ignore[arg-type]
    declared = parse_declaration(sent)
    assert declared is not None
    assert (declared.name, declared.version, declared.arguments) == (name, 7, DOCUMENT)
    assert declared.dialect == ("powershell" if dialect == "powershell" else "jscript")
    assert "$(Remove-Item C:" not in sent and "Ünïcødé" not in sent  # the data is encoded only


@pytest.mark.parametrize("name", ["collect", "step"])
def test_powershell_travels_as_one_block_without_comments(name: str) -> None:
    sent = build_script(name, 1, "powershell", DOCUMENT)
    lines = sent.split("\r\n")
    assert lines[0] == f"# remediate-script: {name} v1"
    assert lines[1].startswith("$RemediateArgs = '")
    assert lines[2] == "& {"
    assert sent.endswith("\r\n}\r\n\r\n")  # the blank line makes PowerShell run the block
    code = lines[2:-2]
    assert all(line.strip() for line in code), "no blank line inside the block"
    assert [line for line in code if line.lstrip().startswith("#")] == []
    shipped = shipped_script(f"{name}.ps1")
    comments = [ln for ln in shipped.splitlines() if ln.lstrip().startswith("# ")]
    assert comments, "the shipped script has comments to drop"
    assert not any(comment in lines for comment in comments)


def test_a_comment_line_never_reaches_powershell(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "\n".join(
        [
            "# a comment at the top",
            "function f {",
            "    # an indented comment",
            "",
            "   \t",
            "    'code' # a trailing comment stays with its code",
            "}",
            "#",
        ]
    )
    monkeypatch.setattr(assemble, "shipped_script", lambda file_name: source)
    sent = build_script("probe", 2, "powershell", {"v": 2})
    assert sent.split("\r\n")[2:] == [
        "& {",
        "function f {",
        "    'code' # a trailing comment stays with its code",
        "}",
        "}",
        "",
        "",
    ]


def test_jscript_is_sent_whole_after_its_two_lines() -> None:
    sent = build_script("collect", 1, "wsh", DOCUMENT)
    lines = sent.split("\r\n", 2)
    assert lines[0] == "// remediate-script: collect v1"
    assert lines[1].startswith('var REMEDIATE_ARGS = "') and lines[1].endswith('";')
    assert lines[2] == script_source("collect", "wsh") + "\r\n"  # comments and all


def test_each_dialect_reads_its_own_shipped_file() -> None:
    assert script_source("step", "powershell") == shipped_script("step.ps1")
    assert script_source("step", "wsh") == shipped_script("step.js")


def test_a_collect_script_is_made_once_per_request_and_dialect_and_never_served_stale() -> None:
    """The audit sends every host the same request: its script is cached, keyed by the
    request object itself (an equal-looking new request is built afresh, never mixed up)."""
    from remediate.probes.collect import CollectRequest, build_collect_script

    first = CollectRequest(services=("SMTPSVC",))
    script = build_collect_script(first, "powershell")
    assert build_collect_script(first, "powershell") is script
    assert build_collect_script(first, "wsh") != script
    other = CollectRequest(services=("MSExchangeIS",))
    assert build_collect_script(other, "powershell") != script
    for _ in range(20):  # past the cache's size: still right
        build_collect_script(CollectRequest(services=("W3SVC",)), "powershell")
    assert build_collect_script(first, "powershell") == script
