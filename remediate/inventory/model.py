"""What an inventory is once read: hosts, groups, their variables and where each was written.

Shared by every inventory format (today INI). A host here is a name, its groups and its merged
variables, nothing more: what those variables mean for a connection is `remediate.connect`'s
business, as Ansible's connection plugins, not its inventory plugins, read `ansible_host`.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

SECRET_MARKERS = ("pass", "secret", "token", "key_password")


@dataclass(frozen=True)
class Origin:
    """Where something was written: file and line (no line for implicit things).

    `via` says how it was read when that matters to whoever shows it: "vault" for a value
    that was encrypted (shown as `***`, never in clear).
    """

    file: str
    line: int | None = None
    via: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} ({self.via})" if self.via else where


class UnsafeText(str):
    """Text marked `!unsafe` in YAML: Ansible never templates it, so neither do we."""

    __slots__ = ()


@dataclass(frozen=True)
class Host:
    """One inventory host with its merged variables.

    `groups` holds every group the host belongs to, the most specific first (the reverse of
    the order in which group variables apply), `all` last.
    """

    name: str
    vars: Mapping[str, Any] = field(repr=False)
    groups: tuple[str, ...]
    origins: Mapping[str, Origin] = field(default_factory=dict, repr=False, compare=False)
    source: Origin | None = field(default=None, compare=False)

    def __hash__(self) -> int:
        return hash(self.name)

    def origin(self, var: str) -> Origin | None:
        """Where the value of `var` that applies to this host was set."""
        return self.origins.get(var)


@dataclass(frozen=True)
class Group:
    """One group: its own variables, direct hosts and direct children, in file order."""

    name: str
    vars: Mapping[str, Any] = field(repr=False)
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    depth: int = 0
    priority: int = 1
    origins: Mapping[str, Origin] = field(default_factory=dict, repr=False, compare=False)
    source: Origin | None = field(default=None, compare=False)

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True)
class Inventory:
    """A parsed inventory; `hosts` in Ansible's order for the pattern `all`.

    `warnings` are what Ansible would warn about too (a duplicate key in a vars file, an
    ignored file): the caller shows them, nothing here prints.
    """

    path: str
    hosts: tuple[Host, ...]
    groups: Mapping[str, Group]
    warnings: tuple[str, ...] = ()
    first_met: tuple[str, ...] = ()
    """Host names in the order the sources first named them (Ansible's `InventoryData.hosts`),
    the order in which a wildcard or `~regex` pattern lists the hosts it matches."""

    @cached_property
    def by_name(self) -> Mapping[str, Host]:
        """Hosts by inventory name."""
        return MappingProxyType({host.name: host for host in self.hosts})

    def host(self, name: str) -> Host:
        """The host named `name` (KeyError if none)."""
        return self.by_name[name]

    def hosts_of(self, group: str) -> list[str]:
        """Names of the hosts in `group` and its descendants, in Ansible's order."""
        seen: dict[str, None] = {}
        for member in descendants(self.groups, group):
            seen.update(dict.fromkeys(self.groups[member].hosts))
        return list(seen)


def descendants(groups: Mapping[str, Any], name: str) -> list[str]:
    """The group then its descendants, level by level, each level in file order.

    `groups` maps names to anything with `children` (groups, or a parser's drafts).
    """
    ordered, seen, level = [name], {name}, [name]
    while level:
        following = []
        for parent in level:
            for child in groups[parent].children:
                if child not in seen:
                    seen.add(child)
                    following.append(child)
        ordered += following
        level = following
    return ordered


# --- values ---------------------------------------------------------------------------------


def parse_value(text: str) -> Any:
    """A value as Ansible's INI plugin reads it: a Python literal when it is one, else text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return _plain(value)


def _plain(value: Any) -> Any:
    """Tuples and sets become lists; types no variable can hold go back to text (as Ansible)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    return value


def show_value(value: Any, limit: int = 80) -> str:
    """A short printable form of a value for messages (never raises)."""
    try:
        text = repr(value)
    except ValueError:  # an int too large to print
        text = "<a very large number>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_secret_name(name: str) -> bool:
    """Whether a variable holds a secret (its name says pass, secret, token...)."""
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)
