"""Everything the command line prints: the two consoles, errors, playbooks, audit progress
and the audit summary (rich lives here and nowhere else in the toolkit).

Anything that came from a host, a playbook or an inventory is printed as text, never as
markup (`literal`), and stripped of terminal control sequences (`safe`). With `-v`, `-vv` or
`-vvv`, the transports' logs go to stderr through a filter that redacts secrets
(`set_verbosity`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from remediate.connect.secrets import Secret, redact
from remediate.rules.findings import Status
from remediate.transport.connection_log import SECRETS_FIELD, TRACE, Hidden

if TYPE_CHECKING:  # every command imports this module: what is heavy is imported when used
    from remediate.audit.session import AuditOutcome, AuditStart
    from remediate.rules.evidence import Evidence
    from remediate.rules.playbook import Playbook
    from remediate.rules.results import AuditRun, HostResult


def _width(stream: object) -> int | None:
    """A terminal's own width (rich reads COLUMNS, else asks the terminal); piped output (cron,
    CI logs) a wide fixed one, so host names are not cut. COLUMNS is not trusted for a pipe:
    libraries (curses) set it in the environment that child processes inherit."""
    isatty = getattr(stream, "isatty", None)
    return None if isatty and isatty() else 160


console = Console(highlight=False, width=_width(sys.stdout))
errors = Console(stderr=True, highlight=False, width=_width(sys.stderr))

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def print_error(error: Exception) -> None:
    """One line on stderr, `error: <what, where, hint>`; the text is never read as markup."""
    errors.print(Text("error:", style="bold red"), Text(str(error)), soft_wrap=True)


def safe(text: object, limit: int = 500) -> str:
    """Remote or playbook text made safe for a terminal: no escapes, bounded length.

    The result is still read as markup when printed as a `str` (`[red]` vanishes): print it
    inside a `Text`, or use `literal`.
    """
    cleaned = _CONTROL.sub("", str(text))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def literal(text: object, limit: int = 500, style: str = "") -> Text:
    """Text printed exactly as it is: `[red]` or an IPv6 address `[fe80::1]` is not markup."""
    return Text(safe(text, limit), style=style)


def playbook_text(playbook: Playbook) -> Iterable[RenderableType]:
    from remediate.rules.playbook import ComponentSelection, EventSelection, ServiceSelection

    yield Text(f"{playbook.id}: {safe(playbook.title)}", style="bold")
    yield Text(f"severity {playbook.severity}; references {', '.join(playbook.references) or '-'}")
    ranges = [product.describe() for product in playbook.applies_to.products]
    yield literal("applies to: " + "; ".join(ranges))
    if playbook.symptoms is not None:
        table = Table(title=literal(f"symptoms (condition: {playbook.symptoms.condition})"))
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
        yield literal(f"first fixed in {fix.fixed_in.describe()}")
    if fix.files:
        table = Table(title="fix table")
        per_version = any(row.exchange_version for row in fix.files)
        columns = ["file", "version", "folder", "platform"]
        for column in [*columns, "Exchange"] if per_version else columns:
            table.add_column(column)
        for row in fix.files:
            cells = [
                Text(row.file),
                Text(row.version or "N/A (presence)"),
                Text(row.folder),
                Text(row.platform or "-"),
            ]
            if per_version:
                cells.append(Text(row.exchange_version or "any"))
            table.add_row(*cells)
        yield table
    for requirement in fix.requires:
        yield Text(f"requires: {requirement.model_dump()}")
    if playbook.remediation:
        yield Text("remediation:", style="bold")
        for number, step in enumerate(playbook.remediation, start=1):
            label = step.name or step.step
            when = f" (when {step.when})" if step.when else ""
            yield Text(f"  {number}. [{step.step}] {safe(label)}{when}")


STATUS_STYLE = {
    Status.COMPLIANT: "green",
    Status.NOT_APPLICABLE: "dim",
    Status.WAIVED: "cyan",
    Status.MISSING_FIX: "yellow",
    Status.AFFECTED: "bold red",
    Status.INVESTIGATE: "magenta",
    Status.NEEDS_REBOOT: "yellow",
    Status.UNKNOWN: "bright_black",
    Status.ERROR: "red",
}
# A host's line in the progress shows its most urgent status, in this order.
_ORDER = [
    Status.ERROR,
    Status.AFFECTED,
    Status.INVESTIGATE,
    Status.NEEDS_REBOOT,
    Status.MISSING_FIX,
    Status.UNKNOWN,
    Status.WAIVED,
    Status.COMPLIANT,
    Status.NOT_APPLICABLE,
]


def _worst(result: HostResult) -> str:
    statuses = {f.status for f in result.findings}
    return next((s.value for s in _ORDER if s in statuses), "no findings")


class AuditProgress:
    """A progress bar on a terminal; one plain line per host otherwise.

    `start` and `advance` are the audit's callbacks; as a context manager it takes the bar
    down however the audit ends.
    """

    def __init__(self, out: Console) -> None:
        self.out = out
        self.total = 0
        self.done = 0
        self.bar: Progress | None = None

    def __enter__(self) -> AuditProgress:
        return self

    def start(self, start: AuditStart) -> None:
        self.total = start.hosts
        self.out.print(
            f"auditing {start.hosts} host(s) for {len(start.playbooks)} article(s) "
            f"({', '.join(start.playbooks)}), {start.forks} at a time"
        )
        if self.out.is_terminal:
            self.bar = Progress(
                TextColumn("audit"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=self.out,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=self.total)

    def advance(self, result: HostResult) -> None:
        self.done += 1
        worst = _worst(result)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"{result.host}: {worst}")
        else:
            line = f"[{self.done}/{self.total}] {result.host}: {worst}"
            if result.error is not None:
                line += f" ({result.error.reason}: {result.error.message})"
            # Plain text straight to the stream: rich's rendering costs milliseconds a line,
            # which a thousand-host run in cron or CI would spend on its log.
            self.out.file.write(safe(line, 300) + "\n")

    def stopping(self, open_connections: int) -> None:
        """Ctrl-C: say so at once, before the shells are closed (which takes a moment)."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        shells = "shell" if open_connections == 1 else "shells"
        self.out.file.write(f"stopping: closing {open_connections} {shells}\n")
        self.out.file.flush()

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


