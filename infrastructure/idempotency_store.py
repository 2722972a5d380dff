"""The idempotency keys' table (``application.idempotency``), in the events'
database, through the process's one pool (``infrastructure.db``): every worker and
every restart sees the same reservations and answers.

A row is named by a digest of the caller and the key, never the key itself; its
answer is sealed (AES-GCM) under a key derived from the idempotency key, which
only the caller holds, and from a secret that exists only in Rete's processes
(``infrastructure.crypto.scoped_secret``, scope ``idempotency``): what the answer
says of a case (a note's text) is never readable at rest, even for a client whose
keys can be guessed, and is gone with the row after the retention time. Rows are
named by an HMAC under the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.idempotency import (
    AlreadyApplied,
    Announced,
    Answer,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    OutcomeUnknown,
    Reservation,
    Reserved,
)
from infrastructure.commit_witness import is_stored
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.crypto.scoped_secret import scoped_secret
from infrastructure.db import Database
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

TABLE = "rete_idempotency"

DDL = """CREATE TABLE IF NOT EXISTS {table} (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    token TEXT NOT NULL,
    state TEXT NOT NULL,
    announced TEXT,
    answer {blob},
    created {int} NOT NULL,
    touched {int} NOT NULL
)"""
INDEX = "CREATE INDEX IF NOT EXISTS {name} ON {table} (created)"

PENDING, UNKNOWN, DONE = "pending", "unknown", "done"

# A reservation whose request has not answered for this long is taken to have
# ended (every request ends within the server's bounds well before).
LEASE_SECONDS = 60.0
# The rows need not wait for the disk at commit: the events' own commit, which
# waits, comes after the reservation and the announcement and carries them to the
# disk with it (PostgreSQL's WAL and SQLite's are written in order). A crash may
# lose a recorded answer whose events are stored: the retry then finds the
# announced events in the log (409 already-applied), never a second write.
_DURABILITY: Final = "derived"
# Expired keys are deleted at most this often, by the writes themselves.
_PURGE_EVERY = 60.0
# The scope of the data key the answers' secret derives from, and its use.
IDEMPOTENCY_SCOPE: Final = "idempotency"
_LABEL: Final = b"rete idempotent answers v1"

Landed = Callable[[Announced], bool]
"""Whether an announced event is in the log with the announced bytes (raises when
the log cannot be read)."""


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


class SqlIdempotencyStore:
    """Implements ``application.idempotency.IdempotencyStore``."""

    def __init__(
        self,
        database: Database,
        landed: Landed,
        *,
        secret: bytes,
        retention_hours: float = 24.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.database = database
        self.landed = landed
        self._secret = secret
        self.retention = retention_hours * 3600
        self.now = now
        self._purged = 0.0
        self._purge_lock = threading.Lock()
        with database.write("-- ddl --") as tx:
            table = tx.dialect.qualify(TABLE)
            types = tx.dialect.types
            tx.command(DDL.format(table=table, blob=types["blob"], int=types["int"]))
            tx.command(INDEX.format(name=f"{TABLE}_created", table=table))
        self._table = table

    # -- the port -------------------------------------------------------------

    def reserve(self, owner: str, key: str, fingerprint: str) -> Reservation:
        self._purge_now_and_then()
        row_id = _row_id(self._secret, owner, key)
        now = _micros(self.now())
        token = secrets.token_hex(16)
        with self.database.write(f"idempotency:{row_id}", durability=_DURABILITY) as tx:
            rows = tx.query(
                f"SELECT fingerprint, token, state, announced, answer, touched "
                f"FROM {self._table} WHERE id = %s",
                (row_id,),
            )
            if not rows or rows[0][5] < now - _micros(self.retention):
                tx.command(f"DELETE FROM {self._table} WHERE id = %s", (row_id,))
                tx.command(
                    f"INSERT INTO {self._table} (id, fingerprint, token, state, created, touched) "
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    (row_id, fingerprint, token, PENDING, now, now),
                )
                return Reserved(token)
            found_fingerprint, _, state, announced, sealed, touched = rows[0]
            if found_fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was sent with another request (method, address "
                    "or body); use a new key for a new request"
                )
            if state == DONE:
                return _open(self._secret, owner, key, bytes(sealed))
            if state == PENDING and touched > now - _micros(LEASE_SECONDS):
                raise IdempotencyInProgress(
                    "a request with this Idempotency-Key is still running; retry shortly"
                )
            # Its request ended without an answer: what it announced decides.
            if announced and self._any_landed(announced):
                raise AlreadyApplied(
                    "a request with this Idempotency-Key was applied, and its answer was "
                    "lost; nothing was done again: read the resource for its state"
                )
            tx.command(
                f"UPDATE {self._table} SET token = %s, state = %s, announced = NULL, "
                "touched = %s WHERE id = %s",
                (token, PENDING, now, row_id),
            )
            return Reserved(token)

    def announce(self, owner: str, key: str, token: str, events: Sequence[Announced]) -> None:
        listed = [[str(e.stream), e.version, e.digest] for e in events]
        with self.database.write(durability=_DURABILITY) as tx:
            rows = tx.query(
                f"SELECT announced FROM {self._table} WHERE id = %s AND token = %s",
                (_row_id(self._secret, owner, key), token),
            )
            if not rows:
                raise OutcomeUnknown("this request's Idempotency-Key was taken over; retry")
            before = json.loads(rows[0][0]) if rows[0][0] else []
            tx.command(
                f"UPDATE {self._table} SET announced = %s, touched = %s "
                "WHERE id = %s AND token = %s",
                (
                    json.dumps(before + listed),
                    _micros(self.now()),
                    _row_id(self._secret, owner, key),
                    token,
                ),
            )

    def record(self, owner: str, key: str, token: str, answer: Answer) -> None:
        with self.database.write(durability=_DURABILITY) as tx:
            tx.command(
                f"UPDATE {self._table} SET state = %s, answer = %s, touched = %s "
                "WHERE id = %s AND token = %s",
                (
                    DONE,
                    _seal(self._secret, owner, key, answer),
                    _micros(self.now()),
                    _row_id(self._secret, owner, key),
                    token,
                ),
            )

    def release(self, owner: str, key: str, token: str, *, unknown: bool = False) -> None:
        with self.database.write(durability=_DURABILITY) as tx:
            if unknown:
                tx.command(
                    f"UPDATE {self._table} SET state = %s WHERE id = %s AND token = %s",
                    (UNKNOWN, _row_id(self._secret, owner, key), token),
                )
            else:
                tx.command(
                    f"DELETE FROM {self._table} WHERE id = %s AND token = %s",
                    (_row_id(self._secret, owner, key), token),
                )

    # -- upkeep ---------------------------------------------------------------

    def purge(self) -> int:
        """Forget the keys older than the retention time; how many."""
        before = _micros(self.now() - self.retention)
        with self.database.write() as tx:
            return tx.command(f"DELETE FROM {self._table} WHERE created < %s", (before,))

    def _purge_now_and_then(self) -> None:
        now = self.now()
        with self._purge_lock:
            if now - self._purged < _PURGE_EVERY:
                return
            self._purged = now
        self.purge()

    def _any_landed(self, announced: str) -> bool:
        try:
            return any(
                self.landed(Announced(UUID(stream), int(version), str(digest)))
                for stream, version, digest in json.loads(announced)
            )
        except OutcomeUnknown:
            raise
        except Exception:
            raise OutcomeUnknown(
                "whether the first request with this Idempotency-Key was stored cannot "
                "be read now; retry with the same key"
            ) from None


def _row_id(secret: bytes, owner: str, key: str) -> str:
    return hmac.new(secret, f"{owner}\x00{key}".encode(), hashlib.sha256).hexdigest()


def _cipher(secret: bytes, owner: str, key: str) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=secret,
        info=b"rete idempotent answer\x00" + owner.encode(),
    ).derive(key.encode())
    return AESGCM(derived)


def _seal(secret: bytes, owner: str, key: str, answer: Answer) -> bytes:
    plain = json.dumps(
        {"status": answer.status, "headers": answer.headers, "body": answer.body.hex()}
    ).encode()
    nonce = os.urandom(12)
    return nonce + _cipher(secret, owner, key).encrypt(nonce, plain, None)


def _open(secret: bytes, owner: str, key: str, sealed: bytes) -> Answer:
    plain = json.loads(_cipher(secret, owner, key).decrypt(sealed[:12], sealed[12:], None))
    return Answer(
        int(plain["status"]),
        tuple((str(k), str(v)) for k, v in plain["headers"]),
        bytes.fromhex(plain["body"]),
    )


def open_idempotency(settings: Settings, store: ReteEventStore) -> SqlIdempotencyStore | None:
    """The keys' table beside ``store``'s events (``None`` for a store kept in memory)."""
    if not isinstance(store.keys, SqlKeyStore):
        return None
    recorder = store.recorder
    return SqlIdempotencyStore(
        store.keys.database,
        lambda announced: is_stored(recorder, announced),
        secret=scoped_secret(store.keys, IDEMPOTENCY_SCOPE, _LABEL),
        retention_hours=settings.idempotency_hours,
    )
