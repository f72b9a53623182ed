"""The cyclic garbage collector's settings while hosts are audited.

A run allocates many small containers per host (records, fields, evidence, results) and keeps
most of them until the reports are written, so with CPython's default young threshold (700
allocations) the collector runs often, and each full collection walks every object alive:
the results so far and everything the start-up imported. Measured on 400 lab hosts
(bench/audit.py fleet, Basic, 100 forks, `gc.callbacks` timing): 252 young, 23 middle and 2
full collections, 0.27 s of 3.9 s of CPU. Objects alive when the run begins (modules,
classes, functions) are frozen out of every later collection (`gc.freeze`), and a young
collection waits for 20,000 allocations: 0.18 s on the same fleet, about half of it in the
start-up's imports, before the run. Little of what a run allocates is cyclic garbage, and
reference counting frees the rest at once, so memory is not held longer (peak RSS unchanged,
110 MB).

At its exit the interpreter collects every object still alive, all of them: after a one-host
audit, 0.25-0.3 s of CPU in the CLI's process and 0.15 s in a run's forkserver, which only
imported the audit (issue 18), for memory the OS frees a moment later. `freeze_at_exit`
leaves them to it. Nothing waits on that collection: files are closed where they are
written, and weakref finalizers and the standard streams' flush run at exit anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import threading
from collections.abc import Iterator

YOUNG_THRESHOLD = 20_000

_lock = threading.Lock()
_runs = 0  # runs under way in this process (tests start several at once)
_saved = gc.get_threshold()


@contextlib.contextmanager
def collections_for_a_run() -> Iterator[None]:
    """Freeze what exists now and collect less often; undone when the last run ends."""
    global _runs, _saved
    with _lock:
        if _runs == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            if _saved[0]:  # a threshold of 0 turns collection off: left so
                gc.set_threshold(max(YOUNG_THRESHOLD, _saved[0]), *_saved[1:])
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()


def freeze_at_exit() -> None:
    """Freeze every object at exit, so that the interpreter's last collections skip them.

    Registered once, however often called (the CLI calls it per command, tests in process)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
