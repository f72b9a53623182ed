"""Facts about Windows versions (data, no I/O)."""

from __future__ import annotations

# major.minor of the OS version -> the short family names used by playbooks and steps
FAMILIES = {
    "4.0": "nt4",
    "5.0": "w2k",
    "5.1": "xp",
    "5.2": "w2k3",
    "6.0": "w2k8",
    "6.1": "w2k8r2",
    "6.2": "w2012",
    "6.3": "w2012r2",
}
# Windows Server 2016 to 2025 all report version 10.0 and differ by build: the first build of
# each release (Microsoft Learn, "Windows Server release information": 2016 is OS build 14393,
# 2019 17763, 2022 20348, 2025 26100). A build between two releases (the Semi-Annual Channel
# servers 1903 to 20H2, 18362 to 19042; Windows Server 23H2, 25398) takes the family of the
# release before it, whose remediation mechanisms it shares.
SERVER_10_BUILDS = ((26100, "w2025"), (20348, "w2022"), (17763, "w2019"), (14393, "w2016"))


def os_family(version: str) -> str:
    """`5.2.3790` -> `w2k3`, `10.0.17763` -> `w2019`. From 10.0 on the build names the
    release (SERVER_10_BUILDS); a version without a build, or below 14393, is `w2016`."""
    parts = version.split(".")
    family = FAMILIES.get(".".join(parts[:2]))
    if family is not None:
        return family
    build = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    return next((name for first, name in SERVER_10_BUILDS if build >= first), "w2016")
