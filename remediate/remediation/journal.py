"""The apply journal: one JSON line per event, appended and fsynced, beside the plan.

Every step's start and end (exit code, output digest, status), every skip, operator
confirmation and host outcome is recorded. `--resume` reads it back: a step whose `end` says
`ok` is never run again; a step the controller stopped waiting for (`step_still_running`: its
own timeout passed, the command was left running on the host) is checked before anything else.
Secrets never enter it: only digests of what steps printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from remediate.errors import InputError


class JournalError(InputError):
    """A journal that cannot be read or written."""


@dataclass(frozen=True)
class JournalEntry:
    time: str
    event: str  # apply | host_start | step_start | step_end | step_still_running | skip |
    # confirm | wait | declined | host_end
    host: str | None = None
    step: int | None = None
    data: dict[str, Any] | None = None


def journal_path(plan_path: Path) -> Path:
    return plan_path.with_name(plan_path.name + ".journal.jsonl")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Journal:
    """Appends entries durably; safe to share between the threads of one apply."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._tail_checked = False

    def write(
        self, event: str, host: str | None = None, step: int | None = None, **data: Any
    ) -> None:
        entry = {"time": datetime.now(UTC).isoformat(), "event": event}
        if host is not None:
            entry["host"] = host
        if step is not None:
            entry["step"] = step
        if data:
            entry["data"] = data
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            try:
                if not self._tail_checked:
                    self._end_torn_line()
                    self._tail_checked = True
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                raise JournalError(
                    f"{self.path}: cannot write the journal: {exc.strerror}"
                ) from None

    def _end_torn_line(self) -> None:
        """Before the first append: a last line a crash cut short (no newline) is dropped, so
        the next entry starts on a line of its own instead of gluing itself to the fragment
        (which would then sit mid-file, unreadable). A complete entry that only lacks its
        newline keeps it. The fragment was never a whole entry: nothing it began is lost."""
        try:
            with open(self.path, "rb+") as handle:
                data = handle.read()
                if not data or data.endswith(b"\n"):
                    return
                cut = data.rfind(b"\n") + 1
                if _entry(data[cut:]) is not None:
                    handle.write(b"\n")
                else:
                    handle.truncate(cut)
                handle.flush()
                os.fsync(handle.fileno())
        except FileNotFoundError:
            return

    def entries(self) -> list[JournalEntry]:
        """Every entry, oldest first; a torn last line (a crash while writing it) is ignored,
        any other line that is not an entry is a JournalError naming its line."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {exc.strerror}") from None
        found = []
        lines = data.split(b"\n")
        # Each entry is written whole with its newline: only an unterminated last line is torn.
        torn = 0 if data.endswith(b"\n") else len(lines)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            entry = _entry(line)
            if entry is not None:
                found.append(entry)
            elif number != torn:
                raise JournalError(f"{self.path}:{number}: not a journal line")
            # else: the last line, cut by a crash while it was written (even inside a UTF-8
            # sequence): ignore it
        return found

    def finished_steps(self) -> set[tuple[str, int]]:
        """(host, step) pairs that ended ok or were confirmed by the operator."""
        done = set()
        for entry in self.entries():
            if entry.host is None or entry.step is None:
                continue
            ok = entry.event == "step_end" and (entry.data or {}).get("status") == "ok"
            if ok or entry.event == "confirm":
                done.add((entry.host, entry.step))
        return done

    def still_running_steps(self, host: str) -> dict[int, dict[str, Any]]:
        """Steps of `host` last left running on the host (no `step_end` since): their data."""
        left: dict[int, dict[str, Any]] = {}
        for entry in self.entries():
            if entry.host != host or entry.step is None:
                continue
            if entry.event == "step_still_running":
                left[entry.step] = entry.data or {}
            elif entry.event == "step_end":
                left.pop(entry.step, None)
        return left

    def unfinished_starts(self, host: str, kind: str) -> dict[int, dict[str, Any]]:
        """The last `step_start` data of each step of `kind` on `host` that never ended ok."""
        starts: dict[int, dict[str, Any]] = {}
        for entry in self.entries():
            if entry.host != host or entry.step is None:
                continue
            data = entry.data or {}
            if entry.event == "step_start" and data.get("kind") == kind:
                starts[entry.step] = data
            elif entry.event == "step_end" and data.get("status") == "ok":
                starts.pop(entry.step, None)
        return starts


def _entry(line: bytes) -> JournalEntry | None:
    """One journal line as an entry; None when it is not one (torn, or not ours)."""
    try:
        raw = json.loads(line.decode("utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw["time"], str):
            return None
        return JournalEntry(
            raw["time"], str(raw["event"]), raw.get("host"), raw.get("step"), raw.get("data")
        )
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None
