"""How far each erasure got: recorded at once, *pending* until no copy of the
destroyed case key can be opened any more, then *complete* (docs/ENCRYPTION.md).

An erasure deletes the case key's row at once; copies of its wrapped form may
outlive the row: in SQLite's write-ahead log while a reader holds an old
snapshot, in PostgreSQL's heap and log until vacuum, and in every backup. Those
copies are useless once every KEK version that ever wrapped the key is destroyed
(*retired*). The key store records each step's time; this is what an auditor and
the operator (``rete keys status``) are shown: case ids and times, nothing
personal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import msgspec

from application.authorisation import Action, authorise
from domain.network import Actor

# Why an erasure still waits, in the words the operator acts on.
WAITING_FOR_LOG = "log"
WAITING_FOR_KEK = "kek"


class Erasure(msgspec.Struct, frozen=True):
    """One erased case. ``waiting_for`` is empty once ``completed_at`` is set:

    * ``log``: the write-ahead log (SQLite) may still hold the wrapped key, because
      a reader kept it open when it was folded; folding is retried until it works;
    * ``kek``: a KEK version up to ``kek_version`` that wrapped the key is still
      held; ``rete keys retire`` (or its schedule) retires it.
    """

    case_id: str
    erased_at: datetime
    status: str  # "pending" or "complete"
    waiting_for: list[str]
    kek_version: int | None  # every KEK version up to this one may have wrapped it
    log_folded_at: datetime | None
    kek_retired_at: datetime | None
    completed_at: datetime | None


class ErasuresPage(msgspec.Struct, frozen=True):
    pending: int
    complete: int
    items: list[Erasure]


class ErasureRecords(Protocol):
    """Where the erasures and their progress are kept (the key store)."""

    def erasures(self) -> Sequence[Erasure]:
        """Every erasure, oldest first, its progress brought up to date."""
        ...


class Erasures:
    """The auditor's view of erasures (``GET /api/v1/audit/erasures``)."""

    def __init__(self, records: ErasureRecords | None) -> None:
        self._records = records

    def list(self, actor: Actor) -> ErasuresPage:
        authorise(actor, Action.AUDIT)
        items = list(self._records.erasures()) if self._records is not None else []
        done = sum(1 for e in items if e.completed_at is not None)
        return ErasuresPage(pending=len(items) - done, complete=done, items=items)
