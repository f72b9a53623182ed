"""Run history in SQLite: every run and finding, drift between runs, re-rendering, pruning.

The database is created and migrated by the tool (`PRAGMA user_version` is the schema
version). A run is recorded in one transaction, so a crash never leaves half a run. Drift
compares a run with the previous run of the same inventory and playbooks: a finding is `new`
when it needs attention now and did not before, `resolved` when it needed attention and no
longer does, `unchanged` otherwise; `noncompliant_since` says since when it has needed it.

Each run also records where its reports went and who ran it, so `remediate report RUN_ID`
writes beside them and says who ran it; and every history database a run was written to is
named in a small per-user index (`known_histories`), so `remediate history` and `report` find
runs written with `audit -o DIR` without being told `--history`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from remediate.errors import InputError
from remediate.report.document import document_json, run_summary
from remediate.rules.findings import NON_COMPLIANT, UNDETERMINED, Status
from remediate.rules.results import AuditRun

SCHEMA_VERSION = 2
_ATTENTION = NON_COMPLIANT | UNDETERMINED

_MIGRATIONS = {
    1: """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,
            inventory TEXT NOT NULL,
            scope TEXT NOT NULL,
            hosts INTEGER NOT NULL,
            exit_code INTEGER NOT NULL,
            interrupted INTEGER NOT NULL,
            summary TEXT NOT NULL,
            document TEXT NOT NULL
        );
        CREATE INDEX runs_scope ON runs (scope, started);
        CREATE TABLE findings (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            host TEXT NOT NULL,
            playbook TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT NOT NULL,
            drift TEXT,
            noncompliant_since TEXT,
            PRIMARY KEY (run_id, host, playbook)
        );
    """,
    # Where the run's reports went and who ran it (empty for runs recorded before).
    2: """
        ALTER TABLE runs ADD COLUMN report_folder TEXT NOT NULL DEFAULT '';
        ALTER TABLE runs ADD COLUMN run_by TEXT NOT NULL DEFAULT ''
    """,
}


class HistoryError(InputError):
    """A history database that cannot be used (not SQLite, from a newer version...)."""


@contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """SQLite's own errors (a damaged page, a locked file) as one clear HistoryError."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{path}: not a usable history database: {exc}") from None


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _guarded(
    method: Callable[Concatenate[History, _P], _T],
) -> Callable[Concatenate[History, _P], _T]:
    """A damaged file may read fine at open and fail on a later page: every query is guarded."""

    @wraps(method)
    def guarded(self: History, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        with _sqlite_errors(self.path):
            return method(self, *args, **kwargs)

    return guarded


@dataclass(frozen=True)
class RunRow:
    run_id: str
    started: datetime
    inventory: str
    hosts: int
    exit_code: int
    interrupted: bool
    summary: dict[str, int]
    report_folder: str = ""
    run_by: str = ""


@dataclass(frozen=True)
class StoredRun:
    """A run read back for rendering: its document and what was recorded beside it.

    `newest`: no run in this database started after it (only then may `latest.*` show it)."""

    document: dict
    inventory: str
    report_folder: str
    run_by: str
    newest: bool


def scope_key(inventory: str, playbooks: list[str]) -> str:
    """Runs are compared with runs of the same inventory and the same playbooks."""
    text = json.dumps([str(Path(inventory).resolve()), sorted(playbooks)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class History:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # under a file, too long a name, a read-only place
            raise HistoryError(
                f"{path}: cannot make the history database's folder: {exc.strerror or exc}",
                hint="give --history a path in a folder that can be written",
            ) from None
        with _sqlite_errors(path):
            # Autocommit mode: transactions are ours, explicit BEGIN ... COMMIT.
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            with _sqlite_errors(path):
                self._db.execute("PRAGMA foreign_keys = ON")
                self._migrate()
        except HistoryError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"{self.path}: written by a newer remediate (schema {version}); upgrade remediate"
            )
        if version == 0:
            tables = [
                row[0]
                for row in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            if tables:
                # Another program's database: adding our tables to it would be a surprise.
                raise HistoryError(
                    f"{self.path}: an SQLite database of something else (tables: "
                    f"{', '.join(tables[:5])}), not a remediate history",
                    hint="give --history a new file or one that remediate wrote",
                )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN")
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @_guarded
    def previous_statuses(
        self, scope: str, before: datetime
    ) -> tuple[str | None, dict[tuple[str, str], tuple[Status, datetime | None]]]:
        row = self._db.execute(
            "SELECT run_id FROM runs WHERE scope = ? AND started < ? AND interrupted = 0 "
            "ORDER BY started DESC LIMIT 1",
            (scope, before.isoformat()),
        ).fetchone()
        if row is None:
            return None, {}
        found = {}
        for host, playbook, status, since in self._db.execute(
            "SELECT host, playbook, status, noncompliant_since FROM findings WHERE run_id = ?",
            (row[0],),
        ):
            found[(host, playbook)] = (Status(status), _time(since))
        return row[0], found

    def with_drift(self, run: AuditRun, scope: str) -> AuditRun:
        """The run with each finding marked new/resolved/unchanged against the previous one."""
        previous_id, previous = self.previous_statuses(scope, run.started)
        for index, result in enumerate(run.results):
            findings = []
            for finding in result.findings:
                before = previous.get((finding.host, finding.playbook))
                needs = finding.status in _ATTENTION
                needed = before is not None and before[0] in _ATTENTION
                drift = None
                if previous_id is not None:
                    drift = (
                        "new"
                        if needs and not needed
                        else "resolved"
                        if needed and not needs
                        else "unchanged"
                    )
                since = (
                    (before[1] if needed and before and before[1] else run.started)
                    if needs
                    else None
                )
                findings.append(replace(finding, drift=drift, noncompliant_since=since))
            run.results[index] = replace(result, findings=tuple(findings))
        return run

    @_guarded
    def record(
        self,
        run: AuditRun,
        inventory: str,
        scope: str,
        report_folder: str = "",
        run_by: str = "",
    ) -> None:
        """Store the run and its findings in one transaction."""
        document = document_json(run)  # stored as written: not read back and encoded again
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started, finished, inventory, scope, hosts, "
                "exit_code, interrupted, summary, document, report_folder, run_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    run.started.isoformat(),
                    run.finished.isoformat() if run.finished else None,
                    inventory,
                    scope,
                    len(run.results),
                    run.exit_code(),
                    int(run.interrupted),
                    json.dumps(run_summary(run)),
                    document,
                    report_folder,
                    run_by,
                ),
            )
            db.executemany(
                "INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run.run_id,
                        f.host,
                        f.playbook,
                        f.status.value,
                        f.reason,
                        f.drift,
                        f.noncompliant_since.isoformat() if f.noncompliant_since else None,
                    )
                    for f in run.findings
                ],
            )

    @_guarded
    def runs(self, limit: int = 20) -> list[RunRow]:
        rows = self._db.execute(
            "SELECT run_id, started, inventory, hosts, exit_code, interrupted, summary, "
            "report_folder, run_by FROM runs ORDER BY started DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            RunRow(r[0], _time(r[1]), r[2], r[3], r[4], bool(r[5]), json.loads(r[6]), r[7], r[8])  # type: ignore[arg-type]
            for r in rows
        ]

    @_guarded
    def document(self, run_id: str) -> dict:
        return self.stored(run_id).document

    @_guarded
    def has_run(self, run_id: str) -> bool:
        """Whether `run_id` (or its unique beginning) names exactly one run here."""
        return len(self._matching(run_id)) == 1

    def _matching(self, run_id: str) -> list[tuple[str, str]]:
        pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return self._db.execute(
            "SELECT run_id, started FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\' "
            "ORDER BY started DESC",
            (run_id, f"{pattern}%"),
        ).fetchall()

    @_guarded
    def stored(self, run_id: str) -> StoredRun:
        """The run `run_id` (or its unique beginning) names; HistoryError for none or several."""
        found = self._matching(run_id)
        if not found:
            raise HistoryError(
                f"{self.path}: no run {run_id!r}",
                hint="see `remediate history`; a run written with `audit -o DIR` is in "
                "DIR/history.sqlite: give --history DIR/history.sqlite",
            )
        exact = [row for row in found if row[0] == run_id]
        if len(found) > 1 and not exact:
            raise HistoryError(f"{self.path}: {run_id!r} names {len(found)} runs; give more of it")
        full_id, started = (exact or found)[0]
        document, inventory, folder, run_by = self._db.execute(
            "SELECT document, inventory, report_folder, run_by FROM runs WHERE run_id = ?",
            (full_id,),
        ).fetchone()
        later = self._db.execute(
            "SELECT 1 FROM runs WHERE started > ? LIMIT 1", (started,)
        ).fetchone()
        return StoredRun(json.loads(document), inventory, folder, run_by, later is None)

    @_guarded
    def trend(self, run_id: str, limit: int = 12) -> list[tuple[str, datetime, int, int]]:
        """The run and the runs of its scope before it, oldest first, at most `limit`: each
        (run id, started, servers needing action, servers). Counted in SQL from the findings,
        without reading any run's document."""
        row = self._db.execute(
            "SELECT scope, started FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            return []
        action = sorted(s.value for s in NON_COMPLIANT)
        assert len(action) == 4  # the four placeholders below
        rows = self._db.execute(
            "SELECT r.run_id, r.started, r.hosts, "
            "(SELECT COUNT(DISTINCT f.host) FROM findings f WHERE f.run_id = r.run_id "
            "AND f.status IN (?, ?, ?, ?)) "
            "FROM runs r WHERE r.scope = ? AND r.started <= ? "
            "ORDER BY r.started DESC LIMIT ?",
            (*action, row[0], row[1], limit),
        ).fetchall()
        return [(r[0], _time(r[1]), r[3], r[2]) for r in reversed(rows)]  # type: ignore[misc]

    @_guarded
    def prune(self, keep: timedelta, now: datetime) -> int:
        """Forget runs older than `keep`; returns how many went."""
        cutoff = (now - keep).isoformat()
        with self._transaction() as db:
            gone = db.execute("DELETE FROM runs WHERE started < ?", (cutoff,)).rowcount
        with closing(self._db.cursor()) as cursor:
            cursor.execute("VACUUM")
        return gone


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# -- the per-user index of history databases --------------------------------------------------

MAX_KNOWN = 20
"""History databases remembered; the oldest named is forgotten first."""


def index_path() -> Path:
    """Where the index lives: `$XDG_STATE_HOME/remediate/histories` (XDG Base Directory
    Specification: "state data that should persist between (application) restarts"), by
    default under `~/.local/state`."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "remediate" / "histories"


def known_histories() -> list[Path]:
    """The history databases runs were written to, most recent first; missing ones left out.

    The index is a convenience: an unreadable one is no index, never an error."""
    try:
        lines = index_path().read_text(encoding="utf-8").splitlines()[:MAX_KNOWN]
    except (OSError, UnicodeDecodeError, RuntimeError):  # RuntimeError: no home directory
        return []
    found: list[Path] = []
    for line in lines:
        path = Path(line)
        with contextlib.suppress(OSError):
            if line and path.is_absolute() and path.is_file() and path not in found:
                found.append(path)
    return found


def remember_history(database: Path) -> None:
    """Name `database` first in the index (best effort: a read-only home changes nothing)."""
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        path = database.resolve()
        index = index_path()
        try:
            before = index.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            before = []
        kept = [str(path)] + [line for line in before if line and line != str(path)]
        index.parent.mkdir(parents=True, exist_ok=True)
        temp = index.with_name(f".{index.name}.{os.getpid()}.tmp")
        temp.write_text("".join(f"{line}\n" for line in kept[:MAX_KNOWN]), encoding="utf-8")
        os.replace(temp, index)
