"""Every reader runs in time linear in its input (issue 15): pathological inputs of 10 MB.

Each class of input repeats what some pattern of a reader repeats (brackets, colons, quotes,
backslashes, digits, dots, spaces), as one line or as many; a reader must give a result or its
own clear error, never a traceback, within a generous budget. A scaling check compares 1 MB
with 4 MB: a linear reader takes about four times as long, a quadratic one sixteen.

A case runs in a child process so that a reader that hangs (as the inventory reader did on one
line of 10 MB: a backtracking pattern and shlex, minutes) fails its test instead of the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
BUDGET = 10.0  # seconds for one reading of 10 MB, on a 2-core machine under load


def _rep(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Each class: unit repeated to the size, with a prefix and a suffix (which make it almost match).
INVENTORY_CLASSES = {
    "one line of letters": ("", "a", ""),
    "host range never closed": ("exch[", "0", ""),
    "range bounds never closed": ("exch[0:", "1", ""),
    "repeated ranges then a bad end": ("", "a[0:1]", "_:"),
    "brackets": ("", "[", ""),
    "closing brackets": ("", "]", ""),
    "colons": ("", ":", ""),
    "host:port lookalike": ("", "a:", ""),
    "dotted digits": ("", "0.", ""),
    "IPv6 lookalike": ("", "1:", ""),
    "section never closed": ("[", "a", ":"),
    "section then junk": ("[", "a", "]x"),
    "equals": ("h ", "k=v ", ""),
    "quote never closed": ("h k='", "a", ""),
    "backslashes": ("h k=", "\\", ""),
    "double quotes of escapes": ('h k="', '\\"', ""),
    "spaces and tabs": ("h", " \t", "x"),
    "braces": ("h k=", "{{", ""),
    "vars value of brackets": ("[g]\nh\n[g:vars]\nk=", "[1,", ""),
    "many short host lines": ("", "h\n", ""),
    "many long host names": ("", "a" * 1000 + "_\n", ""),
}


def _run(code: str, timeout: float) -> dict[str, object]:
    """Run `code` in a child Python; it prints one JSON line {seconds, outcome}."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the reader did not finish in {timeout:.0f} s (super-linear?)")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


_PROLOGUE = textwrap.dedent(
    """
    import json, sys, time, traceback
    sys.setrecursionlimit(10000)
    from remediate.errors import RemediateError
    def _rep(unit, size):
        return (unit * (size // len(unit) + 1))[:size]
    def timed(call, *clear):
        started = time.perf_counter()
        try:
            call()
            outcome = "result"
        except (RemediateError, *clear) as exc:
            outcome = "error: " + str(exc)[:200]
        print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome}))
    """
)


def _inventory_code(prefix: str, unit: str, suffix: str, size: int, as_file: bool) -> str:
    setup = f"text = {prefix!r} + _rep({unit!r}, {size}) + {suffix!r}\n"
    if as_file:
        setup += textwrap.dedent(
            """
            import tempfile, pathlib
            path = pathlib.Path(tempfile.mkdtemp()) / "hosts.ini"
            path.write_text(text, encoding="utf-8")
            from remediate.inventory.ini import load_inventory
            timed(lambda: load_inventory(path))
            """
        )
    else:
        setup += textwrap.dedent(
            """
            from remediate.inventory.ini import parse_inventory
            timed(lambda: parse_inventory(text))
            """
        )
    return _PROLOGUE + setup


@pytest.mark.parametrize("name", list(INVENTORY_CLASSES))
def test_inventory_reads_10_mb_of_pathological_text_in_time(name: str) -> None:
    prefix, unit, suffix = INVENTORY_CLASSES[name]
    result = _run(_inventory_code(prefix, unit, suffix, 10 * MB, as_file=False), BUDGET * 3)
    assert result["seconds"] < BUDGET, result
    assert str(result["outcome"]).startswith("error: "), result  # 10 MB is no inventory


