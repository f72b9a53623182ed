r"""Ansible INI inventories (`hosts.ini`), read the way Ansible's `ini` inventory plugin reads them.

Read as Ansible does:

* `[group]` lists hosts, `[group:children]` child groups, `[group:vars]` one `key=value` a
  line; hosts before any section are `ungrouped`; every group without a parent is a child of
  `all`. A group named in `:children` or `:vars` must be declared by a `[group]` or
  `[group:children]` section somewhere in the file.
* Lines starting with `#` or `;` are comments. A host line is split like a shell line (shlex,
  POSIX rules): `#` starts a comment even inside a word (`pw=ab#cd` is `ab`), and a backslash
  escapes outside quotes, so write `ansible_user='CORP\admin'` or `ansible_user=CORP\\admin`
  (`ansible_user=CORP\admin` gives `CORPadmin`). A `:vars` value is everything after the
  first `=`, stripped, backslashes and `#` included.
* Values, on host lines and in `:vars` sections alike (this is what ansible-core's code does,
  whatever its documentation says), go through `ast.literal_eval`: `5986` is an int, `True` a
  bool, `"'0123'"` the string `0123`; anything that is not a Python literal stays a string.
* Host ranges `exch[01:20]` (leading zeros kept), `[01:10:2]`, `[a:f]`, several per name;
  `host:port`, `[ipv6]:port`; `host:port` sets `ansible_port`.
* Variables: host vars win over group vars; among groups, deeper groups win over their
  parents, groups of the same depth apply in `ansible_group_priority` then alphabetical order.

Where we are stricter than Ansible: a range whose begin is after its end (`[3:1]`), a step of
0, a port outside 1-65535, a host name with a `:` that is neither `host:port` nor IPv6, and a
range expanding to more than 100 000 names are errors; a bare `[::1]` is read as an IPv6 host.

Connection variables (`connection_settings`). Every `ansible_*` name below also answers to
`remediate_*` (e.g. `remediate_port`), which wins; a connection-specific name
(`ansible_winrm_user`, `ansible_ssh_port`) wins over the generic one (`ansible_user`), as in
Ansible; the legacy `ansible_ssh_user/pass/port/host` names are honoured for WinRM hosts too.

* `ansible_connection`: `winrm` (the default here, unlike Ansible's `ssh`: this is a Windows
  tool), `psrp` (treated as WinRM, its `ansible_psrp_*` names read too), or `ssh`/`paramiko`.
* WinRM: `ansible_winrm_transport` (`ntlm` by default, where Ansible defaults to Basic that
  Windows refuses by default; `kerberos` and `credssp` need pywinrm's extras; `basic`,
  `ssl` = Basic over HTTPS, `plaintext` = Basic with HTTP allowed; `certificate` is not
  supported yet; a list takes its first item), port 5986 (even with scheme http, as Ansible)
  and https by default, http when the port is 5985 unless `ansible_winrm_scheme` says so,
  `ansible_winrm_server_cert_validation`, `ansible_winrm_ca_trust_path`,
  `ansible_winrm_message_encryption`, `ansible_winrm_operation_timeout_sec` (20) and
  `ansible_winrm_read_timeout_sec` (operation timeout + 10). Basic authentication over plain
  HTTP is refused unless `--allow-insecure` or `ansible_winrm_transport=plaintext`.
* SSH: port 22, `ansible_ssh_private_key_file`, `remediate_known_hosts` (a known_hosts file).
* `remediate_shell`: `powershell` or `wsh` fixes the dialect instead of detecting it.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import ipaddress
import itertools
import math
import re
import shlex
import string
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol, cast

from remediate.errors import InputError
from remediate.transport.ssh import SshSettings
from remediate.transport.winrm import WinRMSettings

MAX_RANGE_HOSTS = 100_000
SECRET_MARKERS = ("pass", "secret", "token", "key_password")
MASK = "***"

ConnectionKind = Literal["winrm", "ssh"]
Dialect = Literal["powershell", "wsh"]

# --- data model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where something was written: file and line (no line for implicit things)."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Host:
    """One inventory host with its merged variables.

    `groups` holds every group the host belongs to, the most specific first (the reverse of
    the order in which group variables apply), `all` last.
    """

    name: str
    address: str
    port: int | None
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
    """A parsed inventory; `hosts` in Ansible's order for the pattern `all`."""

    path: str
    hosts: tuple[Host, ...]
    groups: Mapping[str, Group]

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
        for member in _descendants(self.groups, group):
            seen.update(dict.fromkeys(self.groups[member].hosts))
        return list(seen)


