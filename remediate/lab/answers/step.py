"""The lab's answer to the `step` script: the result `step.ps1`/`step.js` would print on a host
built like the model, and the change the step makes to that model.

Components: the mechanism must fit the OS (sysocmgr below Windows 6.0, ocsetup on 6.0,
ServerManager from 6.1; otherwise Windows' error), and sysocmgr's `[Components]` answer file
sets `spec.components`. Services change state at once. KB840469: an MTA Stacks service that
`fails_to_start` starts only once the SMTP component was removed and installed again (and, on
Exchange 2000, Smtpreinstall.exe ran after that). A reboot takes the host down and moves its
boot time (the `boot_time` action reads it); a `run` step succeeds unless its program path holds
`missing`. Each host's steps are kept in `history`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from remediate.catalog.components import COMPONENTS
from remediate.lab.answers.execution import Execution
from remediate.lab.answers.win32 import (
    ERROR_FILE_NOT_FOUND,
    ERROR_SERVICE_DISABLED,
    ERROR_SERVICE_DOES_NOT_EXIST,
    ERROR_SERVICE_REQUEST_TIMEOUT,
    START_MODES,
    system_root,
)
from remediate.lab.features import feature_for
from remediate.lab.fleet import HostSpec, Service
from remediate.lab.host import LabHost
from remediate.probes.framing import format_output
from remediate.probes.protocol import DeclaredScript
from remediate.probes.quoting import quote_argument

FILE_NOT_FOUND = "The system cannot find the file specified."
NO_SERVER_MANAGER = (
    "The specified module 'ServerManager' was not loaded because no valid module file was found "
    "in any module directory."
)
OCSETUP_SUPERSEDED = (
    "ocsetup does not install features on Windows 6.1 and later: use servermanager."
)
NO_SERVICE = "The specified service does not exist as an installed service."
NETWORK_PATH_NOT_FOUND = "The network path was not found."
NO_SHA256 = (
    "Cannot check the copied file's SHA-256 on this host (System.Security.Cryptography."
    "SHA256Managed needs the .NET Framework 2.0): it was not run."
)
TIMED_OUT = "The service did not respond to the start or control request in a timely fashion."
DISABLED = (
    "The service cannot be started, either because it is disabled or because it has no enabled "
    "devices associated with it."
)
WMI_START_MODES = {"auto": "Automatic", "manual": "Manual", "disabled": "Disabled"}
COMPONENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SMTP_KEYS = {COMPONENTS["smtp"].oc_manager.lower(), "smtp-server"}  # OC Manager, ServerManager

_HISTORY: dict[str, list[str]] = {}
_FILES: dict[str, dict[str, bytes]] = {}  # what put_file and copies wrote, per host and path
_HISTORY_LOCK = threading.Lock()

Result = dict[str, object]


def history(host_name: str) -> list[str]:
    """What the steps did on a host, oldest first (`component iis_smtp off`, `run X.exe`...)."""
    with _HISTORY_LOCK:
        return list(_HISTORY.get(host_name, []))


def written_files(host_name: str) -> dict[str, bytes]:
    """The files steps wrote on a host (put_file, checked copies), by lowercase path."""
    with _HISTORY_LOCK:
        return dict(_FILES.get(host_name, {}))


def _record(host: LabHost, event: str) -> None:
    with _HISTORY_LOCK:
        _HISTORY.setdefault(host.name, []).append(event)


def _result(
    status: str, changed: bool, exit_code: int | None, command: str, message: str
) -> Result:
    return {
        "status": status,
        "changed": "1" if changed else "0",
        "exit_code": exit_code,
        "command": command,
        "message": message,
    }


def _failed(message: str, command: str = "", exit_code: int | None = None) -> Result:
    return _result("failed", False, exit_code, command, message)


def answer_step(host: LabHost, declared: DeclaredScript) -> Execution:
    """Compute the step's result and apply its change to the host model.

    An action the fleet gives `step_seconds` answers only after that long (the WinRS Receive
    keeps faulting with TimedOut meanwhile), and its change lands at the end, not at once: a
    controller that looks at the host while the installer still runs sees the old state.
    A step longer than the `timeout` of its arguments is stopped by the script at that limit
    (`_script_limit`), as the scripts do; see `_stopped`.
    """
    request = declared.arguments
    kind = str(request.get("action") or "") if isinstance(request, dict) else ""
    seconds = host.spec.step_seconds.get(kind, 0.0)  # type: ignore[call-overload]
    limit = _script_limit(request, declared.dialect)
    if seconds > 0 and limit is not None and seconds > limit:
        return _stopped(host, request, declared.dialect, seconds, limit)
    with host.lock:
        if seconds <= 0:
            result, restart = _answer(host, request, declared.dialect)
        else:
            before = _snapshot(host)
            result, restart = _answer(host, request, declared.dialect)
            after = _snapshot(host)
            _restore(host, before)
            timer = threading.Timer(seconds, _finish, (host, before, after, restart))
            timer.daemon = True
            timer.start()
            restart = False
    if restart:
        host.begin_reboot()
    return Execution(stdout=format_output("step", [("result", result)]), delay_seconds=seconds)


_Snapshot = tuple[dict[str, bool], list[dict[str, Any]], list[str]]

# What the scripts wait for, and how long: the `timeout` of the arguments (seconds), or their
# own default when it is absent (plans made before it travelled there).
SCRIPT_DEFAULT_LIMITS = {"component": 3600, "run": 3600, "service": 120}


def _script_limit(request: Any, dialect: str) -> int | None:
    """How long step.ps1/step.js wait for this action before they stop waiting; None when the
    script cannot stop it (Add-WindowsFeature runs inside step.ps1's own PowerShell: only the
    controller's wait bounds it)."""
    if not isinstance(request, dict):
        return None
    kind = str(request.get("action") or "")
    if kind not in SCRIPT_DEFAULT_LIMITS:
        return None
    if (
        kind == "component"
        and dialect == "powershell"
        and request.get("mechanism") == "servermanager"
    ):
        return None
    return _number(request.get("timeout"), SCRIPT_DEFAULT_LIMITS[kind])


def _stopped(
    host: LabHost, request: dict[str, Any], dialect: str, seconds: float, limit: int
) -> Execution:
    """A step that takes `seconds` on this host, past the script's `limit`: it answers failed
    at the limit with the script's message. step.ps1 kills the program (Process.Kill): its
    change never lands. step.js can stop only the cmd.exe it started (WshScriptExec.Terminate),
    so the program goes on and its change lands at `seconds`. A service the script stopped
    waiting for keeps starting or stopping: its change lands too. What needs no wait (refused,
    already in the state, a start mode) answers at once."""
    service = request.get("action") == "service"
    with host.lock:
        before = _snapshot(host)
        result, _ = _answer(host, request, dialect)
        waits = result.get("status") == "ok" and (
            not service
            or (request.get("op") in ("start", "stop", "restart") and result.get("changed") == "1")
        )
        if not waits:
            return Execution(stdout=format_output("step", [("result", result)]))
        after = _snapshot(host)
        _restore(host, before)
        if service or dialect != "powershell":
            timer = threading.Timer(seconds, _finish, (host, before, after, False))
            timer.daemon = True
            timer.start()
    command = _text(result.get("command"))
    if service:
        stopped = _failed(TIMED_OUT, command, ERROR_SERVICE_REQUEST_TIMEOUT)
    elif dialect == "powershell":
        stopped = _failed(f"The program did not finish within {limit} s and was stopped.", command)
    else:
        stopped = _failed(
            f"The program did not finish within {limit} s; its cmd.exe was stopped (the program "
            "itself may still run).",
            command,
        )
    return Execution(stdout=format_output("step", [("result", stopped)]), delay_seconds=limit)


def _snapshot(host: LabHost) -> _Snapshot:
    """What a step may change: components, services, the step history."""
    with _HISTORY_LOCK:
        events = list(_HISTORY.get(host.name, []))
    services = [service.model_dump() for service in host.spec.services]
    return dict(host.spec.components), services, events


def _restore(host: LabHost, snapshot: _Snapshot) -> None:
    components, services, events = snapshot
    host.spec.components.clear()
    host.spec.components.update(components)
    for live, saved in zip(host.spec.services, services, strict=True):
        for key, value in saved.items():
            setattr(live, key, value)
    with _HISTORY_LOCK:
        _HISTORY[host.name] = events


def _finish(host: LabHost, before: _Snapshot, after: _Snapshot, restart: bool) -> None:
    """A slow step's change lands when it ends (only what it changed, over what is now)."""
    with host.lock:
        for key, on in after[0].items():
            if before[0].get(key) != on:
                host.spec.components[key] = on
        for live, old, new in zip(host.spec.services, before[1], after[1], strict=True):
            for key, value in new.items():
                if old[key] != value:
                    setattr(live, key, value)
        with _HISTORY_LOCK:
            _HISTORY.setdefault(host.name, []).extend(after[2][len(before[2]) :])
    if restart:
        host.begin_reboot()


def _answer(host: LabHost, request: Any, dialect: str) -> tuple[Result, bool]:
    if not isinstance(request, dict):
        return _failed("arguments: the document is not an object."), False
    version = request.get("v")
    version_text = "1" if version == 1 else ("" if version is None else str(version))
    if version_text != "1":
        return _failed(f"step v1 cannot read arguments of version {version_text}."), False
    kind = str(request.get("action") or "")
    if kind == "component":
        return _component(host, request, dialect), False
    if kind == "service":
        return _service(host, request), False
    if kind == "reboot":
        return _reboot(host.spec, request)
    if kind == "run":
        return _run(host, request, dialect), False
    if kind == "put_file":
        return _put_file(host, request), False
    if kind == "boot_time":
        return _result("ok", False, 0, "", cim_datetime(host.booted_at)), False
    return _failed(f"unknown action '{kind}'."), False


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _system32(spec: HostSpec) -> str:
    return system_root(spec) + "\\system32"


def _os_number(spec: HostSpec) -> int:
    parts = [*spec.os.version.split("."), "0", "0"][:2]
    return int(parts[0]) * 10 + int(parts[1]) if all(p.isdigit() for p in parts) else 52


# -- components ------------------------------------------------------------------------------


def _misfit(spec: HostSpec, mechanism: str, command: str, dialect: str) -> Result | None:
    """Windows' error when the mechanism's tool is not how this OS installs components."""
    number = _os_number(spec)
    fits = "sysocmgr" if number < 60 else ("ocsetup" if number == 60 else "servermanager")
    if mechanism == fits:
        return None
    if mechanism == "servermanager" and dialect == "powershell":
        return _failed(NO_SERVER_MANAGER, command, 1)
    if mechanism == "ocsetup" and number > 60:
        return _failed(OCSETUP_SUPERSEDED, command, 1)
    return _failed(FILE_NOT_FOUND, command, ERROR_FILE_NOT_FOUND)


# A feature name the tool does not know. Add-WindowsFeature throws (its message as seen on
# 2008 R2 consoles; unverified against a Microsoft page); DISM and ocsetup end with
# CBS_E_UNKNOWN_UPDATE 0x800F080C, the exit code as WSH's Exec reports it (signed; unverified).
UNKNOWN_FEATURE_CODE = 0x800F080C - (1 << 32)


def _unknown_feature(name: str, mechanism: str, command: str, dialect: str) -> Result:
    if mechanism == "servermanager" and dialect == "powershell":
        return _failed(
            f"ArgumentNotValid: The role, role service, or feature name is not valid: "
            f"'{name}'. The name was not found.",
            command,
            1,
        )
    allowed = "0, 3010"
    return _failed(
        f"exit code {UNKNOWN_FEATURE_CODE} is not allowed ({allowed})",
        command,
        UNKNOWN_FEATURE_CODE,
    )


def _set_component(host: LabHost, key: str, on: bool) -> bool:
    """Set a component on or off; True when that changed it."""
    before = host.spec.components.get(key, False)
    host.spec.components[key] = on
    _record(host, f"component {key} {'on' if on else 'off'}")
    return before != on


def _unattended_components(unattend: str) -> list[tuple[str, bool]]:
    """The `name = on|off` lines of the answer file's [Components] section."""
    found: list[tuple[str, bool]] = []
    section = ""
    for raw in unattend.splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        key, sep, value = line.partition("=")
        if section == "components" and sep and value.strip().lower() in ("on", "off"):
            found.append((key.strip(), value.strip().lower() == "on"))
    return found


def _component(host: LabHost, request: dict[str, Any], dialect: str) -> Result:
    spec = host.spec
    op, mechanism = _text(request.get("op")), _text(request.get("mechanism"))
    name = _text(request.get("name"))
    if op not in ("install", "remove"):
        return _failed(f"unknown component operation '{op}'.")
    if not COMPONENT_NAME.fullmatch(name):
        return _failed("invalid component name.")
    system32 = _system32(spec)
    on = op == "install"
    if mechanism == "sysocmgr":
        unattend = _text(request.get("unattend"))
        if not unattend:
            return _failed("sysocmgr needs the unattend text.")
        answer_file = f"{system_root(spec)}\\TEMP\\remediate-{uuid.uuid4().hex}.inf"
        command = (
            f"{quote_argument(system32 + chr(92) + 'sysocmgr.exe')} "
            f'/i:{system_root(spec)}\\inf\\sysoc.inf /u:"{answer_file}" /q /r'
        )
        misfit = _misfit(spec, mechanism, command, dialect)
        if misfit is not None:
            return misfit
        before = spec.components.get(name, False)
        for key, wanted in _unattended_components(unattend):
            _set_component(host, key, wanted)
        return _result("ok", spec.components.get(name, False) != before, 0, command, "exit code 0")
    if mechanism == "ocsetup":
        uninstall = "" if on else " /uninstall"
        command = (
            f"{quote_argument(system32 + chr(92) + 'ocsetup.exe')} "
            f"{quote_argument(name)}{uninstall} /quiet /norestart"
        )
    elif mechanism == "servermanager" and dialect == "powershell":
        verb = "Add-WindowsFeature" if on else "Remove-WindowsFeature"
        command = f"Import-Module ServerManager; {verb} {name}"
    elif mechanism == "servermanager":
        name = _text(request.get("dism")) or name  # step.js: DISM knows its own feature names
        if not COMPONENT_NAME.fullmatch(name):
            return _failed("invalid component name.")
        switch = "/enable-feature" if on else "/disable-feature"
        command = (
            f"{quote_argument(system32 + chr(92) + 'dism.exe')} /online {switch} "
            f"{quote_argument('/featurename:' + name)} /quiet /norestart"
        )
    else:
        return _failed(f"unknown component mechanism '{mechanism}'.")
    misfit = _misfit(spec, mechanism, command, dialect)
    if misfit is not None:
        return misfit
    tool = "dism" if mechanism == "servermanager" and dialect != "powershell" else mechanism
    feature = feature_for(name, tool)
    if feature is None:
        return _unknown_feature(name, mechanism, command, dialect)
    changed = _set_component(host, feature, on)
    if mechanism == "servermanager" and dialect == "powershell":
        return _result("ok", changed, 0, command, "Success" if changed else "NoChangeNeeded")
    return _result("ok", True, 0, command, "exit code 0")


# -- services --------------------------------------------------------------------------------


def _mta_may_start(host: LabHost, service: Service) -> bool:
    """KB840469: SMTP removed then installed again (then Smtpreinstall.exe on Exchange 2000),
    with no successful start of the service since that removal."""
    if service.name.lower() != "msexchangemta":
        return False
    with _HISTORY_LOCK:
        events = [e.lower() for e in _HISTORY.get(host.name, [])]
    removed = [i for i, e in enumerate(events) if e in {f"component {k} off" for k in SMTP_KEYS}]
    if not removed:
        return False
    after = events[removed[-1] :]
    if f"service {service.name.lower()} start" in after:
        return False
    installed = [i for i, e in enumerate(after) if e in {f"component {k} on" for k in SMTP_KEYS}]
    if not installed:
        return False
    exchange = host.spec.exchange
    if exchange is not None and exchange.version == "6.0":
        return "run smtpreinstall.exe" in after[installed[0] :]
    return True


def _start(host: LabHost, service: Service, command: str) -> Result:
    if service.state == "running":
        return _result("ok", False, 0, command, "the service is already running")
    if service.start_mode == "disabled":
        return _failed(DISABLED, command, ERROR_SERVICE_DISABLED)
    if service.fails_to_start and not _mta_may_start(host, service):
        return _failed(TIMED_OUT, command, ERROR_SERVICE_REQUEST_TIMEOUT)
    service.state, service.fails_to_start = "running", False
    _record(host, f"service {service.name} start")
    return _result("ok", True, 0, command, "the service is running")


def _stop(host: LabHost, service: Service, command: str) -> Result:
    if service.state == "stopped":
        return _result("ok", False, 0, command, "the service is already stopped")
    service.state = "stopped"
    _record(host, f"service {service.name} stop")
    return _result("ok", True, 0, command, "the service is stopped")


def _service(host: LabHost, request: dict[str, Any]) -> Result:
    op, name, mode = (_text(request.get(k)) for k in ("op", "name", "mode"))
    calls = {
        "start": "StartService()",
        "stop": "StopService()",
        "restart": "StopService() StartService()",
    }
    if op == "start_mode":
        if mode not in WMI_START_MODES:
            return _failed(f"unknown start mode '{mode}'.")
        calls["start_mode"] = f"ChangeStartMode({WMI_START_MODES[mode]})"
    if op not in calls:
        return _failed(f"unknown service operation '{op}'.")
    command = f"Win32_Service {quote_argument(name)} {calls[op]}"
    service = next((s for s in host.spec.services if s.name.lower() == name.lower()), None)
    if service is None:
        return _failed(NO_SERVICE, command, ERROR_SERVICE_DOES_NOT_EXIST)
    if op == "start":
        return _start(host, service, command)
    if op == "stop":
        return _stop(host, service, command)
    if op == "restart":
        stopped = _stop(host, service, command)
        if stopped["status"] != "ok":
            return stopped
        started = _start(host, service, command)
        if started["status"] == "ok":
            started.update(changed="1", message="the service was restarted")
        return started
    if START_MODES[service.start_mode] == START_MODES[mode]:
        return _result("ok", False, 0, command, "the start mode is already set")
    service.start_mode = mode  # type: ignore[assignment]
    _record(host, f"service {service.name} start_mode {mode}")
    return _result("ok", True, 0, command, "the start mode is set")


# -- reboot and programs ---------------------------------------------------------------------


def _number(value: Any, default: int) -> int:
    try:
        return max(0, int(float(value))) if value is not None else default
    except (TypeError, ValueError):
        return default


def _reboot(spec: HostSpec, request: dict[str, Any]) -> tuple[Result, bool]:
    """Win32_OperatingSystem.Win32Shutdown(2), or 6 (forced) with `force`: on every version.

    The scripts no longer run shutdown.exe, which Windows 2000 and NT 4.0 lack (Resource Kit
    only): the lab's command interpreter refuses it there (`commands.run_plain`). The delay the
    script waits before the call is not modelled: the host goes down at once.
    """
    flags = 6 if request.get("force") is True else 2
    command = f"Win32_OperatingSystem Win32Shutdown({flags})"
    return _result("ok", True, 0, command, "the host is restarting"), True


def cim_datetime(moment: float) -> str:
    """A time as WMI writes CIM_DATETIME values: yyyymmddHHMMSS.mmmmmm+UUU (UTC here)."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y%m%d%H%M%S.") + f"{stamp.microsecond:06d}+000"


# step.js starts programs under cmd.exe (their output to NUL, so a chatty program never fills a
# pipe): a command holding what cmd.exe cannot pass as data is refused, as the script does.
CMD_CANNOT_CARRY = (
    "The command holds % , a line break or an unpaired quote, which cmd.exe cannot pass to the "
    "program as data."
)


def _cmd_cannot_carry(command: str) -> bool:
    return bool(re.search(r"[%\r\n\x00]", command)) or command.count('"') % 2 == 1


def _run(host: LabHost, request: dict[str, Any], dialect: str = "powershell") -> Result:
    program = _text(request.get("program"))
    if not program:
        return _failed("no program given.")
    if request.get("copy") is not None:
        refused = _copy_checked(host, request.get("copy"), program, dialect)
        if refused is not None:
            return refused
    arguments = request.get("arguments")
    items = arguments if isinstance(arguments, list) else ([] if arguments is None else [arguments])
    command = " ".join([quote_argument(program), *(quote_argument(_text(a)) for a in items)])
    if dialect == "jscript" and _cmd_cannot_carry(command):
        return _failed(CMD_CANNOT_CARRY, command)
    if "missing" in program.lower():
        return _failed(FILE_NOT_FOUND, command, ERROR_FILE_NOT_FOUND)
    codes = request.get("allowed_exit_codes")
    allowed = [0] if codes is None else [int(float(c)) for c in (codes or [])]
    _record(host, f"run {program.replace('/', chr(92)).rsplit(chr(92), 1)[-1]}")
    if 0 in allowed:
        return _result("ok", True, 0, command, "exit code 0")
    listed = ", ".join(str(c) for c in allowed)
    return _failed(f"exit code 0 is not allowed ({listed})", command, 0)


# -- files: put_file, and the checked copy of a run step's program ---------------------------

SHA256_TEXT = re.compile(r"[0-9a-f]{64}")
ERROR_BAD_NETPATH = 53  # "The network path was not found." (System Error Codes 0-499)


def _files(host: LabHost) -> dict[str, bytes]:
    with _HISTORY_LOCK:
        return _FILES.setdefault(host.name, {})


def _put_file(host: LabHost, request: dict[str, Any]) -> Result:
    """One chunk: offset 0 creates or empties the file; any other offset must be its length."""
    path = _text(request.get("path"))
    if not path:
        return _failed("no path given.")
    offset = _number(request.get("offset"), 0)
    command = f"put_file {quote_argument(path)} at {offset}"
    try:
        data = base64.b64decode(_text(request.get("data")), validate=True)
    except (ValueError, binascii.Error):
        # [Convert]::FromBase64String throws a FormatException; MSXML's bin.base64 fails too.
        return _failed("Invalid character in a Base-64 string.", command)
    files = _files(host)
    key = path.lower()
    if offset > 0:
        length = len(files[key]) if key in files else -1
        if length != offset:
            return _failed(
                f"the file holds {length} bytes, not {offset}: a chunk is missing.", command
            )
        files[key] = files[key] + data
    else:
        files[key] = data
    return _result("ok", True, 0, command, f"{len(files[key])} bytes written")


def _copy_checked(host: LabHost, copy: Any, program: str, dialect: str) -> Result | None:
    """The host's side of copy_from: the file reaches `staged` (from a share the fleet declares,
    or from put_file), its SHA-256 is computed over the bytes received, and only a match
    replaces the program; None when it is in place, else the failed result."""
    copy = copy if isinstance(copy, dict) else {}
    source, staged = _text(copy.get("from")), _text(copy.get("staged"))
    wanted = _text(copy.get("sha256")).lower()
    command = f"copy {quote_argument(source or staged)} {quote_argument(program)}"
    if not staged or not SHA256_TEXT.fullmatch(wanted):
        return _failed("copy: the staged path and the sha256 are needed.")
    files = _files(host)
    if source:
        share = next((f for f in host.spec.shares if f.path.lower() == source.lower()), None)
        if share is None:
            return _failed(NETWORK_PATH_NOT_FOUND, command, ERROR_BAD_NETPATH)
        files[staged.lower()] = share.content.encode("utf-8")
    if staged.lower() not in files:
        return _failed(FILE_NOT_FOUND, command, ERROR_FILE_NOT_FOUND)
    if dialect != "powershell" and host.spec.os.dotnet is None:
        # WSH has no hash of its own: step.js asks .NET's SHA256Managed through COM.
        del files[staged.lower()]
        return _failed(NO_SHA256, command)
    found = hashlib.sha256(files[staged.lower()]).hexdigest()
    if found != wanted:
        del files[staged.lower()]
        return _failed(
            f"The copied file has SHA-256 {found}, not the planned {wanted}: it was not run.",
            command,
        )
    files[program.lower()] = files.pop(staged.lower())
    return None
