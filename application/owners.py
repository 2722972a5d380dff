"""Which service owns a case: what this process has learnt, kept because it never changes.

A case's owning service is fixed when the case is opened (``Case.open``) and no
event changes it, and its owner always sees it (``domain.visibility``). So once
this process knows a case's owner (it opened the case, or the views showed it),
"the owner may see it" needs neither the views nor a catch-up of them, whichever
worker wrote what since: the answer cannot go stale. That spares a command the
catch-up that the views would otherwise need just after the case was opened.

Only ever a "yes", and only for the owner: any other service's question goes to
the views, by the same path whether the case is missing or hidden
(``application.loading``). Bounded: the oldest entries are forgotten first, and
a forgotten owner is asked of the views again.
"""

from __future__ import annotations

import threading
from typing import Final
from uuid import UUID

# Enough for the cases a worker touches in a busy day; a few MB at most.
KEPT: Final = 50_000


class KnownOwners:
    """Thread-safe: one per process, shared by its use cases (``Context.owners``)."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._owners: dict[UUID, str] = {}
        self._lock = threading.Lock()

    def note(self, case_id: UUID, owner_service: str) -> None:
        with self._lock:
            owners = self._owners
            if case_id in owners:
                return
            if len(owners) >= self._kept:
                del owners[next(iter(owners))]  # the oldest noted
            owners[case_id] = owner_service

    def owns(self, case_id: UUID, service_id: str) -> bool:
        """Whether ``service_id`` is known to own the case (False when unknown)."""
        return self._owners.get(case_id) == service_id
