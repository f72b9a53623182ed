"""The run history on its own: small runs built here, no fleet, one SQLite file per test."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from remediate.errors import RemediateError, TransportError
from remediate.history import History, HistoryError, scope_key
from remediate.report.document import run_document, run_from_document
from remediate.rules.findings import FileVerdict, Finding, Status
from remediate.rules.playbook import load_playbooks
from remediate.rules.results import AuditRun, HostResult

PLAYBOOKS = load_playbooks([Path(__file__).resolve().parents[1] / "playbooks"])
KB = next(p for p in PLAYBOOKS if p.id == "KB840469")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SCOPE = "scope-a"


def make_run(run_id: str, started: datetime, statuses: dict[str, Status], **kw: object) -> AuditRun:
    """One finding of KB840469 per host, with the status given."""
    results = [
        HostResult(
            host,
            (Finding(host=host, playbook=KB.id, status=status, reason=f"{host} is {status}"),),
            transport="winrm",
            address=f"10.0.0.{index}",
        )
        for index, (host, status) in enumerate(sorted(statuses.items()), start=1)
    ]
    return AuditRun(run_id, started, (KB,), started - timedelta(days=7), results=results, **kw)  # type: ignore[arg-type]


def record(store: History, run: AuditRun, scope: str = SCOPE) -> AuditRun:
    run = store.with_drift(run, scope)
    store.record(run, "inventory/hosts.ini", scope)
    return run


def finding(run: AuditRun, host: str) -> Finding:
    return next(f for f in run.findings if f.host == host)


def test_a_recorded_run_reads_back_as_its_document(tmp_path: Path) -> None:
    run = make_run("20261124-120000-abcd", NOW, {"ex1": Status.MISSING_FIX}, finished=NOW)
    verdict = FileVerdict("Msexcimc.exe", r"C:\x\Msexcimc.exe", "5.5.2654.4", "5.5.2650.0", "older")
    run.results[0] = HostResult(
        "ex1",
        (
            Finding(
                host="ex1",
                playbook=KB.id,
                status=Status.MISSING_FIX,
                reason="an old file",
                facts=(("build", "6.5.7638.1"),),
                files=(verdict,),
                notes=("seen once",),
            ),
        ),
        elapsed=1.25,
        round_trips=1,
    )
    error = TransportError("connection refused", hint="is WinRM on?", host="ex2")
    run.results.append(HostResult("ex2", (), error=error))
    with History(tmp_path / "h.sqlite") as store:
        run = record(store, run)
        stored = store.document(run.run_id)
        assert store.document("20261124-120000-ab") == stored
    assert stored == run_document(run)
    again = run_from_document(stored, PLAYBOOKS)
    assert run_document(again) == stored
    assert again.playbooks == (KB,)
    assert finding(again, "ex1").files == (verdict,)
    assert again.results[1].error is not None and again.results[1].error.hint == "is WinRM on?"


def test_an_unknown_or_ambiguous_run_id_is_a_clear_error(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as store:
        record(store, make_run("run-1", NOW, {"ex1": Status.COMPLIANT}))
        record(store, make_run("run-2", NOW + timedelta(hours=1), {"ex1": Status.COMPLIANT}))
        with pytest.raises(HistoryError, match="no run 'nothing'"):
            store.document("nothing")
        with pytest.raises(HistoryError, match="names 2 runs"):
            store.document("run-")


def test_runs_are_listed_newest_first(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as store:
        record(store, make_run("middle", NOW - timedelta(days=1), {"a": Status.COMPLIANT}))
        record(store, make_run("newest", NOW, {"a": Status.AFFECTED, "b": Status.UNKNOWN}))
        record(store, make_run("oldest", NOW - timedelta(days=2), {"a": Status.UNKNOWN}))
        rows = store.runs()
        assert [r.run_id for r in rows] == ["newest", "middle", "oldest"]
        assert [r.run_id for r in store.runs(limit=2)] == ["newest", "middle"]
    newest = rows[0]
    assert (newest.started, newest.hosts, newest.exit_code) == (NOW, 2, 1)
    assert (newest.inventory, newest.interrupted) == ("inventory/hosts.ini", False)
    assert newest.summary["affected"] == 1 and newest.summary["unknown"] == 1
    assert rows[2].exit_code == 3


def test_prune_forgets_runs_older_than_kept_and_their_findings(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with History(path) as store:
        for days in (10, 5, 1):
            run = make_run(f"run-{days}d", NOW - timedelta(days=days), {"a": Status.AFFECTED})
            record(store, run)
        assert store.prune(timedelta(days=7), NOW) == 1
        assert [r.run_id for r in store.runs()] == ["run-1d", "run-5d"]
        assert store.previous_statuses(SCOPE, NOW - timedelta(days=7)) == (None, {})
        assert store.prune(timedelta(days=7), NOW) == 0
    with closing(sqlite3.connect(path)) as db:
        kept = {row[0] for row in db.execute("SELECT run_id FROM findings")}
    assert kept == {"run-1d", "run-5d"}
    with History(path) as store:
        assert store.prune(timedelta(0), NOW + timedelta(seconds=1)) == 2
        assert store.runs() == []


def test_drift_against_the_previous_run_of_the_same_scope(tmp_path: Path) -> None:
    first_start = NOW - timedelta(days=1)
    with History(tmp_path / "h.sqlite") as store:
        first = record(
            store,
            make_run(
                "first",
                first_start,
                {"fixed": Status.AFFECTED, "broke": Status.COMPLIANT, "still": Status.MISSING_FIX},
            ),
        )
        # the first run of a scope has nothing to drift from
        assert {f.drift for f in first.findings} == {None}
        assert finding(first, "still").noncompliant_since == first_start
        assert finding(first, "broke").noncompliant_since is None
        second = record(
            store,
            make_run(
                "second",
                NOW,
                {"fixed": Status.COMPLIANT, "broke": Status.AFFECTED, "still": Status.MISSING_FIX},
            ),
        )
        other = store.with_drift(make_run("other", NOW, {"still": Status.MISSING_FIX}), "scope-b")
    assert finding(second, "fixed").drift == "resolved"
    assert finding(second, "fixed").noncompliant_since is None
    assert finding(second, "broke").drift == "new"
    assert finding(second, "broke").noncompliant_since == NOW
    assert finding(second, "still").drift == "unchanged"
    assert finding(second, "still").noncompliant_since == first_start
    # another inventory or set of playbooks is another scope: no drift across them
    assert finding(other, "still").drift is None
    assert finding(other, "still").noncompliant_since == NOW


def test_an_interrupted_run_is_not_the_one_drift_compares_with(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as store:
        record(store, make_run("full", NOW - timedelta(days=2), {"a": Status.AFFECTED}))
        record(
            store,
            make_run("cut", NOW - timedelta(days=1), {"a": Status.COMPLIANT}, interrupted=True),
        )
        third = record(store, make_run("third", NOW, {"a": Status.AFFECTED}))
    assert finding(third, "a").drift == "unchanged"
    assert finding(third, "a").noncompliant_since == NOW - timedelta(days=2)


def test_scope_key_is_the_inventory_file_and_the_set_of_playbooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    key = scope_key("hosts.ini", ["Q193639", "KB840469"])
    assert key == scope_key(str(tmp_path / "hosts.ini"), ["KB840469", "Q193639"])
    assert key != scope_key("hosts.ini", ["KB840469"])
    assert key != scope_key("other.ini", ["Q193639", "KB840469"])


def test_a_file_that_is_not_sqlite_is_a_history_error(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_text("not a database at all, just text that is long enough to have a header")
    with pytest.raises(HistoryError, match="not a usable history database") as caught:
        History(path)
    assert isinstance(caught.value, RemediateError)


def test_a_damaged_history_is_a_history_error_on_reading(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with History(path) as store:
        for day in range(30):
            statuses = {f"host{n:03d}": Status.AFFECTED for n in range(40)}
            record(store, make_run(f"run-{day:02d}", NOW - timedelta(days=day), statuses))
    data = bytearray(path.read_bytes())
    # the first page (header and schema) stays whole, so the damage shows only on reading
    data[4096:] = b"\xab" * (len(data) - 4096)
    path.write_bytes(bytes(data))
    with History(path) as store, pytest.raises(HistoryError, match="not a usable history"):
        store.runs()


def test_another_programs_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.commit()
    with pytest.raises(HistoryError, match="not a remediate history") as caught:
        History(path)
    assert caught.value.hint
    with closing(sqlite3.connect(path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master")]
    assert tables == ["notes"]


def test_a_history_from_a_newer_remediate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with History(path):
        pass
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(HistoryError, match="newer remediate"):
        History(path)


def test_a_run_records_its_report_folder_and_who_ran_it(tmp_path: Path) -> None:
    with History(tmp_path / "history.sqlite") as store:
        run = store.with_drift(make_run("run-1", NOW, {"ex1": Status.COMPLIANT}), SCOPE)
        store.record(run, "inventory/hosts.ini", SCOPE, report_folder="/srv/out", run_by="carol@a")
        stored = store.stored("run-1")
        (row,) = store.runs()
    assert (stored.inventory, stored.report_folder, stored.run_by) == (
        "inventory/hosts.ini",
        "/srv/out",
        "carol@a",
    )
    assert (row.report_folder, row.run_by) == ("/srv/out", "carol@a")


def test_only_the_newest_run_is_newest(tmp_path: Path) -> None:
    with History(tmp_path / "history.sqlite") as store:
        record(store, make_run("older", NOW - timedelta(days=1), {"a": Status.COMPLIANT}))
        record(store, make_run("newer", NOW, {"a": Status.COMPLIANT}))
        assert store.stored("newer").newest
        assert not store.stored("older").newest


def test_an_exact_run_id_wins_over_longer_ones_it_begins(tmp_path: Path) -> None:
    with History(tmp_path / "history.sqlite") as store:
        record(store, make_run("run-1", NOW - timedelta(days=1), {"a": Status.COMPLIANT}))
        record(store, make_run("run-10", NOW, {"a": Status.COMPLIANT}))
        assert store.stored("run-1").document["run_id"] == "run-1"
        assert store.has_run("run-10") and not store.has_run("run_")  # `_` is no wildcard
        with pytest.raises(HistoryError) as caught:
            store.stored("nothing")
    assert "--history" in (caught.value.hint or "")


def test_a_version_1_database_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with closing(sqlite3.connect(path)) as db:
        from remediate.history import _MIGRATIONS

        db.executescript(_MIGRATIONS[1])
        db.execute(
            "INSERT INTO runs VALUES ('old', ?, NULL, 'inv.ini', 's', 0, 0, 0, '{}', '{}')",
            (NOW.isoformat(),),
        )
        db.execute("PRAGMA user_version = 1")
        db.commit()
    with History(path) as store:
        stored = store.stored("old")
    assert (stored.inventory, stored.report_folder, stored.run_by) == ("inv.ini", "", "")


def test_the_index_names_history_databases_most_recent_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remediate.history import MAX_KNOWN, index_path, known_histories, remember_history

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert known_histories() == []
    paths = []
    for n in range(MAX_KNOWN + 2):
        paths.append(tmp_path / f"h{n}.sqlite")
        paths[-1].write_bytes(b"")
        remember_history(paths[-1])
    remember_history(paths[3])
    known = known_histories()
    assert known[0] == paths[3].resolve() and len(known) == MAX_KNOWN
    assert paths[0].resolve() not in known
    paths[5].unlink()
    assert paths[5].resolve() not in known_histories()
    index_path().write_bytes(b"\xff\xfe not text")
    assert known_histories() == []


def test_the_trend_counts_servers_needing_action_per_run_of_the_scope(tmp_path: Path) -> None:
    with History(tmp_path / "history.sqlite") as store:
        statuses = {"a": Status.AFFECTED, "b": Status.MISSING_FIX, "c": Status.COMPLIANT}
        record(store, make_run("one", NOW - timedelta(days=2), statuses))
        record(store, make_run("other", NOW - timedelta(days=1), statuses), scope="scope-b")
        record(
            store,
            make_run("two", NOW - timedelta(days=1), {"a": Status.ERROR, "b": Status.COMPLIANT}),
        )
        record(store, make_run("three", NOW, {"a": Status.NEEDS_REBOOT}))
        trend = store.trend("two")
        assert [(r[0], r[2], r[3]) for r in trend] == [("one", 2, 3), ("two", 0, 2)]
        assert [r[0] for r in store.trend("three", limit=2)] == ["two", "three"]
        assert store.trend("nothing") == []


def test_the_trend_reaches_the_html_report(tmp_path: Path) -> None:
    from remediate.report.registry import trend_points, write_reports

    with History(tmp_path / "history.sqlite") as store:
        record(store, make_run("one", NOW - timedelta(days=1), {"a": Status.AFFECTED}))
        run = record(store, make_run("two", NOW, {"a": Status.COMPLIANT}))
        trend = trend_points(store.trend("two"))
    (page,) = write_reports(run, ("html",), tmp_path / "a", "hosts.ini", "me", trend=trend)
    (alone,) = write_reports(run, ("html",), tmp_path / "b", "hosts.ini", "me")
    assert 'id="trend"' in page.read_text(encoding="utf-8")
    assert 'id="trend"' not in alone.read_text(encoding="utf-8")
