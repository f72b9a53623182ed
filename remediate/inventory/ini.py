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
An inventory over MAX_INVENTORY_CHARS, a line over MAX_LINE_CHARS and a host pattern over
MAX_HOST_CHARS are refused with a clear error: every step of the reading is linear in the text.

The variables are read, merged and typed here, never interpreted: what `ansible_host` or
`ansible_winrm_transport` mean is `remediate.connect.variables`' business, as in Ansible, where
the INI plugin knows nothing of WinRM. `--limit` patterns are in `remediate.inventory.patterns`.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import re
import string
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from remediate.errors import InputError
from remediate.inventory.data import InventoryData
from remediate.inventory.model import Inventory, Origin, parse_value, show_value

MAX_RANGE_HOSTS = 100_000

MAX_INVENTORY_CHARS = 1024 * 1024
"""An inventory longer than this is refused before it is read. Reading is linear, but each host
costs the parser tens of microseconds (its variables merged, its groups walked): 1 MB is some
10,000 hosts with their variables, beyond any Exchange estate, and reads in a few seconds."""

MAX_LINE_CHARS = 64 * 1024
"""Lines are read up to this many characters (a host line with all its variables is well under
1 KB); a longer line is refused, naming it, before any pattern is tried on it."""

MAX_HOST_CHARS = 1024
"""Host names and host patterns are at most this long: a DNS name is at most 253 characters
(RFC 1035, 2.3.4; RFC 2181, 11), a ranged pattern a few more."""


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
    if ":" not in text:
        return False
    # A zone (`fe80::1%eth0`, RFC 4007 11.2) is kept, as Ansible keeps such a name verbatim.
    candidate = re.sub(_NUM_RANGE, "0", text)
    if "[" in candidate or ":" not in candidate:
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


# --- splitting a host line as shlex does ---------------------------------------------------

_PLAIN_LINE = re.compile(r"[^'\"\\#]*+")
_BLANKS = re.compile(r"[ \t\r\n]+")
_PIECE = re.compile(
    r"(?P<blank>[ \t\r\n]++)"
    r"|(?P<plain>[^ \t\r\n'\"\\#]++)"
    r"|'(?P<single>[^']*+)'"
    r'|"(?P<double>(?:[^"\\]++|\\[\s\S])*+)"'
    r"|\\(?P<escaped>[\s\S])"
    r"|(?P<comment>\#)"
)
_OPEN_DOUBLE = re.compile(r'"(?:[^"\\]++|\\[\s\S])*+')
_DOUBLE_ESCAPE = re.compile(r"\\([\s\S])")


def _unescape_double(match: re.Match[str]) -> str:
    # POSIX shell and shlex: inside double quotes a backslash escapes only `"` and itself.
    return match.group(1) if match.group(1) in '"\\' else match.group(0)


def split_line(line: str) -> list[str]:
    """`shlex.split(line, comments=True)`, token for token and error for error, in linear time.

    shlex reads a character at a time in Python (4 s for a 1 MB line); here each run of plain
    characters, each quoted string and each escape is one possessive match, so nothing is
    tried twice. ValueError("No closing quotation" / "No escaped character") as shlex.
    """
    if _PLAIN_LINE.fullmatch(line):
        return [token for token in _BLANKS.split(line) if token]
    tokens: list[str] = []
    current: list[str] | None = None
    position, end = 0, len(line)
    while position < end:
        match = _PIECE.match(line, position)
        if match is None:  # an unclosed quote, or a backslash at the end
            if line[position] == '"':
                opened = _OPEN_DOUBLE.match(line, position)
                position = opened.end() if opened else position
            if position < end and line[position] == "\\":
                raise ValueError("No escaped character")
            raise ValueError("No closing quotation")
        position = match.end()
        kind = match.lastgroup or ""
        if kind == "comment":
            break
        if kind == "blank":
            if current is not None:
                tokens.append("".join(current))
                current = None
            continue
        if current is None:
            current = []
        text = match.group(kind)
        current.append(_DOUBLE_ESCAPE.sub(_unescape_double, text) if kind == "double" else text)
    if current is not None:
        tokens.append("".join(current))
    return tokens