def _descendants(groups: Mapping[str, Any], name: str) -> list[str]:
    """The group then its descendants, level by level, each level in file order."""
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


def _show(value: Any, limit: int = 80) -> str:
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


# --- host patterns: host[:port] and ranges --------------------------------------------------

_NUM_RANGE = r"\[[0-9]+:[0-9]+(?::[0-9]+)?\]"
_ANY_RANGE = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_LABEL = rf"(?:\w|{_ANY_RANGE})(?:[\w-]|{_ANY_RANGE})*(?<![_-])"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.I)
_IPV4_PART = rf"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{_NUM_RANGE})"
_IPV4 = re.compile(rf"(?:{_IPV4_PART}\.){{3}}{_IPV4_PART}")
_BRACKETED_PORT = re.compile(r"\[(.+)\]:([0-9]+)")
_HOST_PORT = re.compile(r"((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)")


def _is_ipv6(text: str) -> bool:
    candidate = re.sub(_NUM_RANGE, "0", text)
    if "%" in candidate or "[" in candidate or ":" not in candidate:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _is_address(text: str) -> bool:
    return bool(_IPV4.fullmatch(text) or _is_ipv6(text) or _HOSTNAME.fullmatch(text))


def split_address(text: str) -> tuple[str, str | None] | None:
    """Ansible's parse_address with ranges: (host, port digits) or None when not an address."""
    port = None
    for pattern in (_BRACKETED_PORT, _HOST_PORT):
        match = pattern.fullmatch(text)
        if match:
            text, port = match.group(1), match.group(2)
    return (text, port) if _is_address(text) else None


def _range_values(body: str) -> list[str]:
    """The names one `[begin:end(:step)]` stands for; ValueError says why it is wrong."""
    bounds = body.split(":")
    if len(bounds) not in (2, 3):
        raise ValueError("a host range must be [begin:end] or [begin:end:step]")
    begin, end = bounds[0] or "0", bounds[1]
    step_text = bounds[2] if len(bounds) == 3 else "1"
    if not end:
        raise ValueError("a host range must give its end")
    if not step_text.isascii() or not step_text.isdigit() or int(step_text) < 1:
        raise ValueError("a host range step must be a whole number of at least 1")
    step = int(step_text)
    width = len(begin) if begin[0] == "0" and len(begin) > 1 else 0
    if width and len(end) != width:
        raise ValueError("a zero-padded host range needs begin and end of the same length")
    letters = string.ascii_letters
    if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
        first, last = letters.index(begin), letters.index(end)
        if first > last:
            raise ValueError("a host range must have begin <= end")
        return list(letters[first : last + 1 : step])
    if not (begin.isascii() and begin.isdigit() and end.isascii() and end.isdigit()):
        raise ValueError("host range bounds must be two numbers or two letters")
    if len(begin) > 18 or len(end) > 18:
        raise ValueError("host range bounds are too large")
    first, last = int(begin), int(end)
    if first > last:
        raise ValueError("a host range must have begin <= end (Ansible would give no host)")
    if (last - first) // step + 1 > MAX_RANGE_HOSTS:
        raise ValueError(f"a host range may give at most {MAX_RANGE_HOSTS} names")
    return [str(value).zfill(width) for value in range(first, last + 1, step)]


def expand_range(pattern: str) -> list[str]:
    """Every name a ranged host pattern stands for, in Ansible's order (ValueError if bad)."""
    parts: list[list[str]] = []
    rest = pattern
    while "[" in rest or "]" in rest:
        opening = rest.find("[")
        if opening < 0 or "]" in rest[:opening]:
            raise ValueError("unbalanced ']' in the host range")
        closing = rest.find("]", opening)
        if closing < 0:
            raise ValueError("unterminated '[' in the host range")
        parts += [[rest[:opening]], _range_values(rest[opening + 1 : closing])]
        rest = rest[closing + 1 :]
    parts.append([rest])
    if math.prod(len(values) for values in parts) > MAX_RANGE_HOSTS:
        raise ValueError(f"a host pattern may give at most {MAX_RANGE_HOSTS} names")
    return ["".join(combination) for combination in itertools.product(*parts)]


