"""The views' tables: statements through the process's database (``infrastructure.db``).

``ViewTx`` is the database's transaction type and ``Dialect`` its dialect; the
conversions by column kind (``schema.Column.kind``) are the dialect's.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from infrastructure.db import Database, Dialect, Tx
from infrastructure.db.dialect import from_micros, to_micros

ViewTx = Tx

__all__ = ["Dialect", "ViewTables", "ViewTx", "from_micros", "to_micros"]


class ViewTables:
    """The views' tables beside the events, on the process's database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.dialect: Dialect = database.dialect
        self._lock = f"rete views {database.dialect.schema}"

    def read(self, snapshot: bool = True, scan: bool = False) -> AbstractContextManager[ViewTx]:
        """Statements in one read-only snapshot (every query sees the same state);
        ``snapshot=False`` for one statement on its own (one round trip). ``scan``:
        the log read by its position index (``Database.read``)."""
        return self.database.read(snapshot, scan=scan)

    def write(self, bulk: bool = False) -> AbstractContextManager[ViewTx]:
        """One transaction, serialised with every other writer of the views, in any
        process (the projections' batches, a rebuild's swap). Views are derived
        data, kept with their position in each transaction: a commit lost to a
        power cut loses both, and the runner applies them again. ``bulk``: a batch
        of a rebuild's side tables, which a crash may lose whole (the rebuild starts
        over); never the live views nor the swap."""
        return self.database.write(self._lock, durability="bulk" if bulk else "derived")

    def aside(self) -> AbstractContextManager[ViewTx]:
        """One transaction not serialised with the views' writers, for tables no
        other writer touches (a rebuild's fresh tables, once filled: their indexes)."""
        return self.database.write(None, durability="bulk")

    def close(self) -> None:
        """Nothing to close: the connections are the process's (``Database``)."""
