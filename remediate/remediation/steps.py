"""From a playbook's remediation steps to the concrete steps for one host (no I/O).

A logical component becomes the mechanism of the host's OS: sysocmgr with a generated
`[Components]` unattend file on Windows 2000/2003, `ocsetup` on Vista/2008, ServerManager on
2008 R2 and later. `{{ name }}` in a step takes a host variable from the inventory or a fact
(`exchange_root`); a `run` step whose variable is missing becomes the `manual` step it names
in `otherwise`, or is an error. `when` keeps a step to hosts whose facts match.
"""

from __future__ import annotations

import hashlib
import re
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from remediate.catalog.components import component_names
from remediate.catalog.windows import os_family
from remediate.errors import InputError
from remediate.remediation.plan import DEFAULT_STEP_TIMEOUTS, FileCopy, PlannedStep
from remediate.rules.evidence import Evidence
from remediate.rules.playbook import Playbook, Step

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
OC_MANAGER_FAMILIES = ("nt4", "w2k", "xp", "w2k3")
DEFAULT_REBOOT_DELAY = 5


class StepError(InputError):
    """A playbook step that cannot be made concrete for a host."""


def mechanism_for(family: str) -> str:
    """How optional components are installed on an OS family."""
    if family in OC_MANAGER_FAMILIES:
        return "sysocmgr"
    if family == "w2k8":
        return "ocsetup"
    return "servermanager"


def unattend(oc_name: str, on: bool) -> str:
    """The sysocmgr answer file that turns one OC Manager subcomponent on or off."""
    return f"[Components]\r\n{oc_name} = {'on' if on else 'off'}\r\n"


def facts_of(evidence: Evidence) -> dict[str, str]:
    exchange = evidence.exchange
    return {
        "exchange_version": exchange.version if exchange else "",
        "exchange_root": exchange.install_root if exchange else "",
        "os_family": os_family(evidence.os.version),
        "hostname": evidence.os.hostname,
    }


def _applies(step: Step, facts: dict[str, str]) -> bool:
    if not step.when:
        return True
    return all(str(facts.get(key, "")) == str(value) for key, value in step.when.items())


def _fill(text: str, values: Mapping[str, Any]) -> tuple[str, list[str]]:
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values or values[name] in (None, ""):
            missing.append(name)
            return match.group(0)
        return str(values[name])

    return _VARIABLE.sub(value, text), missing


def plan_steps(
    playbook: Playbook, evidence: Evidence, host_vars: Mapping[str, Any]
) -> list[PlannedStep]:
    """The playbook's steps for this host, in order, with what each will run.

    `host_vars` (the inventory's, over the facts) is read only for the names a step uses: a
    rendered host's variables are templated as they are read.
    """
    facts = facts_of(evidence)
    values: Mapping[str, Any] = ChainMap(host_vars, facts)  # type: ignore[arg-type]
    steps: list[PlannedStep] = []
    for step in playbook.remediation:
        if not _applies(step, facts):
            continue
        extra = step.model_extra or {}
        label = step.name or step.step
        index = len(steps) + 1
        if step.step == "windows_component":
            planned = _component(index, label, extra, facts["os_family"])
            # The script stops sysocmgr/ocsetup/DISM after this long; the controller waits a
            # margin more (PlannedStep.wait_seconds).
            limit = step.timeout or DEFAULT_STEP_TIMEOUTS["windows_component"]
            arguments = {**(planned.arguments or {}), "timeout": limit}
            steps.append(
                planned.model_copy(update={"timeout": step.timeout, "arguments": arguments})
            )
        elif step.step == "service":
            name, action = str(extra.get("service", "")), str(extra.get("action", "start"))
            if not name:
                raise StepError(f"{playbook.id}: step {label!r} names no service")
            arguments = {
                "action": "service",
                "op": action,
                "name": name,
                "mode": extra.get("mode"),
                # The script waits this long for the state; the controller a margin more.
                "timeout": step.timeout or DEFAULT_STEP_TIMEOUTS["service"],
            }
            wanted = {"start": "running", "restart": "running", "stop": "stopped"}.get(action)
            steps.append(
                PlannedStep(
                    index=index,
                    kind="service",
                    name=label,
                    display=f"{action} service {name}",
                    arguments=arguments,
                    timeout=step.timeout,
                    goal={"service": name, "state": wanted} if wanted else None,
                )
            )
        elif step.step == "reboot":
            delay = int(extra.get("delay", DEFAULT_REBOOT_DELAY))
            steps.append(
                PlannedStep(
                    index=index,
                    kind="reboot",
                    name=label,
                    display=f"restart (WMI Win32Shutdown) after {delay} s, then wait for the host",
                    arguments={"action": "reboot", "delay": delay},
                    timeout=step.timeout,
                )
            )
        elif step.step == "run":
            steps.append(_run(index, label, extra, values, playbook.id, step.timeout))
            if step.copy_from is not None and steps[-1].kind == "run":
                steps[-1] = _with_copy(steps[-1], step, playbook, values)
        elif step.step == "manual":
            instruction, _ = _fill(str(extra.get("instruction", label)), values)
            steps.append(
                PlannedStep(
                    index=index,
                    kind="manual",
                    name=label,
                    display=f"operator: {instruction}",
                    instruction=instruction,
                )
            )
        else:
            steps.append(
                PlannedStep(
                    index=index,
                    kind="verify",
                    name=label,
                    display=f"audit {playbook.id} again on this host",
                )
            )
    return steps