# --- INI parsing ----------------------------------------------------------------------------

_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")


@dataclass
class _GroupDraft:
    name: str
    line: int | None
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, int] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    priority: int = 1


@dataclass
class _HostDraft:
    name: str
    line: int
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, int] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


class _Parser:
    """One pass over the lines, as Ansible's plugin makes it, then the reconciliation."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.groups: dict[str, _GroupDraft] = {}
        self.hosts: dict[str, _HostDraft] = {}
        self.declared = {"all", "ungrouped"}
        self.vars_sections: dict[str, int] = {}
        self.pending: dict[str, list[tuple[str, int]]] = {}
        for name in ("all", "ungrouped"):
            self.groups[name] = _GroupDraft(name, None)
        self._link("all", "ungrouped", 0)

    def error(self, line: int | None, message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=self.source, line=line, hint=hint)

    def parse(self, lines: Iterable[str]) -> Inventory:
        group, state = "ungrouped", "hosts"
        handlers: dict[str, Callable[[str, str, int], None]] = {
            "hosts": self._host_line,
            "vars": self._var_line,
            "children": self._child_line,
        }
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            section = _SECTION.fullmatch(line)
            if section:
                group, state = self._section(section.group(1), section.group(2), number)
            elif line.startswith("[") and line.endswith("]"):
                raise self.error(
                    number,
                    f"invalid section header {_show(line)}",
                    hint="write [group], [group:children] or [group:vars], without spaces",
                )
            else:
                handlers[state](line, group, number)
        return self._finish()

    # sections and lines

    def _section(self, name: str, kind: str | None, line: int) -> tuple[str, str]:
        state = kind or "hosts"
        if state not in ("hosts", "children", "vars"):
            raise self.error(
                line,
                f"section [{name}:{kind}] has unknown type {kind!r}",
                hint="use [group], [group:children] or [group:vars]",
            )
        if name not in self.groups:
            self.groups[name] = _GroupDraft(name, line)
        if state == "vars":
            self.vars_sections.setdefault(name, line)
        elif name not in self.declared:
            self.declared.add(name)
            for parent, child_line in self.pending.pop(name, []):
                self._link(parent, name, child_line)
        return name, state

    def _host_line(self, line: str, group: str, number: int) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise self.error(
                number,
                f"cannot split the host line ({str(exc).lower()})",
                hint="close the quote; quote a value holding a space, quote or #",
            ) from None
        if not tokens:
            raise self.error(number, "expected a host name")
        names, port = self._host_pattern(tokens[0], number)
        variables: dict[str, Any] = {}
        for token in tokens[1:]:
            key, equals, value = token.partition("=")
            if not equals:
                raise self.error(
                    number,
                    f"expected key=value after the host name, got {_show(token)}",
                    hint="quote a value containing spaces",
                )
            if not key:
                raise self.error(number, f"a variable has no name in {_show(token)}")
            variables[key] = parse_value(value)
        for name in names:
            self._add_host(name, group, number, port, variables)

    def _host_pattern(self, token: str, line: int) -> tuple[list[str], int | None]:
        if token.strip() == "---":
            raise self.error(line, "'---' is not a host: is this a YAML inventory?")
        split = split_address(token)
        if split is None and token.startswith("[") and token.endswith("]"):
            split = (token[1:-1], None) if _is_ipv6(token[1:-1]) else None
        pattern, port_text = split if split else (token, None)
        if token.endswith(":") and port_text is None:
            raise self.error(line, f"host {_show(token)} ends with ':' but gives no port")
        try:
            names = expand_range(pattern) if "[" in pattern or "]" in pattern else [pattern]
        except ValueError as exc:
            raise self.error(line, f"bad host range in {_show(token)}: {exc}") from None
        for name in names:
            self._check_name(name, token, line)
        return names, self._port(port_text, token, line)

    def _check_name(self, name: str, token: str, line: int) -> None:
        if not name:
            raise self.error(line, f"empty host name in {_show(token)}")
        if ":" in name and not _is_ipv6(name):
            raise self.error(
                line,
                f"{_show(token)} is not a host name, host:port or IPv6 address (bad port?)",
                hint="write host:port with a numeric port, and [ipv6]:port for IPv6",
            )

    def _port(self, text: str | None, token: str, line: int) -> int | None:
        if text is None:
            return None
        port = int(text) if len(text) <= 6 else 0
        if not 1 <= port <= 65535:
            raise self.error(line, f"bad port in {_show(token)}: ports are 1 to 65535")
        return port

    def _add_host(
        self, name: str, group: str, line: int, port: int | None, variables: dict[str, Any]
    ) -> None:
        host = self.hosts.setdefault(name, _HostDraft(name, line))
        if group not in host.groups:
            host.groups.append(group)
            self.groups[group].hosts.append(name)
        if port is not None:
            host.vars["ansible_port"], host.origins["ansible_port"] = port, line
        for key, value in variables.items():
            host.vars[key], host.origins[key] = value, line

    def _var_line(self, line: str, group: str, number: int) -> None:
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key:
            raise self.error(number, f"expected key=value in [{group}:vars], got {_show(line)}")
        parsed = parse_value(value.strip())
        draft = self.groups[group]
        if key == "ansible_group_priority":
            draft.priority = self._priority(parsed, number)
            return
        draft.vars[key], draft.origins[key] = parsed, number

    def _priority(self, value: Any, line: int) -> int:
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            message = f"ansible_group_priority must be a number, not {_show(value)}"
            raise self.error(line, message) from None

    def _child_line(self, line: str, group: str, number: int) -> None:
        match = _GROUP_NAME.fullmatch(line)
        if not match:
            raise self.error(
                number, f"expected a group name in [{group}:children], got {_show(line)}"
            )
        child = match.group(1)
        if child == "all":
            raise self.error(number, "the group 'all' cannot be a child of another group")
        if child in self.declared:
            self._link(group, child, number)
        else:
            self.pending.setdefault(child, []).append((group, number))

    def _link(self, parent: str, child: str, line: int) -> None:
        draft = self.groups[parent]
        if child in draft.children:
            return
        if child == parent or parent in _descendants(self.groups, child):
            raise self.error(
                line, f"making {child!r} a child of {parent!r} creates a loop of groups"
            )
        draft.children.append(child)
        self.groups[child].parents.append(parent)

    # reconciliation

    def _finish(self) -> Inventory:
        self._check_undefined()
        for name, draft in self.groups.items():
            if name != "all" and not draft.parents:
                self._link("all", name, draft.line or 0)
        self._reconcile_ungrouped()
        depths = self._depths()
        groups = {name: self._group(draft, depths[name]) for name, draft in self.groups.items()}
        order = [name for name in Inventory("", (), groups).hosts_of("all")]
        hosts = tuple(self._host(self.hosts[name], groups) for name in order)
        return Inventory(self.source, hosts, MappingProxyType(groups))

    def _check_undefined(self) -> None:
        problems: list[tuple[int, str]] = []
        for child, references in self.pending.items():
            parent, line = references[0]
            problems.append(
                (line, f"section [{parent}:children] includes undefined group {child!r}")
            )
        for name, line in self.vars_sections.items():
            if name not in self.declared:
                problems.append(
                    (line, f"section [{name}:vars] not valid for undefined group {name!r}")
                )
        if problems:
            line, message = min(problems)
            raise self.error(line, message, hint="declare the group with a [group] section")

    def _reconcile_ungrouped(self) -> None:
        ungrouped = self.groups["ungrouped"]
        for host in self.hosts.values():
            memberships = set(self._ancestors(host.groups)) - {"all", "ungrouped"}
            if "ungrouped" in host.groups and memberships:
                host.groups.remove("ungrouped")
                ungrouped.hosts.remove(host.name)
            elif not memberships and "ungrouped" not in host.groups:
                host.groups.append("ungrouped")
                ungrouped.hosts.append(host.name)

    def _ancestors(self, names: Iterable[str]) -> list[str]:
        found: dict[str, None] = {}
        stack = list(names)
        while stack:
            name = stack.pop()
            if name not in found:
                found[name] = None
                stack += self.groups[name].parents
        return list(found)

    def _depths(self) -> dict[str, int]:
        """Longest distance from `all`, as Ansible's group depth (the graph has no loop)."""
        waiting = {name: len(draft.parents) for name, draft in self.groups.items()}
        depths = dict.fromkeys(self.groups, 0)
        ready = [name for name, count in waiting.items() if count == 0]
        while ready:
            name = ready.pop()
            for child in self.groups[name].children:
                depths[child] = max(depths[child], depths[name] + 1)
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return depths

    def _group(self, draft: _GroupDraft, depth: int) -> Group:
        return Group(
            name=draft.name,
            vars=MappingProxyType(dict(draft.vars)),
            hosts=tuple(draft.hosts),
            children=tuple(draft.children),
            parents=tuple(draft.parents),
            depth=depth,
            priority=draft.priority,
            origins=MappingProxyType(
                {key: Origin(self.source, line) for key, line in draft.origins.items()}
            ),
            source=Origin(self.source, draft.line) if draft.line else None,
        )

    def _host(self, draft: _HostDraft, groups: Mapping[str, Group]) -> Host:
        applied = sorted(
            (groups[name] for name in self._ancestors(draft.groups)),
            key=lambda group: (group.depth, group.priority, group.name),
        )
        merged: dict[str, Any] = {}
        origins: dict[str, Origin] = {}
        for group in applied:
            merged.update(group.vars)
            origins.update(group.origins)
        merged.update(draft.vars)
        origins.update({key: Origin(self.source, line) for key, line in draft.origins.items()})
        host = Host(
            name=draft.name,
            address=draft.name,
            port=None,
            vars=MappingProxyType(merged),
            groups=tuple(group.name for group in reversed(applied)),
            origins=MappingProxyType(origins),
            source=Origin(self.source, draft.line),
        )
        return _with_address(host)


