"""How Windows spells what the lab's answers share: service states and start modes as WMI's
Win32_Service reports them, the Windows error codes the step script reports, and `%SystemRoot%`
by Windows version."""

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

# Windows error code names (winerror.h): what step.ps1 reports for a missing program and for the
# Win32_Service return values 7 and 14, and for a service that does not exist.
ERROR_FILE_NOT_FOUND = 2
ERROR_SERVICE_REQUEST_TIMEOUT = 1053
ERROR_SERVICE_DISABLED = 1058
ERROR_SERVICE_DOES_NOT_EXIST = 1060


def system_root(spec: HostSpec) -> str:
    """`%SystemRoot%`: C:\\WINNT up to Windows 2000, C:\\WINDOWS after."""
    return "C:\\WINNT" if spec.os.family in ("nt4", "w2k") else "C:\\WINDOWS"
