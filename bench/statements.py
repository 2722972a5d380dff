"""What a story sends to PostgreSQL: statements and round trips, counted exactly.

Runs ``stories`` stories (``bench.stories``, after a few to warm up) through Rete
and through the baseline, each on a fresh schema, with psycopg's real connections
traced in this process only (nothing in the product is changed, no server setting
is needed): every statement the driver is asked to send, by its normalised text
(literals and numbers as ``?``, the schema as ``S``), and what it costs in round
trips:

* a statement run alone (``execute``, and the driver's own ``BEGIN``/``COMMIT``):
  one round trip, whatever it holds (a simple query of several statements, such
  as ``BEGIN; SET LOCAL ...; SELECT ...``, is one);
* statements queued in a pipeline (``executemany``, the event store's inserts):
  none each; the pipeline's sync, one;
* ``COPY ... FROM STDIN``: two (the server's go-ahead, then the data).

The counts are per story and do not depend on the machine's load: the figure to
compare before and after a change to the write path. ``--callers`` adds where each
statement comes from (the first frame in the project outside the database layer).

    python -m bench.statements [--stories N] [--callers] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import psycopg
from psycopg import sql
from psycopg._connection_base import BaseConnection
from psycopg._pipeline_base import BasePipeline
from rich.console import Console
from rich.table import Table

from bench.backends import POSTGRES_URL_ENV, Backend, find_postgres
from bench.stories import IMPLEMENTATIONS

WARMUP = 5
STORIES = 20

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w$])-?\d+(?:\.\d+)?\b")
_PLACEHOLDERS = re.compile(r"\?(?:\s*,\s*\?)+")
_SCHEMA = re.compile(r'"?bench_[0-9a-f]{12}"?')
_SPACE = re.compile(r"\s+")
# Frames skipped when naming who sent a statement: the driver, the pool, the
# library's recorder, the database layer, and this module.
_PLUMBING = (
    f"{os.sep}psycopg",
    f"{os.sep}eventsourcing{os.sep}",
    f"infrastructure{os.sep}db{os.sep}",
    f"bench{os.sep}statements.py",
    f"{os.sep}contextlib.py",
)


def normalise(statement: Any, width: int = 140) -> str:
    """A statement's text with what varies from call to call taken out."""
    if isinstance(statement, sql.Composable):
        try:
            text = statement.as_string()
        except (psycopg.Error, TypeError):  # a part that needs a connection to render
            text = repr(statement)
    elif isinstance(statement, bytes):
        text = statement.decode(errors="replace")
    else:
        text = str(statement)
    text = _SCHEMA.sub("S", text)
    text = _LITERAL.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = text.replace("%s", "?").replace("%b", "?").replace("%t", "?")
    text = _PLACEHOLDERS.sub("?, …", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class Trace:
    """What was sent while tracing, by normalised statement (and caller)."""

    callers: bool = False
    statements: Counter[tuple[str, str]] = field(default_factory=Counter)
    round_trips: int = 0
    syncs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, statement: Any, trips: int) -> None:
        key = (_caller() if self.callers else "", normalise(statement))
        with self._lock:
            self.statements[key] += 1
            self.round_trips += trips

    def synced(self) -> None:
        with self._lock:
            self.round_trips += 1
            self.syncs += 1

    @property
    def total(self) -> int:
        return sum(self.statements.values())

    def count(self, prefix: str) -> int:
        return sum(n for (_, s), n in self.statements.items() if s.upper().startswith(prefix))


def _caller() -> str:
    """The first frame in the project outside the plumbing. (Statements queued to
    go with a transaction's commit are named by the frame that commits.)"""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not any(p in name for p in _PLUMBING):
            module = frame.f_globals.get("__name__", "?")
            return f"{module}.{frame.f_code.co_qualname}"
        frame = frame.f_back
    return "?"


def _in_pipeline(cursor: Any) -> bool:
    return getattr(cursor.connection, "_pipeline", None) is not None