def parse_inventory(text: str, source: str = "<inventory>") -> Inventory:
    """Parse INI inventory text; any problem is an InputError naming `source` and the line."""
    return _Parser(source).parse(text.removeprefix("\ufeff").splitlines())


def load_inventory(path: str | Path) -> Inventory:
    """Read and parse an INI inventory file."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise InputError("is a directory, not an inventory file", file=source) from None
    except OSError as exc:
        raise InputError(f"cannot read the inventory: {exc.strerror or exc}", file=source) from None
    return parse_inventory(_decode(data, source), source)


def _decode(data: bytes, source: str) -> str:
    """UTF-8 text; as Ansible, undecodable comment lines are blanked, other lines refused."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = []
    for number, line in enumerate(data.splitlines(), start=1):
        if line.lstrip()[:1] in (b"#", b";"):
            lines.append("")
            continue
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(
                "the line is not UTF-8 text", file=source, line=number, hint="save as UTF-8"
            ) from None
    return "\n".join(lines)


# --- connection variables -------------------------------------------------------------------

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "winrm": {
        "host": ("ansible_winrm_host", "ansible_psrp_host", "ansible_host", "ansible_ssh_host"),
        "port": ("ansible_winrm_port", "ansible_psrp_port", "ansible_port", "ansible_ssh_port"),
        "user": ("ansible_winrm_user", "ansible_psrp_user", "ansible_user", "ansible_ssh_user"),
        "password": (
            "ansible_winrm_password",
            "ansible_winrm_pass",
            "ansible_psrp_password",
            "ansible_psrp_pass",
            "ansible_password",
            "ansible_ssh_password",
            "ansible_ssh_pass",
        ),
        "transport": ("ansible_winrm_transport", "ansible_psrp_auth"),
        "scheme": ("ansible_winrm_scheme", "ansible_psrp_protocol"),
        "cert_validation": (
            "ansible_winrm_server_cert_validation",
            "ansible_psrp_cert_validation",
        ),
        "ca_trust_path": ("ansible_winrm_ca_trust_path", "ansible_psrp_ca_cert"),
        "message_encryption": (
            "ansible_winrm_message_encryption",
            "ansible_psrp_message_encryption",
        ),
        "operation_timeout": (
            "ansible_winrm_operation_timeout_sec",
            "ansible_psrp_operation_timeout",
        ),
        "read_timeout": ("ansible_winrm_read_timeout_sec", "ansible_psrp_read_timeout"),
    },
    "ssh": {
        "host": ("ansible_ssh_host", "ansible_host"),
        "port": ("ansible_ssh_port", "ansible_port"),
        "user": ("ansible_ssh_user", "ansible_user"),
        "password": ("ansible_ssh_password", "ansible_ssh_pass", "ansible_password"),
        "key_file": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    },
    "any": {
        "host": ("ansible_host", "ansible_ssh_host", "ansible_winrm_host"),
        "port": ("ansible_port", "ansible_ssh_port", "ansible_winrm_port"),
        "connection": ("ansible_connection",),
        "shell": ("remediate_shell",),
        "known_hosts": ("remediate_known_hosts",),
    },
}

