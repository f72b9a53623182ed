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
_COLON_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")


def split_pattern(pattern: str) -> list[str]:
    """Ansible's split: commas; else ':' unless the whole is one address (IPv6, host:port)."""
    if "," in pattern:
        parts = pattern.split(",")
    elif split_address(pattern) is not None:
        parts = [pattern]
    else:
        parts = _COLON_PARTS.findall(pattern)
    return [part.strip() for part in parts if part.strip()]


def _read_limit_file(path: str) -> list[str]:
    if not Path(path).is_file():
        raise InputError("the limit file does not exist or is not a file", file=path)
    try:
        return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the limit file: {exc}", file=path) from None


def _ordered(patterns: list[str]) -> list[str]:
    """Unions first, then intersections (&), then exclusions (!), as Ansible applies them."""
    expanded: list[str] = []
    for item in patterns:
        expanded += _read_limit_file(item[1:]) if item.startswith("@") else [item]
    items = [item for item in expanded if item]
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