# --- INI parsing ----------------------------------------------------------------------------

_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")


class _Parser:
    """One pass over the lines, as Ansible's plugin makes it, into the shared inventory data.

    A group is declared by a `[group]` or `[group:children]` section of this file or by an
    earlier source; `:children` and `:vars` may name a group declared further down.
    """

    def __init__(self, source: str, data: InventoryData) -> None:
        self.source = source
        self.data = data
        self.declared = set(data.groups)
        self.vars_sections: dict[str, int] = {}
        self.pending: dict[str, list[tuple[str, int]]] = {}

    def at(self, line: int) -> Origin:
        return Origin(self.source, line)

    def error(self, line: int | None, message: str, hint: str | None = None) -> InputError:
        return InputError(message, file=self.source, line=line, hint=hint)

    def parse(self, lines: Iterable[str]) -> None:
        group, state = "ungrouped", "hosts"
        handlers: dict[str, Callable[[str, str, int], None]] = {
            "hosts": self._host_line,
            "vars": self._var_line,
            "children": self._child_line,
        }
        for number, raw in enumerate(lines, start=1):
            if len(raw) > MAX_LINE_CHARS:
                raise self.error(
                    number,
                    f"a line of {len(raw):,} characters is not an inventory line; lines are"
                    f" read up to {MAX_LINE_CHARS:,} characters",
                    hint="is this the right file? split the line",
                )
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            section = _SECTION.fullmatch(line)
            if section:
                group, state = self._section(section.group(1), section.group(2), number)
            elif line.startswith("[") and line.endswith("]"):
                raise self.error(
                    number,
                    f"invalid section header {show_value(line)}",
                    hint="write [group], [group:children] or [group:vars], without spaces",
                )
            else:
                handlers[state](line, group, number)
        self._check_undefined()

    # sections and lines

    def _section(self, name: str, kind: str | None, line: int) -> tuple[str, str]:
        state = kind or "hosts"
        if state not in ("hosts", "children", "vars"):
            raise self.error(
                line,
                f"section [{name}:{kind}] has unknown type {kind!r}",
                hint="use [group], [group:children] or [group:vars]",
            )
        self.data.add_group(name, self.at(line))
        if state == "vars":
            self.vars_sections.setdefault(name, line)
        elif name not in self.declared:
            self.declared.add(name)
            for parent, child_line in self.pending.pop(name, []):
                self.data.add_child(parent, name, self.at(child_line))
        return name, state

    def _host_line(self, line: str, group: str, number: int) -> None:
        try:
            tokens = split_line(line)
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
                    f"expected key=value after the host name, got {show_value(token)}",
                    hint="quote a value containing spaces",
                )
            if not key:
                raise self.error(number, f"a variable has no name in {show_value(token)}")
            variables[key] = parse_value(value)
        origin = self.at(number)
        for name in names:
            self.data.add_host(name, group, origin)
            if port is not None:
                self.data.set_host_var(name, "ansible_port", port, origin)
            for key, value in variables.items():
                self.data.set_host_var(name, key, value, origin)

    def _host_pattern(self, token: str, line: int) -> tuple[list[str], int | None]:
        if token.strip() == "---":
            raise self.error(line, "'---' is not a host: is this a YAML inventory?")
        if len(token) > MAX_HOST_CHARS:
            raise self.error(
                line,
                f"a host name or pattern of {len(token):,} characters ({show_value(token, 40)});"
                f" host patterns are at most {MAX_HOST_CHARS:,} characters",
                hint="a DNS name is at most 253 characters",
            )
        split = split_address(token)
        if split is None and token.startswith("[") and token.endswith("]"):
            split = (token[1:-1], None) if _is_ipv6(token[1:-1]) else None
        pattern, port_text = split if split else (token, None)
        if token.endswith(":") and port_text is None:
            raise self.error(
                line,
                f"host {show_value(token)} ends with ':' but gives no port",
                hint="is this a YAML inventory? name it .yml or .yaml",
            )
        try:
            names = expand_range(pattern) if "[" in pattern or "]" in pattern else [pattern]
        except ValueError as exc:
            raise self.error(line, f"bad host range in {show_value(token)}: {exc}") from None
        for name in names:
            self._check_name(name, token, line)
        return names, self._port(port_text, token, line)

    def _check_name(self, name: str, token: str, line: int) -> None:
        if not name:
            raise self.error(line, f"empty host name in {show_value(token)}")
        if ":" in name and not _is_ipv6(name):
            raise self.error(
                line,
                f"{show_value(token)} is not a host name, host:port or IPv6 address (bad port?)",
                hint="write host:port with a numeric port, and [ipv6]:port for IPv6",
            )

    def _port(self, text: str | None, token: str, line: int) -> int | None:
        if text is None:
            return None
        port = int(text) if len(text) <= 6 else 0
        if not 1 <= port <= 65535:
            raise self.error(line, f"bad port in {show_value(token)}: ports are 1 to 65535")
        return port

    def _var_line(self, line: str, group: str, number: int) -> None:
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not key:
            raise self.error(
                number, f"expected key=value in [{group}:vars], got {show_value(line)}"
            )
        self.data.set_group_var(group, key, parse_value(value.strip()), self.at(number))

    def _child_line(self, line: str, group: str, number: int) -> None:
        match = _GROUP_NAME.fullmatch(line)
        if not match:
            raise self.error(
                number, f"expected a group name in [{group}:children], got {show_value(line)}"
            )
        child = match.group(1)
        if child == "all":
            raise self.error(number, "the group 'all' cannot be a child of another group")
        if child in self.declared:
            self.data.add_child(group, child, self.at(number))
        else:
            self.pending.setdefault(child, []).append((group, number))

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