WINRM_TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate", "ssl", "plaintext")
_CONNECTIONS: dict[str, ConnectionKind] = {
    "winrm": "winrm",
    "psrp": "winrm",
    "ssh": "ssh",
    "paramiko": "ssh",
    "paramiko_ssh": "ssh",
}
_OPTIONAL_AUTH = {
    "kerberos": (("kerberos", "winkerberos"), "pywinrm[kerberos]"),
    "credssp": (("requests_credssp",), "pywinrm[credssp]"),
}


class Revealable(Protocol):
    """A secret whose value is read on purpose (`remediate.connect.credentials.Secret`)."""

    def reveal(self) -> str: ...


def _names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The `remediate_*` form of every `ansible_*` name first, then the names themselves."""
    ours = tuple(
        "remediate_" + n.removeprefix("ansible_") for n in names if n.startswith("ansible_")
    )
    return tuple(dict.fromkeys(ours + names))


def _lookup(host: Host, names: tuple[str, ...]) -> tuple[str, Any] | None:
    """The first of these variables the host sets (to something other than None)."""
    for name in _names(names):
        if host.vars.get(name) is not None:
            return name, host.vars[name]
    return None


def _aliases(host: Host, setting: str) -> tuple[str, ...]:
    """The variable names of a setting, for the host's connection, most specific first."""
    kind = _kind_or_none(host)
    for table in (_ALIASES[kind] if kind else {}, _ALIASES["any"], _ALIASES["winrm"]):
        if setting in table:
            return table[setting]
    return _ALIASES["ssh"][setting]


