"""The framed output of every shipped script: escaping-proof, counted, and terminated.

A script prints, and nothing else::

    REMEDIATE-OUTPUT 1 <script-name>
    <kind>\t<key>=<base64>\t<key>=<base64>...      one record per line
    REMEDIATE-END <record-count>

Every value is base64 of UTF-8, so no message, path or name can break a line or forge a
record. The parser is strict: a missing header, a foreign line, a bad field, a wrong count or
a missing end marker is an `OutputFormatError` naming the line, never a half-read result.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FORMAT_VERSION = 1
HEADER = "REMEDIATE-OUTPUT"
END = "REMEDIATE-END"
UTF8_BOM = b"\xef\xbb\xbf"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # record kinds and field keys alike


class OutputFormatError(ValueError):
    """Output that is not a complete, well-formed record stream."""


@dataclass(slots=True)  # not frozen: a frozen __init__ sets each field through object.__setattr__
class Record:
    """One record line, decoded. Built ~70 times per host, so kept a plain slotted class."""

    kind: str
    fields: Mapping[str, str]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def format_record(kind: str, fields: Mapping[str, object]) -> str:
    """One record line (without newline); None values are left out."""
    # binascii directly, a str taken as it is: the lab writes some 500 values per collector
    # answer, and base64.b64encode's checks and a call per value were most of their cost.
    encode = binascii.b2a_base64
    parts = [kind]
    for key, value in fields.items():
        if value is not None:
            text = value if type(value) is str else _text(value)  # a str subclass: its str()
            parts.append(f"{key}={encode(text.encode('utf-8'), newline=False).decode('ascii')}")
    return "\t".join(parts)


def format_output(script: str, records: Iterable[tuple[str, Mapping[str, object]]]) -> bytes:
    """A whole framed output, with Windows line endings as the scripts print it."""
    lines = [f"{HEADER} {FORMAT_VERSION} {script}"]
    lines += [format_record(kind, fields) for kind, fields in records]
    lines.append(f"{END} {len(lines) - 1}")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _describe(line: str) -> str:
    shown = line if len(line) <= 60 else line[:57] + "..."
    return repr(shown)


def parse_output(data: bytes, script: str) -> list[Record]:
    """Validate and decode a framed output of `script`; OutputFormatError when it is not one."""
    # PowerShell 2.0 runs on .NET 2.0, whose console writer puts the UTF-8 preamble (EF BB BF)
    # before the first output when the console code page is 65001, as our WinRM shells are
    # (dotnet/runtime#28929, "System.Console unexpectedly uses a UTF-8 encoding *with BOM* on
    # Windows"; ansible/ansible#15770). Those bytes are not ASCII: drop them before decoding.
    offset = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    try:
        text = data[offset:].decode("ascii")
    except UnicodeDecodeError as exc:
        raise OutputFormatError(
            f"output is not ASCII (byte {exc.start + offset}): not our framing"
        ) from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        raise OutputFormatError("the script printed nothing")
    header = lines[start].split(" ")
    if len(header) != 3 or header[0] != HEADER:
        raise OutputFormatError(
            f"line {start + 1}: expected the output header, got {_describe(lines[start])}"
        )
    if header[1] != str(FORMAT_VERSION):
        raise OutputFormatError(
            f"output format version {header[1]!r}, this tool reads {FORMAT_VERSION}"
        )
    if header[2] != script:
        raise OutputFormatError(f"output of script {header[2]!r}, expected {script!r}")
    records: list[Record] = []
    for number, line in enumerate(lines[start + 1 :], start=start + 2):
        if line.startswith(END):
            count = line[len(END) :].strip()
            if not count.isdigit() or int(count) != len(records):
                raise OutputFormatError(
                    f"line {number}: end marker counts {count or 'nothing'} records, "
                    f"{len(records)} were read (output damaged)"
                )
            if number != len(lines):
                raise OutputFormatError(f"line {number + 1}: output continues after the end marker")
            return records
        records.append(_parse_record(line, number))
    raise OutputFormatError(f"output truncated: no end marker after {len(records)} records")


_GOOD_NAMES: set[str] = set()  # names already checked: a few dozen, each seen thousands of times


def _good_name(name: str) -> bool:
    if name in _GOOD_NAMES:
        return True
    if _NAME.match(name) is None:
        return False
    _GOOD_NAMES.add(name)
    return True


def _parse_record(line: str, number: int) -> Record:
    kind, *parts = line.split("\t")
    if kind not in _GOOD_NAMES and not _good_name(kind):
        raise OutputFormatError(f"line {number}: not a record: {_describe(line)}")
    fields: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep or (key not in _GOOD_NAMES and not _good_name(key)):  # inline: the hot case
            raise OutputFormatError(f"line {number}: bad field {_describe(part)}")
        try:
            # strict_mode checks the alphabet and padding in C, as b64decode(validate=True)
            # does with a regular expression first (a third of a large collection's parse).
            raw = binascii.a2b_base64(value, strict_mode=True)
        except binascii.Error:
            raise OutputFormatError(f"line {number}: field {key!r} is not base64") from None
        # Text from a host may hold bytes that are not UTF-8 (a legacy code page in an event
        # message): keep the record, mark the bytes with U+FFFD.
        fields[key] = raw.decode("utf-8", "replace")  # positional: keywords cost a quarter more
    return Record(kind, fields)
