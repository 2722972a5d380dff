"""Opening the database, and building the event store's recorder on its pool."""

from __future__ import annotations

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory

from infrastructure.db.database import Database
from infrastructure.db.postgres import PostgresDatabase
from infrastructure.db.postgres_pool import install_pool
from infrastructure.db.sqlite import SqliteDatabase, SqlitePool
from infrastructure.db.timeouts import DEFAULT_REQUEST_TIMEOUT, DatabaseTimeouts
from infrastructure.settings import Settings, eventsourcing_env

# How long a thread waits for a connection when all are in use, the write
# connection included (SQLite; on PostgreSQL the library's POSTGRES_CONNECT_TIMEOUT,
# 30 s by default). Each holder keeps it for one transaction, milliseconds (the
# background's batches included): a request waiting longer ends with an error.
_WAIT_FOR_CONNECTION = 10.0


def open_database(
    database_url: str, pool_size: int, request_timeout: float = DEFAULT_REQUEST_TIMEOUT
) -> Database:
    """The process's pool on ``database_url`` (``sqlite:///PATH`` or
    ``postgresql://...[?schema=S]``), holding ``pool_size`` connections at most.
    Built by the eventsourcing library's factory from the same variables the event
    store reads, so that the recorder built on it is the one it would have built.
    On PostgreSQL every wait on it fits in ``request_timeout`` (``postgres_pool``)."""
    env = eventsourcing_env(database_url, pool_size)
    database: Database
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        postgres = PostgresFactory(env).datastore
        install_pool(postgres, DatabaseTimeouts(request_timeout))
        database = PostgresDatabase(postgres)
    else:
        datastore = SQLiteFactory(env).datastore
        # The library's SQLite factory reads no pool size: our pool, of that size
        # with no overflow, in place of the one it made (which never connected).
        unused, datastore.pool = (
            datastore.pool,
            SqlitePool(
                db_name=datastore.pool.db_name,
                lock_timeout=datastore.pool.lock_timeout,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=_WAIT_FOR_CONNECTION,
            ),
        )
        unused.close()
        database = SqliteDatabase(datastore)
    database.url = database_url
    return database


def open_from_settings(settings: Settings) -> Database:
    return open_database(
        settings.database_url, settings.database_pool_size, settings.request_timeout
    )


def build_on(factory: InfrastructureFactory, database: Database) -> InfrastructureFactory:
    """``factory`` (an application's, before it builds its recorder) made to build on
    ``database``'s pool instead of a datastore of its own (which never connected)."""
    unused = getattr(factory, "datastore", None)
    if unused is None:
        raise TypeError("only SQLite or PostgreSQL event stores share the database")
    factory.datastore = database.datastore  # type: ignore[attr-defined]
    unused.close()
    return factory
