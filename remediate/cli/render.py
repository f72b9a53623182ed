"""Terminal renderings (rich) of playbooks, findings and summaries.

Anything that came from a host or a playbook is printed as text, never as markup, and
stripped of terminal control sequences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from remediate.rules.playbook import ComponentSelection, EventSelection, Playbook, ServiceSelection

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: object, limit: int = 500) -> str:
    """Remote or playbook text made safe for a terminal: no escapes, bounded length."""
    cleaned = _CONTROL.sub("", str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def playbook_text(playbook: Playbook) -> Iterable[RenderableType]:
    yield Text(f"{playbook.id}: {safe(playbook.title)}", style="bold")
    yield Text(f"severity {playbook.severity}; references {', '.join(playbook.references) or '-'}")
    ranges = []
    for product in playbook.applies_to.products:
        bounds = []
        if product.min_sp is not None:
            bounds.append(f"SP{product.min_sp}+")
        if product.max_sp is not None:
            bounds.append(f"up to SP{product.max_sp}")
        ranges.append(f"Exchange {product.version} {' '.join(bounds)}".strip())
    yield Text("applies to: " + "; ".join(ranges))
    if playbook.symptoms is not None:
        table = Table(title=f"symptoms (condition: {safe(playbook.symptoms.condition)})")
        for column in ("selection", "what"):
            table.add_column(column)
        for name, selection in playbook.symptoms.selections.items():
            if isinstance(selection, EventSelection):
                what = (
                    f"{selection.log}: {'/'.join(selection.source) or 'any source'} "
                    f"event {'/'.join(map(str, selection.event_ids)) or 'any'}"
                )
                if selection.codes:
                    what += f" with {', '.join(selection.codes)}"
                if selection.data_contains:
                    what += f" data {selection.data_contains}"
                if selection.count:
                    what += (
                        f" x{selection.count.min} within {selection.count.within or 'the window'}"
                    )
            elif isinstance(selection, ServiceSelection):
                what = f"service {selection.service} {selection.state}"
            elif isinstance(selection, ComponentSelection):
                state = "installed" if selection.installed else "removed"
                what = f"component {selection.component} {state}"
            table.add_row(Text(name), Text(safe(what)))
        yield table
    fix = playbook.fix
    if fix.fixed_in:
        yield Text(f"first fixed in Exchange {fix.fixed_in.version} SP{fix.fixed_in.service_pack}")
    if fix.files:
        table = Table(title="fix table")
        for column in ("file", "version", "folder", "platform"):
            table.add_column(column)
        for row in fix.files:
            table.add_row(
                Text(row.file),
                Text(row.version or "N/A (presence)"),
                Text(row.folder),
                Text(row.platform or "-"),
            )
        yield table
    for requirement in fix.requires:
        yield Text(f"requires: {requirement.model_dump()}")
    if playbook.remediation:
        yield Text("remediation:", style="bold")
        for number, step in enumerate(playbook.remediation, start=1):
            label = step.name or step.step
            when = f" (when {step.when})" if step.when else ""
            yield Text(f"  {number}. [{step.step}] {safe(label)}{when}")
