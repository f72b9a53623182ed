"""Ansible host patterns (`--limit`): which hosts of an inventory a run is about.

As `ansible-playbook --limit` reads them: names, wildcards, `~regex`, subscripts, `@file`,
unions, `&` intersections and `!` exclusions. `hosts_for` is the one call commands make.
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from collections.abc import Callable
from pathlib import Path

from remediate.errors import InputError
from remediate.inventory.ini import split_address
from remediate.inventory.model import Host, Inventory, show_value

_SUBSCRIPT = re.compile(r"(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]")

MAX_LIMIT_CHARS = 64 * 1024
"""A `--limit` is read up to this many characters (thousands of host names); longer lists go in
a file, `--limit @FILE`, one pattern a line."""

MAX_PART_CHARS = 4096
"""One pattern (a name, a wildcard, a `~regex`) is at most this long."""

MAX_LIMIT_FILE_BYTES = 1024 * 1024
"""A `@file` of patterns is read up to this size (as an inventory: tens of thousands of hosts)."""


def _colon_parts(pattern: str) -> list[str]:
    r"""`re.findall(r"(?:[^\s:\[\]]|\[[^\]]*\])+", pattern)` in linear time.

    Runs of characters other than blanks, ':' and brackets, and `[...]` groups, which may hold
    ':'. The pattern retried each '[' to the end when no ']' followed: quadratic (a --limit of
    256 KB of '[' never finished). Here the next ']' is looked for once and remembered.
    """
    parts: list[str] = []
    start: int | None = None
    index, end = 0, len(pattern)
    close = -2  # the first ']' after the last '[' looked from; -1: there is none
    while index < end:
        char = pattern[index]
        if char == "[":
            if close != -1 and close <= index:
                close = pattern.find("]", index + 1)
            if close != -1:
                start = index if start is None else start
                index = close + 1
                continue
        elif not (char.isspace() or char in ":]"):
            start = index if start is None else start
            index += 1
            continue
        if start is not None:
            parts.append(pattern[start:index])
            start = None
        index += 1
    if start is not None:
        parts.append(pattern[start:])
    return parts


def split_pattern(pattern: str) -> list[str]:
    """Ansible's split: commas; else ':' unless the whole is one address (IPv6, host:port)."""
    if len(pattern) > MAX_LIMIT_CHARS:
        raise InputError(
            f"a host pattern of {len(pattern):,} characters; patterns are read up to"
            f" {MAX_LIMIT_CHARS:,}",
            hint="put a long list in a file, one pattern a line, and give --limit @FILE",
        )
    if "," in pattern:
        parts = pattern.split(",")
    elif split_address(pattern) is not None:
        parts = [pattern]
    else:
        parts = _colon_parts(pattern)
    return [part.strip() for part in parts if part.strip()]


def _read_limit_file(path: str) -> list[str]:
    shown = path if len(path) <= 256 else show_value(path)
    try:
        if not Path(path).is_file():
            raise InputError("the limit file does not exist or is not a file", file=shown)
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_LIMIT_FILE_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, ValueError) as exc:  # a name too long, undecodable text
        raise InputError(f"cannot read the limit file: {exc}", file=shown) from None
    if len(data) > MAX_LIMIT_FILE_BYTES:
        raise InputError(
            f"the limit file is longer than {MAX_LIMIT_FILE_BYTES:,} bytes", file=shown
        )
    return [line.strip() for line in text.splitlines()]


def _ordered(patterns: list[str]) -> list[str]:
    """Unions first, then intersections (&), then exclusions (!), as Ansible applies them."""
    expanded: list[str] = []
    for item in patterns:
        expanded += _read_limit_file(item[1:]) if item.startswith("@") else [item]
    # A pattern given twice selects nothing more (unions, & and ! are idempotent): matched once.
    items = list(dict.fromkeys(item for item in expanded if item))
    for item in items:
        if len(item) > MAX_PART_CHARS:
            raise InputError(
                f"host pattern {show_value(item)} has {len(item):,} characters; a pattern is at"
                f" most {MAX_PART_CHARS:,}"
            )
    regular = [item for item in items if item[0] not in "&!"] or ["all"]
    return regular + [i for i in items if i[0] == "&"] + [i for i in items if i[0] == "!"]


def _matcher(expression: str) -> Callable[[str], bool]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            source = expression[1:] if expression.startswith("~") else fnmatch.translate(expression)
            compiled = re.compile(source)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise InputError(f"invalid host pattern {show_value(expression)}: {exc}") from None
    return lambda name: compiled.match(name) is not None


def _enumerate(inventory: Inventory, expression: str) -> list[str]:
    matches = _matcher(expression)
    groups = [name for name in inventory.groups if matches(name)]
    found: dict[str, None] = {}
    for group in groups:
        found.update(dict.fromkeys(inventory.hosts_of(group)))
    if not groups or expression[0] == "~" or any(c in expression for c in ".?*["):
        found.update(dict.fromkeys(host.name for host in inventory.hosts if matches(host.name)))
    return list(found)


def _match_one(inventory: Inventory, pattern: str) -> list[str]:
    expression = pattern[1:] if pattern[0] in "&!" else pattern
    if not expression:
        raise InputError(f"host pattern {pattern!r} names nothing after {pattern[0]!r}")
    subscript = None if expression[0] == "~" else _SUBSCRIPT.fullmatch(expression)
    names = _enumerate(inventory, subscript.group(1) if subscript else expression)
    if not names:
        raise InputError(
            f"host pattern {show_value(pattern)} matches no host or group of {inventory.path}",
            hint="check the spelling; list hosts with `remediate inventory`",
        )
    if subscript is None:
        return names
    index, start, _, end = subscript.group(2, 3, 4, 5)
    try:
        if index is not None:
            return [names[int(index)]]
        stop = int(end) if end else len(names) - 1
        if end and stop == 0:  # Ansible's quirk: [n:0] is the single host n
            return [names[int(start)]]
        return names[int(start) : stop + 1]
    except IndexError:
        raise InputError(f"no host matched the subscripted pattern {show_value(pattern)}") from None


def select_hosts(inventory: Inventory, pattern: str) -> list[Host]:
    """The hosts a `--limit` pattern selects, in Ansible's order.

    Patterns: host or group names, `*`/`?`/`[...]` wildcards, `~regex`, `all`, `group[0]`,
    `group[1:3]`, `@file` (one pattern a line), joined by `,` or `:`; `&p` intersects, `!p`
    excludes. A part that matches nothing, or an empty result, is an InputError.
    """
    parts = split_pattern(pattern)
    if not parts:
        raise InputError("the host pattern is empty", hint="give host or group names, or all")
    names: dict[str, None] = {}
    for part in _ordered(parts):
        if part in inventory.by_name:
            names.setdefault(part)
            continue
        matched = set(_match_one(inventory, part)) if part[0] in "&!" else None
        if matched is None:
            names.update(dict.fromkeys(_match_one(inventory, part)))
        elif part[0] == "!":
            names = {name: None for name in names if name not in matched}
        else:
            names = {name: None for name in names if name in matched}
    if not names:
        raise InputError(f"the host pattern {show_value(pattern)} selects no host")
    return [inventory.by_name[name] for name in names]


def hosts_for(inventory: Inventory, limit: str | None) -> list[Host]:
    """The hosts a run is about: those `limit` selects, or every host when there is no limit.

    No limit is None or empty, as the commands have always read an empty `--limit`.
    """
    return select_hosts(inventory, limit) if limit else list(inventory.hosts)
