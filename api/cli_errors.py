"""The failures a user of ``rete`` can fix, as a one-line message and exit code 1."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg
from eventsourcing.persistence import PersistenceError

from api.cli_waiting import why
from application.errors import StorageFull
from domain import errors
from infrastructure.crypto.kek import KekError, UnwrapError
from infrastructure.db.storage_full import is_storage_full
from infrastructure.db.unavailable import Away, why_away
from infrastructure.dev_secret import DevSecretError
from infrastructure.network_file import NetworkFileError
from infrastructure.settings import SettingsError, load_settings

# Failures whose message says what to fix, as it is.
_SAID: tuple[type[Exception], ...] = (
    SettingsError,
    NetworkFileError,
    DevSecretError,
    KekError,
    UnwrapError,  # a wrong KEK for this database: its message names no key material
)
_DATABASE: tuple[type[Exception], ...] = (PersistenceError, psycopg.Error, sqlite3.Error)
_FULL = (
    "the storage is full: nothing was written; free space on the database's disk, then try again"
)


@contextmanager
def expected_errors(*also: type[Exception]) -> Iterator[None]:
    """Turn what a user can fix into ``Error: ...`` and exit 1 (``also``: more
    exception types whose message is meant for the user)."""
    try:
        yield
    except (*_SAID, *also) as e:
        raise click.ClickException(str(e)) from None
    except errors.DomainError as e:
        raise click.ClickException(f"{e.code}: {e.detail}") from None
    except StorageFull:
        raise click.ClickException(_FULL) from None
    except _DATABASE as e:
        if is_storage_full(e):
            raise click.ClickException(_FULL) from None
        away = why_away(e)
        if away is not None:
            # Which of unreachable, missing (and the createdb to run) or full.
            raise click.ClickException(f"the database is not available: {_why(away)}") from None
        # The driver's first line names the problem (a schema missing, a refused
        # connection); it carries no stored value.
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise click.ClickException(
            f"the database refused or did not answer: {first}; check RETE_DATABASE_URL"
        ) from None


def _why(away: Away) -> str:
    try:
        return why(load_settings(), away)
    except Exception:
        return f"{away.value}; check RETE_DATABASE_URL"