def read_ini(text: str, source: str, data: InventoryData) -> None:
    """Add an INI inventory's groups, hosts and variables to `data` (InputError if bad)."""
    if len(text) > MAX_INVENTORY_CHARS:
        raise InputError(
            f"the inventory is {len(text):,} characters; inventories are read up to"
            f" {MAX_INVENTORY_CHARS:,}",
            file=source,
            hint="split it into several inventories, or check that this is an inventory",
        )
    _Parser(source, data).parse(text.removeprefix("\ufeff").splitlines())


def parse_inventory(text: str, source: str = "<inventory>") -> Inventory:
    """Parse INI inventory text alone; any problem is an InputError naming `source` and line."""
    data = InventoryData()
    read_ini(text, source, data)
    return data.build(source)


def load_inventory(path: str | Path) -> Inventory:
    """Read and parse an INI inventory file."""
    source = str(path)
    try:
        with Path(path).open("rb") as stream:
            data = stream.read(MAX_INVENTORY_CHARS * 4 + 1)  # UTF-8: up to 4 bytes a character
    except IsADirectoryError:
        raise InputError("is a directory, not an inventory file", file=source) from None
    except OSError as exc:
        raise InputError(f"cannot read the inventory: {exc.strerror or exc}", file=source) from None
    if len(data) > MAX_INVENTORY_CHARS * 4:
        raise InputError(
            f"the inventory is more than {MAX_INVENTORY_CHARS * 4:,} bytes; inventories are"
            f" read up to {MAX_INVENTORY_CHARS:,} characters",
            file=source,
            hint="split it into several inventories, or check that this is an inventory",
        )
    return parse_inventory(decode_inventory(data, source), source)


def decode_inventory(data: bytes, source: str) -> str:
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
