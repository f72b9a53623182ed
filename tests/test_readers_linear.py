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
