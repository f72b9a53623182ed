"""The Markdown summary: the one-screen answer and the server overview, for mail and tickets.

Plain text first: cron mails it as it is, a ticket quotes it, and a Markdown viewer shows the
same words as tables. Counts are of servers (hosts), not findings: "7 of 21 servers need
action" is what a reader acts on. Everything that came from a host (names, messages, facts)
goes through `escape`, so a `|` cannot end a table cell and `<script>` stays text.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from remediate.report.reporter import ReportContext, Reporter
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, WORST_FIRST, Status
from remediate.rules.results import AuditRun, HostResult

MAX_ROWS = 200
"""Servers listed in the overview; the rest are counted (the HTML report lists them all)."""
MAX_CELL = 120
"""Characters of one cell from a host (a message can be a page of text)."""

# A host's worst status is the first of WORST_FIRST among its findings.
_RANK = {status: rank for rank, status in enumerate(WORST_FIRST)}
_SEVERITY = {name: rank for rank, name in enumerate(("critical", "high", "medium", "low"))}

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# CommonMark lets a backslash escape any ASCII punctuation (spec 0.31, "Backslash escapes");
# these are the ones that can start markup in the middle of a line: emphasis, code, links and
# images, raw HTML, entities, strikethrough, and GFM's table cells. Host text never starts a
# line here, so the line-start markers (#, -, +, 1.) need no escape and names stay readable
# as plain text. An escaped `<` is text, so no raw HTML reaches a viewer that renders it.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def escape(value: object, limit: int = MAX_CELL) -> str:
    """Host-supplied text as one line of inert Markdown: control characters and line breaks
    become spaces, markup characters are backslash-escaped, at most `limit` characters kept."""
    text = _CONTROL.sub(" ", "" if value is None else str(value)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return _SPECIAL.sub(r"\\\1", text)


@dataclass(frozen=True)
class ServerRow:
    """One line of the server overview."""

    host: str
    os: str
    exchange: str
    worst: Status | None
    next_step: str


def worst_status(result: HostResult) -> Status | None:
    """The most urgent status among the host's findings (None: no finding at all)."""
    statuses = [f.status for f in result.findings]
    if result.failed and not statuses:
        return Status.ERROR
    return min(statuses, key=_RANK.__getitem__) if statuses else None


def server_state(result: HostResult) -> str:
    """`action`, `not_audited` or `compliant`: the three piles the summary counts."""
    statuses = {f.status for f in result.findings}
    if statuses & NON_COMPLIANT:
        return "action"
    if result.failed or statuses & UNDETERMINED:
        return "not_audited"
    return "compliant"


def next_step(result: HostResult, inventory: str) -> str:
    """What to do about this host, in words and (when there is one) the command to start it."""
    needing = [f.playbook for f in result.findings if f.status in NON_COMPLIANT]
    if needing:
        reboot_only = all(
            f.status is Status.NEEDS_REBOOT for f in result.findings if f.status in NON_COMPLIANT
        )
        if reboot_only:
            return "restart the server to finish the installed fix"
        first = needing[0]
        more = f" (and {len(needing) - 1} more article(s))" if len(needing) > 1 else ""
        command = shlex.join(
            ["remediate", "plan", inventory, "--playbook", first, "--limit", result.host]
        )
        return f"plan the fix: `{command}`{more}"
    if result.failed:
        reason = getattr(result.error, "reason", "") or "error"
        return f"could not be audited ({reason}): check access, then audit it again"
    if any(f.status in UNDETERMINED for f in result.findings):
        return "evidence missing: see the HTML report, then audit it again"
    return "nothing to do"


def server_rows(run: AuditRun, inventory: str) -> list[ServerRow]:
    """The overview, worst hosts first, then by name."""
    rows = []
    for result in run.results:
        evidence = result.evidence
        rows.append(
            ServerRow(
                host=result.host,
                os=evidence.os.caption if evidence is not None else "",
                exchange=evidence.exchange.display if evidence and evidence.exchange else "",
                worst=worst_status(result),
                next_step=next_step(result, inventory),
            )
        )
    last = len(_RANK)
    rows.sort(key=lambda row: (_RANK[row.worst] if row.worst else last, row.host))
    return rows


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _inventory_argument(inventory: str) -> str:
    """The inventory as the plan command gives it (a placeholder when a run did not say)."""
    text = inventory.strip()
    if not text or text.startswith("("):
        return "INVENTORY"
    return text


