"""Ansible host patterns (`--limit`): which hosts of an inventory a run is about.

As `ansible-playbook --limit` reads them: names, wildcards, `~regex`, subscripts, `@file`,
unions, `&` intersections and `!` exclusions. `selection_for` is the one call commands make.

A part that matches nothing is a warning and the rest still selects, as in ansible-core
(`InventoryManager._enumerate_matches`, lib/ansible/inventory/manager.py, 2.19: "Could not
match supplied host pattern, ignoring: X" under the default HOST_PATTERN_MISMATCH=warning).
That matters for a retry file naming hosts since retired: the others are still audited.
Only a selection left empty is an error. Warnings are returned, never printed here.
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
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

NO_MATCH = "Could not match supplied host pattern, ignoring: "
"""ansible-core's words for a part that matches nothing, so that logs read the same."""


@dataclass(frozen=True)
class Selection:
    """The hosts a pattern selects, in Ansible's order, and what to warn about."""

    hosts: tuple[Host, ...]
    warnings: tuple[str, ...] = ()


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


def _enumerate(inventory: Inventory, expression: str) -> tuple[list[str], bool]:
    """The names `expression` matches, and whether it named a group (even an empty one)."""
    matches = _matcher(expression)
    groups = [name for name in inventory.groups if matches(name)]
    found: dict[str, None] = {}
    for group in groups:
        found.update(dict.fromkeys(inventory.hosts_of(group)))
    if not groups or expression[0] == "~" or any(c in expression for c in ".?*["):
        # in the order the sources first named the hosts, as ansible-core walks
        # InventoryData.hosts (`_enumerate_matches`), not in the order of `all`
        names = inventory.first_met or [host.name for host in inventory.hosts]
        found.update(dict.fromkeys(name for name in names if matches(name)))
    return list(found), bool(groups)


def _match_one(inventory: Inventory, pattern: str, warned: list[str]) -> list[str]:
    """The names one part matches (`&`/`!` ignored); a warning in `warned` when none."""
    expression = pattern[1:] if pattern[0] in "&!" else pattern
    if not expression:
        raise InputError(f"host pattern {pattern!r} names nothing after {pattern[0]!r}")
    subscript = None if expression[0] == "~" else _SUBSCRIPT.fullmatch(expression)
    matched = subscript.group(1) if subscript else expression
    names, named_group = _enumerate(inventory, matched)
    if not names:
        # As ansible-core: the part without its &, ! or subscript is named; neither "all" nor
        # a group that exists but has no hosts warns.
        if matched != "all" and not named_group:
            warned.append(NO_MATCH + matched)
        return []
    if subscript is None:
        return names
    index, start, separator, end = subscript.group(2, 3, 4, 5)
    if separator == "-":
        warned.append(
            f"{show_value(pattern)}: use [x:y] inclusive subscripts instead of [x-y], which"
            " Ansible has removed"
        )
    try:
        if index is not None:
            return [names[int(index)]]
        stop = int(end) if end else len(names) - 1
        if end and stop == 0:  # Ansible's quirk: [n:0] is the single host n
            return [names[int(start)]]
        return names[int(start) : stop + 1]
    except IndexError:
        raise InputError(f"no host matched the subscripted pattern {show_value(pattern)}") from None


def select(inventory: Inventory, pattern: str) -> Selection:
    """The hosts a `--limit` pattern selects, in Ansible's order, with its warnings.

    Patterns: host or group names, `*`/`?`/`[...]` wildcards, `~regex`, `all`, `group[0]`,
    `group[1:3]`, `@file` (one pattern a line), joined by `,` or `:`; `&p` intersects, `!p`
    excludes. A part that matches nothing is a warning; an empty result is an InputError
    naming the parts that matched nothing.
    """
    parts = split_pattern(pattern)
    if not parts:
        raise InputError("the host pattern is empty", hint="give host or group names, or all")
    names: dict[str, None] = {}
    warned: list[str] = []
    for part in _ordered(parts):
        if part in inventory.by_name:
            names.setdefault(part)
            continue
        matched = _match_one(inventory, part, warned)
        if part[0] == "!":
            excluded = set(matched)
            names = {name: None for name in names if name not in excluded}
        elif part[0] == "&":
            kept = set(matched)
            names = {name: None for name in names if name in kept}
        else:
            names.update(dict.fromkeys(matched))
    if not names:
        raise _nothing_selected(inventory, pattern, warned)
    return Selection(tuple(inventory.by_name[name] for name in names), tuple(warned))


def _nothing_selected(inventory: Inventory, pattern: str, warned: list[str]) -> InputError:
    unmatched = [text.removeprefix(NO_MATCH) for text in warned if text.startswith(NO_MATCH)]
    hint = "check the spelling; list hosts with `remediate inventory`"
    if unmatched == [pattern.strip()]:  # the whole pattern is one part that names nothing
        return InputError(
            f"host pattern {show_value(pattern)} matches no host or group of {inventory.path}",
            hint=hint,
        )
    if unmatched:
        shown = ", ".join(show_value(part, 40) for part in unmatched[:5])
        more = f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else ""
        return InputError(
            f"the host pattern {show_value(pattern)} selects no host (nothing matches "
            f"{shown}{more})",
            hint=hint,
        )
    return InputError(f"the host pattern {show_value(pattern)} selects no host")


def select_hosts(inventory: Inventory, pattern: str) -> list[Host]:
    """The hosts `select` picks, without its warnings (for callers that show none)."""
    return list(select(inventory, pattern).hosts)


def selection_for(inventory: Inventory, limit: str | None) -> Selection:
    """The hosts a run is about, with warnings: those `limit` selects, or every host.

    In the order of `all`, whatever the pattern's order: `ansible-playbook --limit` filters
    the play's hosts by the subset (ansible-core `InventoryManager.get_hosts`, 2.19), so a
    run goes through the hosts as Ansible's would. No limit is None or empty, as the
    commands have always read an empty `--limit`.
    """
    if not limit:
        return Selection(inventory.hosts)
    chosen = select(inventory, limit)
    names = {host.name for host in chosen.hosts}
    return Selection(tuple(h for h in inventory.hosts if h.name in names), chosen.warnings)


def hosts_for(inventory: Inventory, limit: str | None) -> list[Host]:
    """`selection_for`'s hosts, without its warnings."""
    return list(selection_for(inventory, limit).hosts)