SUMMARY_ROWS = 50
QUIET = {Status.COMPLIANT, Status.NOT_APPLICABLE, Status.WAIVED}

# A status in a summary cell: three letters at most, so eight articles fit 80 columns; the
# legend under the table spells out those in it. Upper case for what needs a look.
ABBREVIATION = {
    Status.AFFECTED: "AFF",
    Status.INVESTIGATE: "INV",
    Status.MISSING_FIX: "FIX",
    Status.NEEDS_REBOOT: "RBT",
    Status.ERROR: "ERR",
    Status.UNKNOWN: "UNK",
    Status.WAIVED: "wvd",
    Status.COMPLIANT: "ok",
    Status.NOT_APPLICABLE: "-",
}
_LEGEND_ORDER = [*_ORDER[1:5], Status.ERROR, *_ORDER[5:]]


def _common_domain(hosts: Sequence[str]) -> str:
    """The DNS suffix every host name shares (`.lab.local`), or "" when they do not."""
    if len(hosts) < 2 or not all("." in h for h in hosts):
        return ""
    suffix = hosts[0][hosts[0].index(".") :]
    return suffix if all(h.endswith(suffix) and h != suffix for h in hosts) else ""


def print_summary(run: AuditRun, out: Console, secrets: Sequence[Secret] = ()) -> None:
    """The host x article table; past SUMMARY_ROWS hosts, only those with something to do.

    Statuses are abbreviated (legend below); on a narrow terminal the shared domain is left
    off the host names and the articles are numbered (key below), so 80 columns suffice."""
    results = sorted(run.results, key=lambda r: r.host)
    left_out = 0
    if len(results) > SUMMARY_ROWS:
        noisy = [r for r in results if any(f.status not in QUIET for f in r.findings)]
        left_out = len(results) - min(len(noisy), SUMMARY_ROWS)
        results = noisy[:SUMMARY_ROWS]
    ids = [playbook.id for playbook in run.playbooks]
    names = [safe(r.host, 200) for r in results]
    cells_width = sum(max(len(i), 3) + 1 for i in ids)
    numbered = cells_width + max((len(n) for n in names), default=4) + 2 > out.width
    domain = _common_domain(names) if numbered else ""
    if domain:
        names = [n[: -len(domain)] for n in names]
    headers = [f"{n}" for n in range(1, len(ids) + 1)] if numbered else ids
    table = Table(title=f"audit {run.run_id}", box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0))
    table.add_column("host" + (f" (*{domain})" if domain else ""), overflow="fold")
    for header in headers:
        table.add_column(header, no_wrap=True)
    seen: set[Status] = set()
    for name, result in zip(names, results, strict=True):
        by_id = {f.playbook: f for f in result.findings}
        cells = []
        for playbook in run.playbooks:
            finding = by_id.get(playbook.id)
            status = finding.status if finding else Status.UNKNOWN
            seen.add(status)
            cells.append(Text(ABBREVIATION[status], style=STATUS_STYLE[status]))
        table.add_row(Text(name), *cells)
    out.print(table)
    if numbered and ids:
        out.print(
            literal("articles: " + ", ".join(f"{n} {i}" for n, i in zip(headers, ids, strict=True)))
        )
    if seen:
        legend = ", ".join(f"{ABBREVIATION[s]} {s.value}" for s in _LEGEND_ORDER if s in seen)
        out.print(literal(f"legend: {legend}"))
    if left_out:
        out.print(
            f"{left_out} more host(s) not shown (the table lists up to {SUMMARY_ROWS} hosts "
            "with something to do); every host is in the reports"
        )
    counts = ", ".join(f"{s.value} {n}" for s, n in run.counts().items() if n)
    out.print(f"findings: {counts}")
    for result in run.results:
        if result.error is not None:
            message = redact(
                f"{result.host}: {result.error.reason}: {result.error.message}", secrets
            )
            hint = f" (hint: {result.error.hint})" if result.error.hint else ""
            out.print(Text(safe(message + hint, 400), style="red"))
    if run.interrupted:
        out.print(
            Text("interrupted: the hosts not finished are marked not audited", style="bold red")
        )
    if run.aborted:
        out.print(Text(f"aborted: {run.aborted}", style="bold red"))


