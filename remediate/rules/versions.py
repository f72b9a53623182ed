"""Windows file versions: parsing and numeric comparison (no I/O).

`5.00.2614.3300` equals `5.0.2614.3300`; three-part versions compare as if the fourth part
were 0; a suffix such as ` (xpsp.080413-2111)` is ignored. Parts are compared as numbers.
Exchange updates are cumulative within a servicing branch (`servicing_branch`): `has_update`
and `update_needed` decide whether a build has one of a list of updates, CU by CU.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, total_ordering

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
        text = text or ""
        return _parsed(text) if len(text) <= _CACHED_TEXT else _parse(text)

    @property
    def parts(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.build, self.revision)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FileVersion):
            return NotImplemented
        return self.parts < other.parts

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


_CACHED_TEXT = 64  # longer texts (a host's odd version string) are parsed every time


@lru_cache(maxsize=4096)
def _parsed(text: str) -> FileVersion:
    """`_parse` once per text: every host's evaluation compares the same few dozen fixed
    versions from the playbooks, and the hosts of one fleet report the same builds."""
    return _parse(text)


def _parse(text: str) -> FileVersion:
    match = _LEADING.match(text)
    if match is None:
        raise VersionError(f"not a version: {text[:80]!r}")
    if any(len(p.lstrip("0")) > 5 for p in match.groups() if p):  # int() of 5,000 digits
        raise VersionError(f"version part above 65535: {text[:80]!r}")  # not int's ValueError
    parts = [int(p.lstrip("0") or "0") if p is not None else 0 for p in match.groups()]
    if any(p > 0xFFFF for p in parts[1:]) or parts[0] > 0xFFFF:
        raise VersionError(f"version part above 65535: {text[:80]!r}")
    return FileVersion(*parts)


def parse_version(text: str) -> FileVersion:
    return FileVersion.parse(text)


def compare(left: str, right: str) -> int:
    """-1, 0 or 1 as `left` is older, equal or newer than `right`."""
    a, b = FileVersion.parse(left), FileVersion.parse(right)
    return (a > b) - (a < b)


# -- Exchange updates: cumulative per servicing branch ------------------------------------------


def servicing_branch(version: FileVersion) -> tuple[int, ...]:
    """The branch an Exchange build is serviced in, within which updates are cumulative.

    From Exchange 2013 (15.x) on, a cumulative update (CU) is a branch of its own and its
    security updates (SU) and hotfix updates (HU) raise only the last part: every update of
    2019 CU14 is 15.2.1544.x. For 2007 (8.x) and 2010 (14.x) the service pack is the minor
    version (14.3 is 2010 SP3) and its rollups raise the build. Before them (5.5, 6.0, 6.5) hot
    fixes and service packs are one numbered line. (Microsoft, "Exchange Server build numbers
    and release dates"; CSS-Exchange HealthChecker compares SUs per CU the same way:
    Shared/CompareExchangeBuildLevel.ps1, Test-ExchangeBuildGreaterOrEqualThanSecurityPatch.)
    """
    if version.major >= 15:
        return (version.major, version.minor, version.build)
    return (version.major, version.minor)


def has_update(build: FileVersion, updates: Sequence[FileVersion]) -> bool:
    """Whether a server at `build` has one of `updates` (each the first build of an update).

    An update of the server's own branch counts when the build is at or above it. A branch
    later than every branch the updates name has them all: a later CU is cumulative. A branch
    between or before them, without an update of its own, has none. The rule of HealthChecker's
    Test-ExchangeBuildGreaterOrEqualThanSecurityPatch, so a build newer than any table is
    still compared by number."""
    if not updates:
        return False
    branch = servicing_branch(build)
    own = [u for u in updates if servicing_branch(u) == branch]
    if own:
        return build >= min(own)
    return all(servicing_branch(u) < branch for u in updates)


def update_needed(build: FileVersion, updates: Sequence[FileVersion]) -> FileVersion | None:
    """The least of `updates` that gives a server at `build` the fix: its branch's update, else
    the first update of a later branch; None when it has one already (or none is named)."""
    if not updates or has_update(build, updates):
        return None
    branch = servicing_branch(build)
    own = [u for u in updates if servicing_branch(u) == branch]
    later = [u for u in updates if servicing_branch(u) > branch]
    candidates = own or later
    return min(candidates) if candidates else None
