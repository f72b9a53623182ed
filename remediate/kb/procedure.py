"""Remediation steps drafted from the procedure an article's RESOLUTION gives.

Why: many articles fix a problem by a procedure (remove and re-add a Windows component,
restart a service or the computer, run a program from Exchange's folder) rather than by a
service pack. A draft whose only step is "see the article" leaves all of that to the reviewer;
here the listed steps become playbook steps, in the article's order.

Steps are data, never code: a kind and a name looked up in a table (procedure_names) or in
the catalog (`remediate.catalog.components`), or a program whose file name is checked and whose
folder is one those tables know. The article's words go only into manual steps' text. A list
item that is not understood becomes a manual step with its text: nothing the article asks for is
dropped, except the clicks that lead to an action drafted as a step (Start, Control Panel, Next,
OK).

Reading is one pass over the lines and one over the items: linear in the article. Lines
become items (procedure_items), each item's clauses are classified (procedure_clauses); this
module joins clauses into units (a click with the action it leads to, a copy with its run) and
units into steps (procedure_step).
"""

from __future__ import annotations

import re
from typing import Any

from remediate.kb.procedure_clauses import Unit, classify
from remediate.kb.procedure_items import NO_SCOPE, Item, list_items
from remediate.kb.procedure_step import ProcedureStep
from remediate.kb.read import normalise, split_sections

__all__ = ["ProcedureStep", "procedure_steps", "read_procedure", "resolution_text"]

_CLAUSES = re.compile(
    r"(?<=[.!?])[ \t]+(?=[A-Z])|(?<![Ss]top)[ \t]+and[ \t]+then[ \t]+|,[ \t]+and[ \t]+then[ \t]+"
    r"|,[ \t]+and[ \t]+(?=[a-z])|;[ \t]+"
)
_CONDITION = re.compile(r"(?:If|Unless|Otherwise|Whether|YES|NO)\b")
_BUTTON = re.compile(r"click[ \t]+(Start|Stop|Restart)[ \t]*[.,]?", re.I)


def _pick_service(units: list[Unit], unit: Unit) -> bool:
    """A service picked in the Services tool, then a button: "Right-click X, and then click
    Stop" is one service step (True: `unit` joined the one before)."""
    button = _BUTTON.fullmatch(unit.text)
    last = units[-1] if units else None
    if button is None or last is None or last.kind not in ("pick", "service"):
        return False
    word = button.group(1).lower()
    if last.kind == "pick":
        last.kind, last.action = "service", word
    elif last.action == "stop" and word == "start":
        last.action = "restart"
    else:
        return False
    last.texts += unit.texts
    return True


def _units(items: list[Item]) -> list[Unit]:
    """The clauses of every item, classified; each keeps its words and the link after it."""
    units: list[Unit] = []
    for item in items:
        first = len(units)
        start = 0
        conditional = False  # after "If ...", "NO." or a question, an action is the reader's call
        for cut in [*_CLAUSES.finditer(item.text), None]:
            end = cut.start() if cut else len(item.text)
            clause = item.text[start:end].strip()
            if clause:
                conditional = conditional or bool(_CONDITION.match(clause))
                unit = classify(clause, item.scope, item.segment)
                if conditional and unit.kind in (*_ACTIONS, "copy", "reboot"):
                    unit.kind = "other"
                conditional = conditional or clause.endswith("?")
                unit.texts = [item.text[start : cut.end() if cut else end].strip()]
                if not (len(units) > first and _pick_service(units, unit)):
                    units.append(unit)
            start = cut.end() if cut else end
        for unit in units[first:]:
            if unit.kind == "pick":
                unit.kind = "other"  # a service picked for something else (its properties)
    return units


_ACTIONS = ("component", "service", "run")


def _absorb(units: list[Unit]) -> list[Unit]:
    """Clicks and notes join the action they lead to (or follow); copies join their run."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        unit = units[i]
        if unit.kind not in ("nav", "note"):
            out.append(unit)
            i += 1
            continue
        j = i
        while (
            j < len(units) and units[j].kind in ("nav", "note") and units[j].segment == unit.segment
        ):
            j += 1
        texts = [text for u in units[i:j] for text in u.texts]
        after = units[j] if j < len(units) and units[j].segment == unit.segment else None
        before = out[-1] if out and out[-1].segment == unit.segment else None
        if after is not None and after.kind in _ACTIONS and units[i].kind == "nav":
            after.texts[:0] = texts
        elif before is not None and before.kind in (*_ACTIONS, "copy", "other"):
            before.texts += texts
        elif after is not None and after.kind in ("other", "copy"):
            after.texts[:0] = texts
        else:
            out.append(Unit("other", " ".join(texts), unit.scope, unit.segment, texts=texts))
        i = j
    merged: list[Unit] = []
    for unit in out:
        last = merged[-1] if merged and merged[-1].segment == unit.segment else None
        if (
            unit.kind == "run"
            and last is not None
            and last.kind == "copy"
            and (last.value is None or last.value.lower() == (unit.value or "").lower())
        ):
            unit.copied, unit.texts = True, last.texts + unit.texts
            merged[-1] = unit
            continue
        if unit.kind == "copy" and last is not None and last.kind == "copy" and unit.value is None:
            last.texts += unit.texts
            continue
        if unit.kind in ("other", "copy") and last is not None and last.kind in ("other", "copy"):
            last.kind = "other"
            last.texts += unit.texts
            continue
        if unit.kind == "reboot" and last is not None and last.kind == "reboot":
            last.texts += unit.texts
            continue
        merged.append(unit)
    return merged


def _step(unit: Unit) -> list[ProcedureStep]:
    text = " ".join(unit.texts)
    when = unit.scope if unit.scope != NO_SCOPE else None
    if unit.kind == "component" and unit.action == "reinstall":
        return [
            ProcedureStep("windows_component", text, when, component=unit.value, action="remove"),
            ProcedureStep("windows_component", text, when, component=unit.value, action="install"),
        ]
    if unit.kind == "component":
        return [ProcedureStep("windows_component", text, when, unit.value, action=unit.action)]
    if unit.kind == "service":
        return [ProcedureStep("service", text, when, service=unit.value, action=unit.action)]
    if unit.kind == "reboot":
        return [ProcedureStep("reboot", text, when)]
    if unit.kind == "run":
        return [ProcedureStep("run", text, when, program=unit.value, copied=unit.copied)]
    return [ProcedureStep("manual", text, when)]


# --------------------------------------------------------------------------- entry points


def resolution_text(text: str) -> str:
    """The article's RESOLUTION sections, in order (normalised text)."""
    text = normalise(text)
    return "\n".join(text[s.start : s.end] for s in split_sections(text) if s.name == "RESOLUTION")


def read_procedure(text: str) -> list[ProcedureStep]:
    """The steps of the procedure the article's RESOLUTION lists ([] when it lists none)."""
    return [
        step for unit in _absorb(_units(list_items(resolution_text(text)))) for step in _step(unit)
    ]


def procedure_steps(text: str) -> list[dict[str, Any]]:
    """The playbook remediation entries drafted from the article's RESOLUTION procedure."""
    return [step.playbook_step() for step in read_procedure(text)]