def _var_error(host: Host, name: str, message: str, hint: str | None = None) -> InputError:
    origin = host.origin(name)
    return InputError(
        message,
        hint=hint,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        host=host.name,
    )


def _text(host: Host, name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):  # Ansible makes `ansible_password=1234` a string again
        try:
            return str(value)
        except ValueError:
            pass
    raise _var_error(host, name, f"{name}={_show(value)} is not a string")


def _setting_text(host: Host, setting: str) -> tuple[str, str] | None:
    """(variable name, text value) of a setting, or None when unset."""
    found = _lookup(host, _aliases(host, setting))
    return None if found is None else (found[0], _text(host, *found))


def _kind_or_none(host: Host) -> ConnectionKind | None:
    found = _lookup(host, _ALIASES["any"]["connection"])
    if found is None:
        return "winrm"
    if not isinstance(found[1], str):
        return None
    return _CONNECTIONS.get(found[1].strip().lower().rsplit(".", 1)[-1])


def connection_kind(host: Host) -> ConnectionKind:
    """`winrm` (also for psrp, and by default) or `ssh`, from `ansible_connection`."""
    kind = _kind_or_none(host)
    if kind is None:
        name, value = _lookup(host, _ALIASES["any"]["connection"]) or ("ansible_connection", "")
        raise _var_error(
            host,
            name,
            f"{name}={_show(value)} is not a connection remediate can use",
            hint="use winrm, psrp or ssh",
        )
    return kind


