"""Fresh storage for each measured round: a SQLite file, or a PostgreSQL schema."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from rich.console import Console

POSTGRES_URL_ENV = "RETE_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class Storage:
    """Where one round writes: a database URL Rete's settings understand, and a var dir."""

    database_url: str
    var_dir: Path


@dataclass(frozen=True)
class Backend:
    name: str
    server_url: str | None = None  # PostgreSQL only: the server, without a schema

    @contextmanager
    def fresh(self) -> Iterator[Storage]:
        with tempfile.TemporaryDirectory(prefix="rete-bench-") as tmp:
            if self.server_url is None:
                yield Storage(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", Path(tmp))
                return
            with _schema(self.server_url) as schema:
                yield Storage(f"{self.server_url}?schema={schema}", Path(tmp))

    def version(self) -> str:
        if self.server_url is None:
            return f"SQLite {sqlite3.sqlite_version}"
        with psycopg.connect(self.server_url, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"


@contextmanager
def _schema(server_url: str) -> Iterator[str]:
    """A new, empty schema, dropped (with everything in it) afterwards."""
    schema = "bench_" + secrets.token_hex(6)
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def candidate_postgres_urls(override: str | None) -> list[str]:
    """The URL given, or the local server's ``test`` database as this user, then postgres."""
    if override:
        return [override]
    users = dict.fromkeys([getpass.getuser(), "postgres"])
    return [f"postgresql://{quote(user)}@127.0.0.1:5432/test" for user in users]


def find_postgres(override: str | None) -> tuple[str | None, str]:
    """The first reachable server URL, or None and why none was."""
    reasons = []
    for url in candidate_postgres_urls(override):
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            reasons.append(f"{_redact(url)}: {' '.join(str(exc).split())}")
            continue
        return url, ""
    return None, "; ".join(reasons)


def _redact(url: str) -> str:
    """Never print a password."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.removeprefix("postgresql://"):
        return url
    user = head.removeprefix("postgresql://").split(":", 1)[0]
    return f"postgresql://{user}:***@{tail}"


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """``--backend`` and ``--postgres-url``, as every benchmark takes them."""
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        default="both",
        help="which storage to measure on (default: both)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(POSTGRES_URL_ENV),
        help=f"PostgreSQL server (default: ${POSTGRES_URL_ENV}, else the local 'test' database)",
    )


def chosen_backends(args: argparse.Namespace, console: Console) -> list[Backend]:
    """The backends ``--backend`` names; PostgreSQL left out, with the reason said,
    when no server answers."""
    backends = [] if args.backend == "postgres" else [Backend("sqlite")]
    if args.backend == "sqlite":
        return backends
    url, reason = find_postgres(args.postgres_url)
    if url is None:
        console.print(f"[yellow]PostgreSQL skipped: not reachable ({reason})[/yellow]")
    else:
        backends.append(Backend("postgres", url))
    return backends
