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


def os_family(version: str) -> str:
    """`5.2.3790` -> `w2k3`; anything newer than 6.3 is `w2016` (and later)."""
    return FAMILIES.get(".".join(version.split(".")[:2]), "w2016")
