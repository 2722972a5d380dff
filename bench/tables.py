"""The shape of the tables that compare backends: one row per backend."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.table import Table


def by_backend(
    title: str, caption: str, columns: Sequence[str], rows: Iterable[Sequence[str]]
) -> Table:
    """A table whose first column names the backend and whose ``columns`` (numbers)
    are right-justified; each of ``rows`` is the backend's name, then its cells."""
    table = Table(title=title, caption=caption)
    table.add_column("backend")
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(*row)
    return table