@contextmanager
def traced(trace: Trace) -> Iterator[Trace]:
    """Count what every psycopg connection of this process sends, until the end."""
    patched: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        patched.append((owner, name, original))
        setattr(owner, name, make(original))

    def execute(original: Any) -> Any:
        def wrapper(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            trace.sent(query, 0 if _in_pipeline(self) else 1)
            return original(self, query, *args, **kwargs)

        return wrapper

    def executemany(original: Any) -> Any:
        def wrapper(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            # Queued in a pipeline (its own, or the one it rides): the sync is the trip.
            trace.sent(query, 0)
            return original(self, query, *args, **kwargs)

        return wrapper

    def copy(original: Any) -> Any:
        def wrapper(self: Any, statement: Any, *args: Any, **kwargs: Any) -> Any:
            trace.sent(statement, 2)
            return original(self, statement, *args, **kwargs)

        return wrapper

    def command(original: Any) -> Any:
        def wrapper(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            trace.sent(command, 0 if self._pipeline is not None else 1)
            return original(self, command, *args, **kwargs)

        return wrapper

    def sync(original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            trace.synced()
            return original(self, *args, **kwargs)

        return wrapper

    patch(psycopg.Cursor, "execute", execute)
    patch(psycopg.Cursor, "executemany", executemany)
    patch(psycopg.Cursor, "copy", copy)
    patch(BaseConnection, "_exec_command", command)
    patch(BasePipeline, "_sync_gen", sync)
    patch(BasePipeline, "_exit_gen", sync)
    try:
        yield trace
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def count(backend: Backend, implementation: str, stories: int, callers: bool) -> Trace:
    """``stories`` stories through one implementation on fresh storage, traced."""
    with backend.fresh() as storage:
        runner = IMPLEMENTATIONS[implementation](storage.database_url, storage.var_dir)
        try:
            for _ in range(WARMUP):
                runner.story()
            with traced(Trace(callers)) as trace:
                for _ in range(stories):
                    runner.story()
        finally:
            runner.close()
    return trace


def summary_table(traces: dict[str, Trace], stories: int) -> Table:
    table = Table(title=f"PostgreSQL, per story (over {stories} stories)")
    table.add_column("implementation")
    for heading in ("round trips", "statements", "BEGIN", "COMMIT", "pipeline syncs"):
        table.add_column(heading, justify="right")
    for name, trace in traces.items():
        table.add_row(
            name,
            f"{trace.round_trips / stories:.1f}",
            f"{trace.total / stories:.1f}",
            f"{trace.count('BEGIN') / stories:.1f}",
            f"{trace.count('COMMIT') / stories:.1f}",
            f"{trace.syncs / stories:.1f}",
        )
    return table


def breakdown_table(name: str, trace: Trace, stories: int) -> Table:
    table = Table(title=f"{name}: statements per story, by text", show_lines=False)
    table.add_column("per story", justify="right")
    if trace.callers:
        table.add_column("from")
    table.add_column("statement (normalised)", overflow="fold")
    for (caller, statement), n in sorted(trace.statements.items(), key=lambda kv: -kv[1]):
        cells = [f"{n / stories:.2f}", *([caller] if trace.callers else []), statement]
        table.add_row(*cells)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__)
    parser.add_argument("--stories", type=int, default=STORIES)
    parser.add_argument("--callers", action="store_true", help="name each statement's sender")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_URL_ENV),
        help=f"PostgreSQL server (default: ${POSTGRES_URL_ENV}, else the local 'test' database)",
    )
    args = parser.parse_args(argv)
    console = Console(width=200)
    url, reason = find_postgres(args.postgres_url)
    if url is None:
        console.print(f"[red]PostgreSQL not reachable ({reason})[/red]")
        return 1
    backend = Backend("postgres", url)
    traces = {name: count(backend, name, args.stories, args.callers) for name in IMPLEMENTATIONS}
    console.print(summary_table(traces, args.stories))
    for name, trace in traces.items():
        console.print(breakdown_table(name, trace, args.stories))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
