"""What a run needs of a host to audit it: made by `targets` from the inventory, used by the
audit and its workers.

Apart from `targets` so that a worker's forkserver, which unpickles targets and never reads an
inventory, imports neither the inventory readers nor the variable templating (60 ms of CPU
per run over workers, issue 18).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from remediate.errors import ConfigurationError
from remediate.transport import Dialect, Transport


@dataclass(frozen=True)
class HostTarget:
    """A host to audit: its name, how to connect, and the dialect if the inventory fixes it.

    `problem` is set when the host's settings cannot work: `connect` then raises it.
    `modules` are those its connection imports on first use (`first_use_modules`).
    """

    name: str
    connect: Callable[[], Transport]
    shell: Dialect | None = None
    transport: str = "winrm"
    address: str = ""
    problem: ConfigurationError | None = None
    modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedHost:
    """A host left alone because remediate cannot use its connection (`local`, `docker`...)."""

    name: str
    connection: str
    reason: str
