"""Runtime state of one simulated host: its model, counters, open shells, reboots."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from remediate.lab.fleet import HostSpec


@dataclass
class Counters:
    """What tests and benchmarks read about one host."""

    requests: int = 0
    connections: int = 0
    auth_failures: int = 0
    shells_created: int = 0
    shells_open: int = 0
    commands: int = 0
    signals: int = 0
    ssh_sessions: int = 0
    faults_sent: int = 0
    # Shells deleted after a connection that carried one of their commands broke (a client
    # must delete them over a fresh connection, or they hold a quota slot until idle timeout).
    shells_deleted_after_break: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ReceivedScript:
    """A declared script the host was asked to run, with its decoded arguments."""

    name: str
    arguments: Any
    transport: str


@dataclass
class LabHost:
    """One host of the fleet as it is now (the spec is mutated by remediation steps)."""

    spec: HostSpec
    counters: Counters = field(default_factory=Counters)
    received: list[ReceivedScript] = field(default_factory=list)
    # The event log reads the collector made, as it would issue them (answers/collect.py).
    event_queries: list[Any] = field(default_factory=list)
    offline_until: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)
    on_reboot: Callable[[], None] | None = None
    temp_files: dict[str, bytes] = field(default_factory=dict)
    booted_at: float = field(default_factory=lambda: time.time() - 86400.0)
    # A real event log holds records written at fixed times: the generated ones end when the
    # lab started, so two reads a few seconds apart see the same records (not shifted ones).
    events_until: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def address(self) -> str:
        assert self.spec.address is not None, "addresses are assigned when the fleet loads"
        return self.spec.address

    def is_online(self) -> bool:
        """False while the host is down by fault or rebooting."""
        return not self.spec.faults.down and time.monotonic() >= self.offline_until

    def begin_reboot(self) -> None:
        """Go offline for the configured time; pending file replacements land now."""
        with self.lock:
            self.offline_until = time.monotonic() + self.spec.faults.reboot_seconds
            self.booted_at = time.time() + self.spec.faults.reboot_seconds
            for entry in self.spec.files:
                if entry.pending_version is not None:
                    entry.version = entry.pending_version
                    entry.pending_version = None
            deleted = {path.lower() for path in self.spec.pending_deletes}
            self.spec.files = [f for f in self.spec.files if f.path.lower() not in deleted]
            self.spec.pending_deletes = []
            self.spec.pending_reboot = False
        if self.on_reboot is not None:
            self.on_reboot()

    def count(self, counter: str, delta: int = 1) -> None:
        with self.lock:
            setattr(self.counters, counter, getattr(self.counters, counter) + delta)

    def check_password(self, username: str, password: str) -> bool:
        """Whether these credentials log on; the wrong_password fault refuses everyone."""
        if self.spec.faults.wrong_password:
            return False
        expected = self.spec.credentials
        user = username.split("\\")[-1].split("@")[0]
        return user.lower() == expected.username.lower() and password == expected.password
