"""Ansible YAML inventories (`hosts.yml`), read as Ansible's `yaml` inventory plugin reads them.

The format (ansible-core 2.19, lib/ansible/plugins/inventory/yaml.py, its DOCUMENTATION and
EXAMPLES; "How to build your inventory" in Ansible's docs):

* the top level maps group names to groups; `all` is a group like the others;
* a group is null or a mapping of `hosts` (host pattern -> variables or null), `vars`
  (name -> value) and `children` (group name -> group, the same structure, to any depth);
  a section given as a single text (`hosts: ex01`) means that one entry with no value;
* host patterns as in INI inventories: ranges `exch[01:20]`, `[a:f]`, `[1:9:2]`,
  `host:port`, `[ipv6]:port`; a name that is no address (`mail server`) is kept, as
  Ansible keeps it (`ansible_host` says where to connect). As in ansible-core
  (`InventoryData.add_host`), a port applies only where the host is first met: `ex01`
  then `ex01:5986` gives no port;
* values are what YAML gives (`5986` an int, `yes` true, `'0042'` text, dates, lists,
  mappings; `!vault` and `!unsafe` as `remediate.inventory.ansible_yaml` reads them), never
  `literal_eval`ed as INI values are; `ansible_group_priority` orders groups of one depth;
* a group or host met again (in another group, under other parents) is the same one: its
  memberships add up and a variable set later replaces the earlier value.

Ansible warns and goes on for a key other than hosts/vars/children in a group ("Skipping
unexpected key"); so do we, suggesting the section it resembles.

Stricter than Ansible, where Ansible would quietly read fewer hosts or a name no connection
can use, as the INI reader is (`remediate.inventory.ini`): a group that is neither a mapping
nor null (Ansible warns "Skipping ... not a valid group definition" and drops its hosts), a
host pattern with a `:` that is neither a port nor IPv6, a port outside 1-65535, a range with
its begin after its end, and a variable name that is not text (YAML `yes:` is true, `1:` a
number; Ansible 2.19 accepts them with a deprecation warning) are errors naming the file and
line. A top-level `plugin:` key marks an inventory plugin's configuration (aws_ec2,
constructed...): refused, as remediate runs no inventory plugin.

Linear in the document: one pass over an explicit stack, not recursion, as groups nested
through aliases (`children: {g: *deeper}`) go deeper than the YAML loader's nesting limit
(100 collections) sees: thousands of levels from a few KB. What ranges and aliases multiply
is bounded by MAX_MEMBERSHIPS and MAX_ASSIGNMENTS.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass
from typing import Any

from remediate.errors import InputError
from remediate.inventory.data import InventoryData
from remediate.inventory.ini import MAX_HOST_CHARS, MAX_INVENTORY_CHARS, expand_range, split_address
from remediate.inventory.model import Origin, show_value
from remediate.yamlfile import LocatedDocument

MAX_YAML_INVENTORY_CHARS = MAX_INVENTORY_CHARS
"""YAML inventories are read up to this many characters (1 MB, as INI ones). Reading is linear
but the YAML parser that keeps lines is pure Python. Measured on the shared 2-core machine
under load (load average 5, so an idle one is some twice as fast): 1 MB of 5,550 hosts with
five variables each, parse 14 s, this reader 0.4 s, merging 0.3 s; 1 MB of the tiniest nodes
(93,000 `h:` lines), parse 23 s, reader 4 s, merging 5 s. An estate of 500 such hosts (93 KB)
reads in 0.7 s. Larger estates can split their inventory into several files or a folder."""

MAX_MEMBERSHIPS = 250_000
"""At most this many host memberships (a host named in a group) from one file, and
MAX_ASSIGNMENTS variables set. Ranges and aliases multiply the text: `exch[1:99999]:` is
100,000 hosts from one line, `hosts: *all_of_them` repeats a whole list in one more group,
and each of those hosts gets the pattern's variables. A membership costs some 15
microseconds to read and about as much again to merge, an assignment a few: a few seconds
each at the limits, well beyond any real estate (a 1 MB inventory written out holds fewer
than 100,000 hosts)."""

MAX_ASSIGNMENTS = 2_000_000

SECTIONS = ("hosts", "vars", "children")


@dataclass(frozen=True)
class _Node:
    """A mapping of the document, and the line to name when one of its keys has none (the
    mapping was made here from a section given as one text, or YAML changed the key's
    spelling: `yes` is True)."""

    value: dict[Any, Any]
    line: int | None
    in_document: bool = True


@dataclass(frozen=True)
class _Group:
    name: Any
    value: Any
    line: int | None  # of the group's key
    parent: str | None


@dataclass(frozen=True)
class _Hosts:
    group: str
    node: _Node


@dataclass(frozen=True)
class _Vars:
    group: str
    node: _Node


@dataclass(frozen=True)
class _Link:
    parent: str
    child: str
    line: int | None


_Task = _Group | _Hosts | _Vars | _Link


class _Reader:
    """One pass over the document into `data`, in the order Ansible's plugin adds things:
    a group, then its sections in the order written, each child group whole before the link
    to its parent (ansible-core's `_parse_group` recursion, made a stack here)."""

    def __init__(
        self, document: LocatedDocument, source: str, data: InventoryData, warnings: list[str]
    ) -> None:
        self.document = document
        self.source = source
        self.data = data
        self.warnings = warnings
        self.memberships = 0
        self.assignments = 0

    # where things are

    def at(self, line: int | None) -> Origin:
        return Origin(self.source, line)

    def error(self, line: int | None, message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=self.source, line=line, hint=hint)

    def warn(self, line: int | None, message: str) -> None:
        where = f"{self.source}:{line}" if line else self.source
        self.warnings.append(f"{where}: {message}")

    def key_line(self, node: _Node, key: Any) -> int | None:
        """The line of `key` itself in `node`, in constant time.

        `LocatedDocument.line_of(location)` walks from the top (each lookup as long as the
        nesting, which aliases make unbounded) and, for a key whose value is a mapping, gives
        the mapping's first line, not the key's. Its table of lines, keyed by the mapping's
        id and the key's text, answers directly.
        """
        if not node.in_document:
            return node.line
        line = self.document.key_line(node.value, key)
        return node.line if line is None else line

    def count(self, memberships: int, assignments: int, line: int | None) -> None:
        """Refuse, before doing it, the work past MAX_MEMBERSHIPS or MAX_ASSIGNMENTS."""
        self.memberships += memberships
        self.assignments += assignments
        if self.memberships > MAX_MEMBERSHIPS:
            what = f"{MAX_MEMBERSHIPS:,} host memberships (a host named in a group)"
        elif self.assignments > MAX_ASSIGNMENTS:
            what = f"{MAX_ASSIGNMENTS:,} variable assignments"
        else:
            return
        raise self.error(
            line,
            f"the inventory gives more than {what}; ranges and aliases multiply them: refused",
            hint="check the host ranges and aliases here, or split the inventory",
        )

    # the document

    def read(self) -> None:
        top = self.document.data
        if top is None:
            self.warn(None, "the YAML inventory is empty: no hosts")
            return
        if not isinstance(top, dict):
            raise self.error(
                self.document.line_of(()) or 1,
                "a YAML inventory must be a mapping of group names (all:, exchange:, ...),"
                f" not {_kind(top)}",
                hint="see `ansible-inventory --list --yaml` for the format",
            )
        self._refuse_plugin_config(top)
        if not top:
            self.warn(self.document.line_of(()), "the YAML inventory has no groups: no hosts")
        root = _Node(top, self.document.line_of(()))
        stack: list[_Task] = [
            _Group(name, value, self.key_line(root, name), None)
            for name, value in reversed(top.items())
        ]
        while stack:
            task = stack.pop()
            if isinstance(task, _Group):
                stack += reversed(self._group(task))
            elif isinstance(task, _Hosts):
                self._hosts(task.group, task.node)
            elif isinstance(task, _Vars):
                self._vars(task.group, task.node)
            else:
                self.count(0, 1, task.line)
                self.data.add_child(task.parent, task.child, self.at(task.line))

    def _refuse_plugin_config(self, top: dict[Any, Any]) -> None:
        plugin = top.get("plugin")
        if not plugin:  # as ansible-core: `plugin:` with no value is a group named plugin
            return
        line = self.key_line(_Node(top, None), "plugin")
        hint = "export its hosts with `ansible-inventory -i FILE --list --yaml` and give that"
        if isinstance(plugin, str):
            raise self.error(
                line,
                f"this is the configuration of the inventory plugin {show_value(plugin)}, not an"
                " inventory; remediate reads INI and YAML inventories only, it runs no plugin",
                hint=hint,
            )
        raise self.error(
            line,
            "a top-level 'plugin' key makes this file an inventory plugin's configuration for"
            " Ansible, not a YAML inventory; remediate reads INI and YAML inventories only",
            hint="rename the group 'plugin', or " + hint,
        )

    # groups

    def _group(self, task: _Group) -> list[_Task]:
        """Declare the group and say, in the order written, what is to be read in it."""
        name, line = self._group_name(task), task.line
        value = task.value
        if value is not None and not isinstance(value, dict):
            raise self.error(
                line,
                f"group {show_value(name)} must be a mapping of hosts, vars and children (or"
                f" nothing), not {_kind(value)}",
                hint=_group_hint(value),
            )
        self.data.add_group(name, self.at(line))
        if not value:
            return []
        node = _Node(value, line)
        tasks: list[_Task] = []
        for key, section in value.items():
            key_line = self.key_line(node, key)
            if key not in SECTIONS:
                self._unexpected_key(name, key, key_line)
                continue
            sub = self._section(name, key, section, key_line)
            if sub is None:
                continue
            if key == "hosts":
                tasks.append(_Hosts(name, sub))
            elif key == "vars":
                tasks.append(_Vars(name, sub))
            else:
                for child, child_value in sub.value.items():
                    child_line = self.key_line(sub, child)
                    tasks.append(_Group(child, child_value, child_line, name))
                    if isinstance(child, str):  # else the child's own task refuses it
                        tasks.append(_Link(name, child, child_line))
        return tasks

    def _group_name(self, task: _Group) -> str:
        name = task.name
        if not isinstance(name, str):
            raise self.error(
                task.line,
                f"group name {show_value(name)} is not text (YAML read it as {_kind(name)})",
                hint=_QUOTE_HINT,
            )
        if not name:
            raise self.error(task.line, "a group has an empty name")
        if name == "all" and task.parent is not None:
            raise self.error(
                task.line,
                f"the group 'all' cannot be a child of another group ({task.parent!r})",
                hint="'all' is the top of every inventory: move it to the top level",
            )
        return name

    def _section(self, group: str, key: str, section: Any, line: int | None) -> _Node | None:
        """The section's mapping; a single text is that one entry, as Ansible reads it."""
        if section is None:
            return None
        if isinstance(section, str):
            return _Node({section: None}, line, in_document=False)
        if not isinstance(section, dict):
            raise self.error(
                line,
                f"{key!r} of group {group!r} must be a mapping, not {_kind(section)}",
                hint=_SECTION_HINTS[key],
            )
        return _Node(section, line)

    def _unexpected_key(self, group: str, key: Any, line: int | None) -> None:
        text = str(key)[:40]
        close = difflib.get_close_matches(text.lower(), SECTIONS, n=1, cutoff=0.6)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        self.warn(
            line,
            f"group {group!r}: key {show_value(key, 40)} skipped{guess}; a group has only"
            " hosts, vars and children",
        )

    def _vars(self, group: str, node: _Node) -> None:
        self.count(0, len(node.value), node.line)
        for key, value in node.value.items():
            line = self.key_line(node, key)
            self.data.set_group_var(group, self._var_name(key, line), value, self.at(line))

    def _var_name(self, key: Any, line: int | None) -> str:
        if isinstance(key, str):
            return key
        raise self.error(
            line,
            f"variable name {show_value(key)} is not text (YAML read it as {_kind(key)})",
            hint=_QUOTE_HINT,
        )

    # hosts

    def _hosts(self, group: str, node: _Node) -> None:
        for pattern, value in node.value.items():
            line = self.key_line(node, pattern)
            names, port = self._host_pattern(pattern, line)
            variables = self._host_vars(pattern, value, line)
            self.count(len(names), len(names) * (len(variables) + (port is not None)), line)
            origin = self.at(line)
            for name in names:
                new = name not in self.data.hosts
                self.data.add_host(name, group, origin)
                if new and port is not None:  # ansible-core: Host(name, port), on creation only
                    self.data.set_host_var(name, "ansible_port", port, origin)
                for key, var_value, var_origin in variables:
                    self.data.set_host_var(name, key, var_value, var_origin)

    def _host_vars(
        self, pattern: str, value: Any, line: int | None
    ) -> list[tuple[str, Any, Origin]]:
        if isinstance(value, dict):
            node = _Node(value, line)
            found: list[tuple[str, Any, Origin]] = []
            for key, var_value in value.items():
                var_line = self.key_line(node, key)
                found.append((self._var_name(key, var_line), var_value, self.at(var_line)))
            return found
        if value is None:
            return []
        if not value and isinstance(value, str | list | bool | int | float):
            # ansible-core reads `variables or {}`: an empty or false value is no variables
            self.warn(
                line,
                f"host {show_value(pattern)} has {show_value(value)} for its variables: none read",
            )
            return []
        raise self.error(
            line,
            f"the variables of host {show_value(pattern)} must be a mapping (name: value),"
            f" not {_kind(value)}",
            hint="write `host:` alone, or its variables indented below it, one `name: value`"
            " a line",
        )

    def _host_pattern(self, pattern: Any, line: int | None) -> tuple[list[str], int | None]:
        """Names and port of one `hosts` key, as `ini` reads a host pattern."""
        if not isinstance(pattern, str):
            raise self.error(
                line,
                f"host name {show_value(pattern)} is not text (YAML read it as {_kind(pattern)})",
                hint=_QUOTE_HINT,
            )
        if not pattern:
            raise self.error(line, "a host has an empty name")
        if len(pattern) > MAX_HOST_CHARS:
            raise self.error(
                line,
                f"a host name or pattern of {len(pattern):,} characters"
                f" ({show_value(pattern, 40)}); host patterns are at most"
                f" {MAX_HOST_CHARS:,} characters",
                hint="a DNS name is at most 253 characters",
            )
        split = split_address(pattern)
        if split is None and pattern.startswith("[") and pattern.endswith("]"):
            split = (pattern[1:-1], None) if _is_ipv6(pattern[1:-1]) else None
        address, port_text = split if split else (pattern, None)
        if pattern.endswith(":") and port_text is None:
            raise self.error(
                line,
                f"host {show_value(pattern)} ends with ':' but gives no port",
                hint="write host:port with a numeric port, and [ipv6]:port for IPv6",
            )
        try:
            names = expand_range(address) if "[" in address or "]" in address else [address]
        except ValueError as exc:
            raise self.error(line, f"bad host range in {show_value(pattern)}: {exc}") from None
        for name in names:
            if ":" in name and not _is_ipv6(name):
                raise self.error(
                    line,
                    f"{show_value(pattern)} is not a host name, host:port or IPv6 address"
                    " (bad port?)",
                    hint="write host:port with a numeric port, and [ipv6]:port for IPv6",
                )
        return names, _port(port_text, pattern, line, self)


def _port(text: str | None, pattern: str, line: int | None, reader: _Reader) -> int | None:
    if text is None:
        return None
    port = int(text) if len(text) <= 6 else 0
    if not 1 <= port <= 65535:
        raise reader.error(line, f"bad port in {show_value(pattern)}: ports are 1 to 65535")
    return port


def _is_ipv6(text: str) -> bool:
    """An IPv6 address, with a zone (`%eth0`, RFC 4007 11.2) or not, as the INI reader."""
    if ":" not in text:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    """What YAML made of a value, in words, for messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"true/false ({value})"
    if isinstance(value, str):
        return f"the text {show_value(value, 40)}"
    if value is None:
        return "null"
    return f"{type(value).__name__} {show_value(value, 40)}"


def _group_hint(value: Any) -> str:
    if isinstance(value, list):
        return "list hosts as a mapping under 'hosts:', each name followed by ':'"
    return "write `group:` alone, or hosts:, vars: and children: indented below it"


_QUOTE_HINT = "quote the name: YAML reads yes/no/on/off as true/false, and digits as numbers"

_SECTION_HINTS = {
    "hosts": "write each host as a key ending with ':' (`ex01:`), not as a '- ex01' list item",
    "vars": "write each variable as `name: value` indented below 'vars:'",
    "children": "write each child group as a key ending with ':' (`exchange:`), not as a list",
}


def read_yaml_inventory(
    document: LocatedDocument, source: str, data: InventoryData, warnings: list[str]
) -> None:
    """Add a YAML inventory's groups, hosts and variables to `data` (InputError if bad).

    `document` is the file as `load_ansible_yaml` read it (load it with
    `max_chars=MAX_YAML_INVENTORY_CHARS`); warnings (a skipped key, an empty file) are
    appended to `warnings` as "file:line: message".
    """
    _Reader(document, source, data, warnings).read()
