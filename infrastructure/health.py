"""Readiness: does the event store's database answer a cheap question?"""

from __future__ import annotations

from infrastructure.logging import get_logger
from infrastructure.store import ReteEventStore

log = get_logger(__name__)


class DatabaseCheck:
    def __init__(self, store: object) -> None:
        self._store = store

    def reachable(self) -> bool:
        """True when the database answers; a store without one (a test double) always does."""
        if not isinstance(self._store, ReteEventStore):
            return True
        try:
            self._store.recorder.max_notification_id()
        except Exception as e:
            log.warning(
                "database unreachable",
                exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
            )
            return False
        return True
