"""One drafted step of a procedure, and how it is written as a playbook's remediation entry.

Why a module: the step is the procedure reader's output and the draft's input (kb.draft); it
turns names into a playbook entry (placeholders for a program's folder and copy source, a cut
instruction for a manual step) whatever layout the article used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from remediate.catalog.components import component_names

StepKind = Literal["windows_component", "service", "reboot", "run", "manual"]

MAX_INSTRUCTION = 1500
"""A manual step's text is cut here (with "..."): the step points at the article for the rest."""


@dataclass(frozen=True)
class ProcedureStep:
    """One drafted step: what to do (data), for which Exchange, and the article's words."""

    kind: StepKind
    text: str  # the article's words (the instruction of a manual step)
    when_version: str | None = None  # the Exchange version a sub-section is for
    component: str | None = None  # windows_component: logical name (catalog)
    service: str | None = None  # service: key name
    action: str | None = None  # install/remove; start/stop/restart
    program: str | None = None  # run: a file name in Exchange's bin folder
    copied: bool = False  # run: the article copies the program there first

    def playbook_step(self) -> dict[str, Any]:
        """The step as a playbook's remediation entry (see remediate.rules.playbook.Step)."""
        step: dict[str, Any] = {"step": self.kind}
        if self.kind == "windows_component":
            assert self.component is not None
            display = component_names(self.component).display_name
            verb = "Remove" if self.action == "remove" else "Add"
            step |= {"name": f"{verb} {display}", "action": self.action}
            step["component"] = self.component
        elif self.kind == "service":
            step |= {"name": f"{(self.action or 'start').capitalize()} {self.service}"}
            step |= {"service": self.service, "action": self.action}
        elif self.kind == "run":
            assert self.program is not None
            stem = re.sub(r"[^a-z0-9]+", "_", self.program.lower().removesuffix(".exe"))
            step["name"] = f"Run {self.program}"
            step["program"] = f"{{{{ exchange_root }}}}\\bin\\{self.program}"
            if self.copied:
                step["copy_from"] = f"{{{{ {stem}_source }}}}"
                step["copy_sha256"] = f"{{{{ {stem}_sha256 }}}}"
            step |= {"allowed_exit_codes": [0], "otherwise": "manual"}
            step["instruction"] = _cut(self.text)
        elif self.kind == "manual":
            step |= {"name": _short(self.text), "instruction": _cut(self.text)}
        if self.when_version:
            step["when"] = {"exchange_version": self.when_version}
        return step


def _cut(text: str) -> str:
    return text if len(text) <= MAX_INSTRUCTION else text[: MAX_INSTRUCTION - 3].rstrip() + "..."


def _short(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= 70 else first[:67].rstrip() + "..."