def test_an_inventory_file_of_10_mb_is_refused_before_it_is_read() -> None:
    result = _run(_inventory_code("", "a", "", 10 * MB, as_file=True), BUDGET * 3)
    assert result["seconds"] < 1.0, result
    assert "inventories are read up to" in str(result["outcome"]), result


@pytest.mark.parametrize(
    "name",
    [
        "one line of letters",
        "host range never closed",
        "repeated ranges then a bad end",
        "host:port lookalike",
        "backslashes",
        "many short host lines",
        "many long host names",
    ],
)
def test_inventory_reading_time_is_linear(name: str) -> None:
    """Just under the caps: a quarter of the largest inventory, then the whole."""
    from remediate.inventory.ini import MAX_INVENTORY_CHARS

    prefix, unit, suffix = INVENTORY_CLASSES[name]
    size = MAX_INVENTORY_CHARS - len(prefix) - len(suffix)
    small = _run(_inventory_code(prefix, unit, suffix, size // 4, False), BUDGET * 3)
    large = _run(_inventory_code(prefix, unit, suffix, size, False), BUDGET * 3)
    assert large["seconds"] < BUDGET, large
    # Linear: about 4x. Small times are noisy, so only a clearly super-linear ratio fails.
    assert large["seconds"] < 8 * max(float(small["seconds"]), 0.05), (small, large)


# --- KB articles ------------------------------------------------------------------------------

KB_CLASSES = {
    "one line of spaces (unflattened)": ("x" * 2000, " \t", ""),
    "heading then blanks": ("SYMPTOMS", " ", ""),
    "Exchange then blanks": ("Exchange 5.5", " ", ""),
    "Event ID then blanks": ("SYMPTOMS\n\nEvent ID", " ", ""),
    "TITLE then blanks": ("TITLE: ", " ", ""),
    "Source then blanks": ("SYMPTOMS\n\nEvent ID: 1\nSource:", " ", "x"),
    "references then blanks": ("", "Q123456 ", "XAB:"),
    "error code code ...": ("SYMPTOMS\n\nEvent ID: 1\nDescription: error", " code", ""),
    "prose events": ("SYMPTOMS\n\n", "event 1234 ", ""),
    "described events": ("SYMPTOMS\n\n", "description for Event ID (1) in Source (", ""),
    "many distinct events": ("SYMPTOMS\n\n", "Event ID: 7\nSource: a\n\nEvent ID: 9\n\n", ""),
    "blank lines": ("SYMPTOMS\n\nEvent ID: 1\nDescription: x", "\n", ""),
    "Component then blanks": ("Component:", " ", "x"),
    "file table header lines": ("", "File name Version\n", ""),
    "run-together cells": ("File name  Version\n", "abc5.5.1", ""),
    "hex bytes": ("CAUSE\n\n", "00 ", "zz"),
    "unclosed tags": ("<html><body><p>x</p>", "<a ", ""),
    "unclosed comments": ("<html><body><p>x</p>", "<!--", ""),
}


def _kb_file_code(prefix: str, unit: str, suffix: str, size: int) -> str:
    """A child that writes the article to a file and imports it as `kb import` reads one."""
    setup = f"text = {prefix!r} + _rep({unit!r}, {size}) + {suffix!r}\n"
    setup += textwrap.dedent(
        """
        import tempfile, pathlib
        from remediate.kb.extract import extract
        from remediate.kb.read import read_article
        path = pathlib.Path(tempfile.mkdtemp()) / "KB123456.txt"
        path.write_text(text, encoding="utf-8")
        timed(lambda: extract(read_article(path), str(path)))
        """
    )
    return _PROLOGUE + setup


@pytest.mark.parametrize(
    "name", ["one line of spaces (unflattened)", "error code code ...", "unclosed comments"]
)
def test_kb_import_of_10_mb_is_refused_at_once(name: str) -> None:
    prefix, unit, suffix = KB_CLASSES[name]
    result = _run(_kb_file_code(prefix, unit, suffix, 10 * MB), BUDGET * 3)
    assert result["seconds"] < 2.0, result
    assert "is not a KB article" in str(result["outcome"]), result


@pytest.mark.parametrize("name", list(KB_CLASSES))
def test_kb_extraction_is_linear_up_to_the_largest_article(name: str) -> None:
    """Each class at the largest text read (1 MB) in the budget, and 4x the time of 256 KB."""
    from remediate.kb.read import MAX_ARTICLE_CHARS

    assert_kb_extraction_linear(*KB_CLASSES[name], chars=MAX_ARTICLE_CHARS)


KB_PATTERN_CHARS = 256 * 1024


def assert_kb_extraction_linear(
    prefix: str, unit: str, suffix: str, chars: int = KB_PATTERN_CHARS
) -> None:
    """`unit` repeated to `chars` is extracted within its share of the budget, in at most 8x
    the CPU time of a quarter of it (linear: 4x; quadratic: 16x).

    The classes of one reader's pattern (tests/kb) run at a quarter of the largest article
    read, which shows a quadratic pattern as plainly as the whole would, in a quarter of the
    time; KB_CLASSES, the whole article's, run at the cap. Both sizes run in one child, timed
    in CPU seconds, so a loaded machine does not decide the ratio."""
    size = chars - len(prefix) - len(suffix) - 100
    result = _run(_kb_scaling_code(prefix, unit, suffix, size), BUDGET * 3)
    large, small = float(result["large"]), float(result["small"])
    assert large < BUDGET * chars / MB, result
    assert result["outcome"] == "result", result  # read, not refused
    assert large < 8 * max(small, 0.02), result


def _kb_scaling_code(prefix: str, unit: str, suffix: str, size: int) -> str:
    return textwrap.dedent(
        f"""
        import json, time
        from remediate.kb.extract import extract
        from remediate.kb.read import decode_article

        def cpu_seconds(size):
            text = {prefix!r} + ({unit!r} * (size // {len(unit)} + 1))[:size] + {suffix!r}
            began = time.process_time()
            extract(decode_article(text.encode(), "a.txt"), "a.txt")
            return time.process_time() - began

        small = cpu_seconds({size // 4})
        try:
            large, outcome = cpu_seconds({size}), "result"
        except Exception as exc:
            large, outcome = 0.0, "error: " + str(exc)[:200]
        print(json.dumps({{"small": small, "large": large, "outcome": outcome}}))
        """
    )


# --- YAML readers: playbooks, waivers, the lab's fleets ---------------------------------------

YAML_READERS = {
    "playbook": "from remediate.rules.playbook import parse_playbook as parse",
    "waivers": "from remediate.rules.waivers import parse_waivers as parse",
    "fleet": "from remediate.lab.fleet import parse_fleet as parse",
}
YAML_CLASSES = {
    "many tiny mappings": ("", "a: 1\n", ""),
    "many tiny items": ("hosts:\n", "- a\n", ""),
    "nested flow": ("", "[", ""),
    "escapes in a string": ('a: "', "\\\\", '"'),
}


def _yaml_code(reader: str, prefix: str, unit: str, suffix: str, size: int) -> str:
    setup = f"text = {prefix!r} + _rep({unit!r}, {size}) + {suffix!r}\n"
    setup += YAML_READERS[reader] + "\n"
    setup += "from remediate.lab.fleet import FleetError\n"
    setup += "timed(lambda: parse(text, 'x.yml'), FleetError)\n"
    return _PROLOGUE + setup


@pytest.mark.parametrize("reader", list(YAML_READERS))
def test_yaml_readers_refuse_10_mb_at_once(reader: str) -> None:
    result = _run(_yaml_code(reader, "", "a: 1\n", "", 10 * MB), BUDGET * 3)
    assert result["seconds"] < 1.0, result
    assert "YAML files are read up to" in str(result["outcome"]), result


@pytest.mark.parametrize("name", list(YAML_CLASSES))
def test_yaml_reading_up_to_the_cap_is_in_budget(name: str) -> None:
    from remediate.yamlfile import MAX_YAML_CHARS

    prefix, unit, suffix = YAML_CLASSES[name]
    size = MAX_YAML_CHARS - len(prefix) - len(suffix)
    result = _run(_yaml_code("waivers", prefix, unit, suffix, size), BUDGET * 3)
    assert result["seconds"] < BUDGET, result
    assert str(result["outcome"]).startswith("error: "), result  # none is a waivers file


# --- --limit patterns and @files; file versions -----------------------------------------------

LIMIT_CLASSES = {
    "brackets never closed": "[",
    "brackets and letters": "[a",
    "brackets and colons": "[:",
    "at signs": "@",
}


def _limit_code(unit: str, size: int, as_file: bool) -> str:
    setup = f"text = _rep({unit!r}, {size})\n"
    setup += textwrap.dedent(
        f"""
        import tempfile, pathlib
        from remediate.inventory.ini import parse_inventory
        from remediate.inventory.patterns import select_hosts
        inventory = parse_inventory("[g]\\nh1\\nh2\\n")
        if {as_file!r}:
            path = pathlib.Path(tempfile.mkdtemp()) / "limit.txt"
            path.write_text(text, encoding="utf-8")
            timed(lambda: select_hosts(inventory, "@" + str(path)))
        else:
            timed(lambda: select_hosts(inventory, text))
        """
    )
    return _PROLOGUE + setup


@pytest.mark.parametrize("name", list(LIMIT_CLASSES))
@pytest.mark.parametrize("size", [10 * MB, 60 * 1024])
def test_limit_patterns_of_any_length_finish(name: str, size: int) -> None:
    """10 MB is refused at once; just under the cap (64 KB) is read, quadratic before."""
    result = _run(_limit_code(LIMIT_CLASSES[name], size, False), BUDGET * 3)
    assert result["seconds"] < (1.0 if size > MB else BUDGET), result
    assert "outcome" in result


@pytest.mark.parametrize("unit", ["[", "[g]\n", "@", "h\n"])
def test_limit_files_of_10_mb_and_1_mb_finish(unit: str) -> None:
    for size in (10 * MB, MB - 10):
        result = _run(_limit_code(unit, size, True), BUDGET * 3)
        assert result["seconds"] < BUDGET, result


def test_a_version_of_thousands_of_digits_is_a_version_error() -> None:
    from remediate.rules.versions import FileVersion, VersionError

    with pytest.raises(VersionError, match="above 65535"):
        FileVersion.parse("1" * 10_000)
    assert str(FileVersion.parse("0" * 10_000 + "5.00.2195")) == "5.0.2195.0"


# --- Ansible trees: YAML inventories and group_vars files (issue 14) --------------------------

ANSIBLE_FILES = {
    "YAML inventory": ("hosts.yml", "all:\n  hosts:\n", "    h: {}\n"),
    "vars file": ("group_vars/all.yml", "", "a: 1\n"),
    "JSON vars file": ("group_vars/all.json", "{", '"a": 1, '),
}


def _ansible_code(path: str, prefix: str, unit: str, size: int) -> str:
    setup = textwrap.dedent(
        f"""
        import tempfile, pathlib
        root = pathlib.Path(tempfile.mkdtemp())
        target = root / {path!r}
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text({prefix!r} + _rep({unit!r}, {size}), encoding="utf-8")
        if not (root / "hosts.yml").exists():
            (root / "hosts.ini").write_text("h\\n")
        from remediate.inventory import load_sources
        timed(lambda: load_sources(root))
        """
    )
    return _PROLOGUE + setup


@pytest.mark.parametrize("name", list(ANSIBLE_FILES))
def test_ansible_files_of_10_mb_are_refused_at_once(name: str) -> None:
    path, prefix, unit = ANSIBLE_FILES[name]
    result = _run(_ansible_code(path, prefix, unit, 10 * MB), BUDGET * 3)
    assert result["seconds"] < 2.0, result
    assert "read up to" in str(result["outcome"]), result