def render_markdown(run: AuditRun, context: ReportContext) -> str:
    """The summary as Markdown text (also readable as plain text)."""
    states = [server_state(r) for r in run.results]
    total = len(states)
    action, not_audited = states.count("action"), states.count("not_audited")
    compliant = states.count("compliant")
    inventory = _inventory_argument(context.inventory)
    lines = [
        f"# remediate audit {escape(run.run_id)}",
        "",
        f"- Started: {_when(run.started)}; finished: {_when(run.finished)}",
        f"- Inventory: {escape(context.inventory or '-')}",
        f"- Run by: {escape(context.generated_by or '-')}",
    ]
    if run.interrupted or run.aborted:
        lines.append(f"- **Incomplete run**: {escape(run.aborted or 'interrupted')}")
    lines += [
        "",
        "## Summary",
        "",
        f"- **{action} of {total} server(s) need action**",
        f"- {compliant} compliant",
        f"- {not_audited} not audited (unreachable, or evidence missing)",
        *_changes(run),
        *_drafts(run),
        "",
        "## Articles",
        "",
        "| Article | Severity | Servers affected | Not audited | Title |",
        "|---|---|---:|---:|---|",
    ]
    affected: dict[str, int] = {}
    undetermined: dict[str, int] = {}
    for finding in run.findings:
        if finding.status in NON_COMPLIANT:
            affected[finding.playbook] = affected.get(finding.playbook, 0) + 1
        elif finding.status in UNDETERMINED:
            undetermined[finding.playbook] = undetermined.get(finding.playbook, 0) + 1
    # Articles with servers affected first, the most severe of them first.
    playbooks = sorted(
        run.playbooks,
        key=lambda p: (
            not affected.get(p.id),
            _SEVERITY.get(p.severity, len(_SEVERITY)),
            -affected.get(p.id, 0),
            p.id,
        ),
    )
    for playbook in playbooks:
        draft = " (draft)" if playbook.is_draft else ""
        lines.append(
            f"| {escape(playbook.id)}{draft} | {escape(playbook.severity)} "
            f"| {affected.get(playbook.id, 0)} | {undetermined.get(playbook.id, 0)} "
            f"| {escape(playbook.title)} |"
        )
    lines += [
        "",
        "## Servers",
        "",
        "| Server | OS | Exchange | Worst status | Next step |",
        "|---|---|---|---|---|",
    ]
    rows = server_rows(run, inventory)
    for row in rows[:MAX_ROWS]:
        worst = row.worst.value if row.worst else "-"
        lines.append(
            f"| {escape(row.host)} | {escape(row.os or '-')} | {escape(row.exchange or '-')} "
            f"| {worst} | {_step(row.next_step)} |"
        )
    if len(rows) > MAX_ROWS:
        lines += ["", f"... and {len(rows) - MAX_ROWS} more server(s): see the HTML report."]
    lines.append("")
    return "\n".join(lines)


def _changes(run: AuditRun) -> list[str]:
    """New and resolved since the previous run of the same scope (from the history's drift;
    nothing when the run has no previous one)."""
    drifts = [f.drift for f in run.findings if f.drift]
    if not drifts:
        return []
    new, resolved = drifts.count("new"), drifts.count("resolved")
    return [f"- Since the previous run: {new} new finding(s), {resolved} resolved"]


def _drafts(run: AuditRun) -> list[str]:
    """The draft playbooks of the run (imported, `review: required`): their verdicts are an
    importer's reading of an article, which a reader must know before acting on them."""
    drafts = [escape(p.id) for p in run.playbooks if p.is_draft]
    if not drafts:
        return []
    return [f"- Draft playbooks, not yet reviewed: {', '.join(drafts)} (marked (draft) below)"]


def _step(text: str) -> str:
    """A next step: its words escaped, its command (between backticks) kept as a code span
    with every `|` escaped (GFM splits cells on `|` even inside code)."""
    words, _, rest = text.partition("`")
    command, _, tail = rest.partition("`")
    if not command:
        return escape(text, limit=400)
    code = _CONTROL.sub(" ", command).replace("`", "'").replace("|", "\\|")
    tail = f" {escape(tail, 400)}" if tail.strip() else ""
    return f"{escape(words, 400)} `{code}`{tail}"


def write_markdown(run: AuditRun, path: Path, context: ReportContext) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(run, context), encoding="utf-8", newline="\n")


REPORTER = Reporter(name="md", extension="md", write=write_markdown)