def _port_value(host: Host, name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 6 else 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _var_error(host, name, f"{name}={_show(value)} is not a port (1 to 65535)")
    return value


def _with_address(host: Host) -> Host:
    """The host with its address and port resolved from its variables (bad port: error)."""
    address = _setting_text(host, "host")
    port = _lookup(host, _aliases(host, "port"))
    resolved = _port_value(host, *port) if port else None
    return Host(
        name=host.name,
        address=address[1] if address else host.name,
        port=resolved,
        vars=host.vars,
        groups=host.groups,
        origins=host.origins,
        source=host.source,
    )


def shell_dialect(host: Host) -> Dialect | None:
    """The dialect `remediate_shell` fixes, or None to detect it."""
    found = _setting_text(host, "shell")
    if found is None:
        return None
    value = found[1].strip().lower()
    if value in ("powershell", "wsh"):
        return cast(Dialect, value)
    raise _var_error(
        host, found[0], f"{found[0]}={found[1]!r} is not a shell", "use powershell or wsh"
    )


def host_user(host: Host) -> str:
    """The user name the inventory gives for this host ("" when none)."""
    found = _setting_text(host, "user")
    return found[1] if found else ""


def inventory_password(host: Host) -> tuple[str, str] | None:
    """(variable name, password) when the inventory sets the host's password."""
    return _setting_text(host, "password")


def _choice(host: Host, setting: str, allowed: tuple[str, ...], default: str) -> str:
    found = _setting_text(host, setting)
    if found is None:
        return default
    value = found[1].strip().lower()
    if value not in allowed:
        raise _var_error(
            host,
            found[0],
            f"{found[0]}={found[1]!r} is not valid",
            hint="use one of: " + ", ".join(allowed),
        )
    return value


def _transport(host: Host) -> str:
    found = _lookup(host, _aliases(host, "transport"))
    if found is None:
        return "ntlm"
    name, value = found
    if isinstance(value, list):
        value = value[0] if value else ""
    text = _text(host, name, value).split(",")[0].strip().lower()
    text = "ntlm" if text == "negotiate" else text
    if text not in WINRM_TRANSPORTS:
        raise _var_error(
            host,
            name,
            f"{name}={_show(found[1])} is not a WinRM transport",
            hint="use one of: " + ", ".join(WINRM_TRANSPORTS),
        )
    return text


def _importable(modules: tuple[str, ...]) -> bool:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def _seconds(host: Host, setting: str, default: int) -> int:
    found = _lookup(host, _aliases(host, setting))
    if found is None:
        return default
    name, value = found
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 9 else 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _var_error(host, name, f"{name}={_show(value)} is not a number of seconds")
    return value


def _check_auth(host: Host, transport: str, scheme: str, allow_insecure: bool) -> None:
    name = (_lookup(host, _aliases(host, "transport")) or ("ansible_winrm_transport", None))[0]
    if transport == "certificate":
        raise _var_error(
            host,
            name,
            f"{name}=certificate: client certificate authentication is not supported yet",
            hint="use ntlm, kerberos or credssp",
        )
    if transport in _OPTIONAL_AUTH:
        modules, extra = _OPTIONAL_AUTH[transport]
        if not _importable(modules):
            raise _var_error(
                host,
                name,
                f"{name}={transport} needs a library that is not installed",
                hint=f"pip install '{extra}'",
            )
    if scheme == "http" and transport in ("basic", "ssl") and not allow_insecure:
        raise _var_error(
            host,
            name,
            f"Basic authentication over plain HTTP ({name}={transport}, scheme http) "
            "would send the password in clear",
            hint="use HTTPS (port 5986) or ntlm/kerberos; to accept the risk pass "
            "--allow-insecure or set ansible_winrm_transport=plaintext",
        )


def _password(host: Host, given: str | Revealable | None) -> str | None:
    found = inventory_password(host)
    if found is not None:
        return found[1]
    if given is None or isinstance(given, str):
        return given
    return given.reveal()


def _winrm_settings(host: Host, allow_insecure: bool, password: str | None) -> WinRMSettings:
    port = host.port if host.port is not None else 5986
    scheme = _choice(host, "scheme", ("http", "https"), "http" if port == 5985 else "https")
    transport = _transport(host)
    _check_auth(host, transport, scheme, allow_insecure)
    operation = _seconds(host, "operation_timeout", 20)
    read = _seconds(host, "read_timeout", operation + 10)
    if read <= operation:
        name = _lookup(host, _aliases(host, "read_timeout")) or ("ansible_winrm_read_timeout_sec",)
        raise _var_error(
            host, name[0], "the read timeout must be longer than the operation timeout"
        )
    ca_path = _setting_text(host, "ca_trust_path")
    validation = _choice(host, "cert_validation", ("validate", "ignore"), "validate")
    encryption = _choice(host, "message_encryption", ("auto", "always", "never"), "auto")
    return WinRMSettings(
        address=host.address,
        port=port,
        scheme=scheme,  # type: ignore[arg-type]
        auth=transport,
        username=host_user(host),
        password=password or "",
        validate_certificate=validation == "validate",
        ca_trust_path=str(Path(ca_path[1]).expanduser()) if ca_path else None,
        message_encryption=encryption,  # type: ignore[arg-type]
        operation_timeout=operation,
        read_timeout=read,
    )


def _ssh_settings(
    host: Host, password: str | None, accept_new: bool, known_hosts: Iterable[str]
) -> SshSettings:
    key_file = _setting_text(host, "key_file")
    files = [str(Path(path).expanduser()) for path in _known_hosts(host)]
    files += [str(path) for path in known_hosts if str(path) not in files]
    return SshSettings(
        address=host.address,
        port=host.port if host.port is not None else 22,
        username=host_user(host),
        password=password,
        key_file=str(Path(key_file[1]).expanduser()) if key_file else None,
        known_hosts=tuple(files),
        accept_new_host_keys=accept_new,
    )


def _known_hosts(host: Host) -> list[str]:
    found = _lookup(host, _ALIASES["any"]["known_hosts"])
    if found is None:
        return []
    name, value = found
    values = value if isinstance(value, list) else [value]
    return [_text(host, name, item) for item in values]


def connection_settings(
    host: Host,
    *,
    allow_insecure: bool = False,
    password: str | Revealable | None = None,
    accept_new_host_keys: bool = False,
    known_hosts: Iterable[str] = (),
) -> WinRMSettings | SshSettings:
    """How to reach `host`, from its variables; `password` is used when the inventory has none.

    The type says which transport: WinRMSettings or SshSettings. Known-hosts files from
    `remediate_known_hosts` come before `known_hosts` (new keys are saved to the first).
    """
    kind = connection_kind(host)
    secret = _password(host, password)
    if kind == "ssh":
        return _ssh_settings(host, secret, accept_new_host_keys, known_hosts)
    return _winrm_settings(host, allow_insecure, secret)


# --- describe -------------------------------------------------------------------------------


def describe(host: Host, settings: WinRMSettings | SshSettings | None) -> list[tuple[str, str]]:
    """Rows for `remediate inventory --vars`: connection, then every variable; secrets masked."""
    rows = [("host", host.name), ("address", host.address), ("groups", ", ".join(host.groups))]
    if isinstance(settings, WinRMSettings):
        rows += [
            ("connection", "winrm"),
            ("endpoint", settings.endpoint),
            ("auth", settings.auth),
            ("user", settings.username or "(none)"),
            ("password", MASK if settings.password else "(none)"),
            ("certificate", "validate" if settings.validate_certificate else "ignore"),
            ("ca trust path", settings.ca_trust_path or "(system)"),
            ("message encryption", settings.message_encryption),
            (
                "timeouts",
                f"operation {settings.operation_timeout} s, read {settings.read_timeout} s",
            ),
        ]
    elif isinstance(settings, SshSettings):
        rows += [
            ("connection", "ssh"),
            ("endpoint", f"ssh://{settings.address}:{settings.port}"),
            ("user", settings.username or "(none)"),
            ("password", MASK if settings.password else "(none)"),
            ("key file", settings.key_file or "(none)"),
            ("known hosts", ", ".join(settings.known_hosts) or "(system)"),
        ]
    for name in sorted(host.vars):
        shown = MASK if is_secret_name(name) else _show(host.vars[name], limit=200)
        rows.append((name, f"{shown}  ({host.origin(name)})"))
    return rows


# --- host patterns (--limit) ----------------------------------------------------------------

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
        raise InputError(f"invalid host pattern {_show(expression)}: {exc}") from None
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
            f"host pattern {_show(pattern)} matches no host or group of {inventory.path}",
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
        raise InputError(f"no host matched the subscripted pattern {_show(pattern)}") from None


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
        raise InputError(f"the host pattern {_show(pattern)} selects no host")
    return [inventory.by_name[name] for name in names]
