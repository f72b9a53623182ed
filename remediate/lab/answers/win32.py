"""How Windows spells what the lab's answers share: service states and start modes as WMI's
Win32_Service reports them, and `%SystemRoot%` by Windows version."""

from __future__ import annotations

from remediate.lab.fleet import HostSpec

SERVICE_STATES = {
    "running": "Running",
    "stopped": "Stopped",
    "start_pending": "Start Pending",
    "stop_pending": "Stop Pending",
    "paused": "Paused",
}
START_MODES = {"auto": "Auto", "manual": "Manual", "disabled": "Disabled"}


def system_root(spec: HostSpec) -> str:
    """`%SystemRoot%`: C:\\WINNT up to Windows 2000, C:\\WINDOWS after."""
    return "C:\\WINNT" if spec.os.family in ("nt4", "w2k") else "C:\\WINDOWS"
