"""Integrity alarms: what this process has found altered behind its back.

Whoever checks something the system wrote itself (a view row's seal, a ledger leaf
already hashed, a sealed part's own case and category) and finds it altered raises
an alarm here, with a kind and a detail that never carry personal data. While an
alarm stands, ``/health`` reports the integrity as in doubt and the refused
operation answers the documented ``integrity-failure`` problem, never a generic
internal error. Alarms are cleared only by an operator restarting the process after
repair: nothing here clears them, so a check that fails once is never forgotten.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError

# The kinds an alarm about the event log itself starts with ("log-record-altered",
# "log-record-vanished", "log-version-reused"): the history every view, page and
# write is built on is in doubt, so no case is served or written from it.
LOG_ALARM_PREFIX = "log-"


@dataclass(frozen=True, slots=True)
class IntegrityAlarm:
    kind: str  # e.g. "view-row-altered", "log-record-altered"
    detail: str  # where, by ids only: never a name, a note or a reason
    at: datetime


class IntegrityFailure(DomainError):
    """Something Rete wrote itself was found altered; the operation was refused
    rather than served from it."""

    code = "integrity-failure"
    title = "Stored data failed its integrity check; nothing was served or written"


class IntegrityWatch:
    """The alarms raised in this process (thread-safe). Shared by the whole
    application: the composition root builds one and hands it to each checker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alarms: list[IntegrityAlarm] = []

    def raise_alarm(self, alarm: IntegrityAlarm) -> None:
        with self._lock:
            self._alarms.append(alarm)

    def alarms(self) -> tuple[IntegrityAlarm, ...]:
        with self._lock:
            return tuple(self._alarms)

    @property
    def in_doubt(self) -> bool:
        with self._lock:
            return bool(self._alarms)

    @property
    def log_in_doubt(self) -> bool:
        """An alarm about the event log stands (``LOG_ALARM_PREFIX``)."""
        return any(alarm.kind.startswith(LOG_ALARM_PREFIX) for alarm in self.alarms())

    def require_trusted_log(self) -> None:
        """Refuse (``IntegrityFailure``) while the event log is in doubt."""
        if self.log_in_doubt:
            raise IntegrityFailure(
                "the event log was found altered: no case is read or written from it "
                "until an operator verifies and repairs it (rete ledger verify)"
            )