def _component(index: int, label: str, extra: dict[str, Any], family: str) -> PlannedStep:
    logical = str(extra.get("component", ""))
    action = str(extra.get("action", "install"))
    if action not in ("install", "remove"):
        raise StepError(f"step {label!r}: action must be install or remove, not {action!r}")
    try:
        names = component_names(logical)
    except KeyError as exc:
        raise StepError(f"step {label!r}: {exc.args[0]}") from None
    mechanism = mechanism_for(family)
    on = action == "install"
    if mechanism == "sysocmgr":
        answer = unattend(names.oc_manager, on)
        arguments = {
            "action": "component",
            "op": action,
            "mechanism": mechanism,
            "name": names.oc_manager,
            "unattend": answer,
        }
        display = (
            f"sysocmgr.exe /i:%windir%\\inf\\sysoc.inf /u:<answer file> /q /r  "
            f"with answer file: {answer.strip()!r}"
        )
    elif mechanism == "ocsetup":
        arguments = {
            "action": "component",
            "op": action,
            "mechanism": mechanism,
            "name": names.ocsetup,
        }
        display = f"start /w ocsetup {names.ocsetup}{'' if on else ' /uninstall'}"
    else:
        arguments = {
            "action": "component",
            "op": action,
            "mechanism": mechanism,
            "name": names.server_manager,
            "dism": names.dism,  # what step.js gives dism.exe (no ServerManager module in WSH)
        }
        verb = "Add-WindowsFeature" if on else "Remove-WindowsFeature"
        display = f"Import-Module ServerManager; {verb} {names.server_manager}"
    return PlannedStep(
        index=index,
        kind="windows_component",
        name=label,
        display=display,
        arguments=arguments,
        goal={"component": logical, "installed": on},
    )


def _run(
    index: int,
    label: str,
    extra: dict[str, Any],
    values: Mapping[str, Any],
    article: str,
    timeout: int | None,
) -> PlannedStep:
    program, missing = _fill(str(extra.get("program", "")), values)
    arguments = []
    for argument in extra.get("arguments", []):  # a variable missing here counts as well
        filled, unset = _fill(str(argument), values)
        arguments.append(filled)
        missing += unset
    if missing:
        if extra.get("otherwise") == "manual":
            instruction = str(extra.get("instruction", label))
            note = f" (set {', '.join(sorted(set(missing)))} in the inventory to run it for you)"
            return PlannedStep(
                index=index,
                kind="manual",
                name=label,
                display=f"operator: {instruction}{note}",
                instruction=instruction + note,
            )
        raise StepError(
            f"{article}: step {label!r} needs the inventory variable(s) "
            f"{', '.join(sorted(set(missing)))}",
            hint="add them to the host or group vars",
        )
    codes = [int(c) for c in extra.get("allowed_exit_codes", [0])]
    display = " ".join([program, *arguments]) + f"  (allowed exit codes {codes})"
    return PlannedStep(
        index=index,
        kind="run",
        name=label,
        display=display,
        arguments={
            "action": "run",
            "program": program,
            "arguments": arguments,
            "allowed_exit_codes": codes,
            # The script stops the program after this long; the controller waits a margin more.
            "timeout": timeout or DEFAULT_STEP_TIMEOUTS["run"],
        },
        timeout=timeout,
    )


