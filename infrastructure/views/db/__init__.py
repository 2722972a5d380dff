"""The views' tables beside the events, on the process's database
(``infrastructure.db``): SQLite or PostgreSQL, in the events' schema."""

from __future__ import annotations

from infrastructure.views.db.base import Dialect, ViewTables, ViewTx

__all__ = ["Dialect", "ViewTables", "ViewTx"]