def print_evidence(evidence: Evidence, out: Console | None = None) -> None:
    """One host's evidence as `collect` shows it: what it is, then each item asked about."""
    out = out or console
    system = evidence.os
    build = f" build {system.build}" if system.build is not None else ""
    exchange = evidence.exchange.display_with_build if evidence.exchange else "no Exchange found"
    out.print(
        literal(f"{evidence.host}: {system.caption} ({system.version}{build}); {exchange}", 400)
    )
    lines = []
    if evidence.pending_reboot:
        lines.append(f"restart pending ({len(evidence.pending_renames)} file(s) to rename)")
    for item in evidence.files:
        found = (item.version or "no version") if item.exists else "absent"
        lines.append(f"file {item.path}: {found}")
    for service in evidence.services:
        state = f"{service.state} ({service.start_mode})" if service.found else "not installed"
        lines.append(f"service {service.name}: {state}")
    for component in evidence.components:
        state = {True: "installed", False: "not installed", None: "could not tell"}
        lines.append(f"component {component.name}: {state[component.installed]}")
    for events in evidence.events:
        when = f", last {events.last:%Y-%m-%d %H:%M}" if events.last else ""
        lines.append(f"events {events.filter_id}: {events.total}{when}")
    for error in evidence.errors:
        lines.append(f"could not read {error.scope} {error.item}: {error.message}")
    for line in lines:
        out.print(literal(f"  {line}", 400))


def print_outcome(outcome: AuditOutcome, out: Console) -> None:
    """After the audit: the summary, then where the reports and the retry file are."""
    print_summary(outcome.run, out, outcome.secrets)
    for path in outcome.reports:
        out.print(literal(f"report: {path}"))
    if outcome.retry_file is not None:
        retry = outcome.retry_file
        out.print(literal(f"retry file: {retry} (use --limit @{retry})"))


# --- -v, -vv, -vvv: the transports' logs on stderr ------------------------------------------

VERBOSE_LOGGER = "remediate.transport"
_LEVELS = {1: logging.INFO, 2: logging.DEBUG, 3: TRACE}
_AUTH_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|www-authenticate|authentication-info)"
    r"(['\"]?\s*[:=]\s*)[^\r\n]*"
)
_AUTH_TOKEN = re.compile(
    r"(?i)\b(NTLM|Negotiate|Kerberos|Basic|Bearer|CredSSP|Digest)\s+([A-Za-z0-9+/_.-]{4,}=*)"
)


def _hide_token(match: re.Match[str]) -> str:
    """`NTLM TlRMTVNT...` becomes `NTLM ***`; `Basic authentication` stays (a word is no token:
    a token has a digit, a sign, padding or a capital past its first letter)."""
    token = match.group(2)
    encoded = any(not c.isalpha() or c.isupper() for c in token[1:])
    return f"{match.group(1)} ***" if encoded else match.group(0)


class RedactingFilter(logging.Filter):
    """Makes each record safe to show: the host's password (in every form `redact` knows),
    any authorization header or token, terminal control sequences; no traceback either."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        hidden = getattr(record, SECRETS_FIELD, None)
        if isinstance(hidden, Hidden):
            text = redact(text, hidden.values, hidden.users)
        text = _AUTH_HEADER.sub(r"\1\2***", text)
        text = _AUTH_TOKEN.sub(_hide_token, text)
        record.msg, record.args = safe(text, 2000), ()
        record.exc_info = record.exc_text = record.stack_info = None
        record.remediate_logger = record.name.rpartition(".")[2]
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is when a record comes: a progress bar or a test may have
    replaced it since the handler was made."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def set_verbosity(count: int) -> None:
    """Show the transports' logs on stderr: -v INFO, -vv DEBUG, -vvv (or more) TRACE.

    0 takes our handler away again (the app may run several times in one process).
    """
    logger = logging.getLogger(VERBOSE_LOGGER)
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    if count <= 0:
        logger.setLevel(logging.NOTSET)
        return
    handler = _StderrHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s.%(msecs)03d %(remediate_logger)s %(message)s", datefmt="%H:%M:%S"
        )
    )
    logger.addHandler(handler)
    logger.setLevel(_LEVELS[min(count, 3)])