# -- copy_from: a run step's program, copied to the host and checked by SHA-256 --------------

_SHA256 = re.compile(r"[0-9a-f]{64}")
_DRIVE_PATH = re.compile(r"^[A-Za-z]:\\[^\\]")
STAGED_SUFFIX = ".remediate-copy"


def file_sha256(path: Path) -> tuple[int, str]:
    """(size, SHA-256 hex) of a controller file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)
            size += len(piece)
    return size, digest.hexdigest()


def _with_copy(
    planned: PlannedStep, step: Step, playbook: Playbook, values: Mapping[str, Any]
) -> PlannedStep:
    """The run step with the copy of its program: source, destination, size and SHA-256.

    The only I/O of planning: a controller file is read here, so that the plan (and the
    approval of its hash) fixes the content that may run.
    """
    where = f"{playbook.source or playbook.id}" + (f":{step.line}" if step.line else "")
    label = f"{where}: step {planned.name!r}"
    source, missing = _fill(str(step.copy_from), values)
    pinned, unset = _fill(step.copy_sha256 or "", values)
    pinned = "" if unset else pinned  # optional: a controller file is hashed here
    if missing:
        names = ", ".join(sorted(set(missing)))
        extra = step.model_extra or {}
        if extra.get("otherwise") == "manual":
            instruction = str(extra.get("instruction", planned.name))
            note = f" (set {names} in the inventory to copy and run it for you)"
            return PlannedStep(
                index=planned.index,
                kind="manual",
                name=planned.name,
                display=f"operator: {instruction}{note}",
                instruction=instruction + note,
            )
        raise StepError(
            f"{label}: copy_from needs the inventory variable(s) {names}",
            hint="add them to the host or group vars",
        )
    pinned = pinned.strip().lower()
    if pinned and not _SHA256.fullmatch(pinned):
        raise StepError(f"{label}: copy_sha256 {pinned[:80]!r} is not 64 hex digits")
    arguments = dict(planned.arguments or {})
    destination = str(arguments.get("program", ""))
    if not _DRIVE_PATH.match(destination):
        raise StepError(
            f"{label}: copy_from needs program to be the absolute path the file is copied to "
            f"(such as C:\\Program Files\\Exchsrvr\\bin\\x.exe), not {destination!r}"
        )
    if source.startswith("\\\\"):
        if not pinned:
            raise StepError(
                f"{label}: copy_from {source} is a share the controller does not read: "
                "give its copy_sha256, so that the plan fixes what may run"
            )
        copy = FileCopy(
            source=source,
            origin="share",
            destination=destination,
            staged=destination + STAGED_SUFFIX,
            sha256=pinned,
        )
    else:
        path = Path(source).expanduser()
        if not path.is_absolute() and playbook.source:
            path = Path(playbook.source).resolve().parent / path
        if not path.is_file():
            raise StepError(f"{label}: copy_from {path}: no such file on the controller")
        try:
            size, sha256 = file_sha256(path)
        except OSError as exc:
            raise StepError(f"{label}: copy_from {path}: cannot read: {exc.strerror}") from None
        if pinned and pinned != sha256:
            raise StepError(
                f"{label}: copy_from {path} has sha256 {sha256}, not its copy_sha256 {pinned}"
            )
        copy = FileCopy(
            source=str(path),
            origin="controller",
            destination=destination,
            staged=destination + STAGED_SUFFIX,
            size=size,
            sha256=sha256,
        )
    # What the host reads (paths as data in the arguments document, never as code): a share
    # to copy from ("" when the controller sends the file in put_file chunks), where the file
    # is assembled, and the hash it must have before it replaces the program and runs.
    arguments["copy"] = {
        "from": copy.source if copy.origin == "share" else "",
        "staged": copy.staged,
        "sha256": copy.sha256,
    }
    return planned.model_copy(
        update={
            "arguments": arguments,
            "copy_file": copy,
            "display": f"{copy.describe()}, check its sha256 there, then run {planned.display}",
        }
    )
