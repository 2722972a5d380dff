"""No data key is ever at rest unwrapped: not in the database, not in the key file.
And the KEK itself never reaches the database."""

from __future__ import annotations

import base64
from pathlib import Path
from uuid import uuid4

import psycopg
from crypto_support import KEY_TABLES, database_url
from psycopg import sql
from support.rawdb import raw_rows

from infrastructure.crypto.kek import Keyring, create_key_file, parse_keyring
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.crypto.scopes import SYSTEM_SCOPE, case_scope
from infrastructure.crypto.sealing import context, seal


def spellings(secret: bytes) -> list[bytes]:
    """The ways a key could be written down: raw, hex, base64."""
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


def everything_stored(backend: dict[str, str]) -> bytes:
    """Every byte the database holds for us: the SQLite files (with WAL), or every
    row of every table in the test's PostgreSQL schema, in binary and text form."""
    if backend["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        folder = Path(backend["SQLITE_DBNAME"]).parent
        return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())
    schema = backend["RETE_DATABASE_SCHEMA"]
    chunks: list[bytes] = []
    with psycopg.connect(backend["POSTGRES_URL"], autocommit=True) as pg:
        tables = pg.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
        assert {name for (name,) in tables} >= set(KEY_TABLES)
        for (name,) in tables:
            text = sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(schema, name))
            chunks += [row[0].encode() for row in pg.execute(text)]
            for row in raw_rows(backend, name):
                chunks += [
                    bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
                ]
    return b"\x00".join(chunks)


def test_no_data_key_and_no_kek_is_stored_in_clear(backend: dict[str, str], tmp_path: Path) -> None:
    keyring = create_key_file(tmp_path / "keys" / "kek.json")
    store = SqlKeyStore(database_url(backend), keyring)
    try:
        scopes = [SYSTEM_SCOPE, *(case_scope(uuid4()) for _ in range(5))]
        keys = []
        for scope in scopes:
            key_id, key = store.sealing_key(scope)
            seal(key_id, key, b"planted", context(scope))
            keys.append(key)
        keys.append(store.opening_key(store.rotate_data_key(scopes[1])) or b"")
        keyring.rotate()
        store.rewrap_all(keyring)
        store.destroy(scopes[2])
        keks = list(parse_keyring(keyring.path.read_bytes(), "test").keys.values())
    finally:
        store.close()

    stored = everything_stored(backend)
    key_file = keyring.path.read_bytes()
    assert len(stored) > 0 and all(len(key) == 32 for key in keys)
    for key in keys:
        for spelling in spellings(key):
            assert spelling not in stored
            assert spelling not in key_file
    for kek in keks:
        for spelling in spellings(kek):
            assert spelling not in stored


def test_sqlite_leaves_no_wrapped_copy_of_a_destroyed_key(tmp_path: Path, keyring: Keyring) -> None:
    """Beyond the port's promise: on SQLite, destroyed rows are zeroed (secure_delete)
    and the WAL is folded back, so not even the wrapped copy lingers in the files.
    PostgreSQL keeps dead tuples until VACUUM (and the WAL and backups keep them
    longer): there KEK rotation is what retires those copies (docs/ENCRYPTION.md)."""
    path = tmp_path / "db" / "rete.sqlite"
    sqlite = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}
    store = SqlKeyStore(f"sqlite:///{path}", keyring)
    try:
        doomed = case_scope(uuid4())
        store.sealing_key(SYSTEM_SCOPE)
        store.sealing_key(doomed)
        wrapped = [bytes(r[5]) for r in raw_rows(sqlite, "rete_data_keys") if r[1] == doomed]
        assert len(wrapped) == 1 and wrapped[0] in everything_stored(sqlite)
        store.destroy(doomed)
    finally:
        store.close()
    assert wrapped[0] not in everything_stored(sqlite)
