"""Windows file versions: parsing and numeric comparison (no I/O).

`5.00.2614.3300` equals `5.0.2614.3300`; three-part versions compare as if the fourth part
were 0; a suffix such as ` (xpsp.080413-2111)` is ignored. Parts are compared as numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_LEADING = re.compile(r"^\s*v?(\d+)(?:[.,](\d+))?(?:[.,](\d+))?(?:[.,](\d+))?")


class VersionError(ValueError):
    """Text that holds no version number."""


@total_ordering
@dataclass(frozen=True)
class FileVersion:
    major: int
    minor: int = 0
    build: int = 0
    revision: int = 0

    @classmethod
    def parse(cls, text: str) -> FileVersion:
        """Read the leading numeric parts of `text` (VersionError when there are none)."""
        match = _LEADING.match(text or "")
        if match is None:
            raise VersionError(f"not a version: {text[:80]!r}")
        if any(len(p.lstrip("0")) > 5 for p in match.groups() if p):  # int() of 5,000 digits
            raise VersionError(f"version part above 65535: {text[:80]!r}")  # not int's ValueError
        parts = [int(p.lstrip("0") or "0") if p is not None else 0 for p in match.groups()]
        if any(p > 0xFFFF for p in parts[1:]) or parts[0] > 0xFFFF:
            raise VersionError(f"version part above 65535: {text[:80]!r}")
        return cls(*parts)

    @property
    def parts(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.build, self.revision)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FileVersion):
            return NotImplemented
        return self.parts < other.parts

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


def parse_version(text: str) -> FileVersion:
    return FileVersion.parse(text)


def compare(left: str, right: str) -> int:
    """-1, 0 or 1 as `left` is older, equal or newer than `right`."""
    a, b = FileVersion.parse(left), FileVersion.parse(right)
    return (a > b) - (a < b)
