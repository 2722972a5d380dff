"""The idempotency keys' table on SQLite and PostgreSQL: how long a key is kept,
what a retry gets while the first request runs and after it ended without an
answer, and what is readable at rest (issue 11, finding 8).
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from support.rawdb import as_bytes, raw_rows

from application import idempotency
from infrastructure.crypto.scoped_secret import scoped_secret
from infrastructure.idempotency_store import (
    IDEMPOTENCY_SCOPE,
    LEASE_SECONDS,
    TABLE,
    SqlIdempotencyStore,
)

OWNER = "cav-scirocco/anna"
ANSWER = idempotency.Answer(201, (("etag", '"3"'),), b'{"text":"he came back last night"}')


class Now:
    def __init__(self) -> None:
        self.at = 1_000_000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def landed() -> set[idempotency.Announced]:
    """What the log holds, as far as these tests are concerned."""
    return set()


@pytest.fixture
def keys(rete, landed) -> tuple[SqlIdempotencyStore, Now]:
    now = Now()

    def is_landed(announced: idempotency.Announced) -> bool:
        if announced.digest == "unreadable":
            raise RuntimeError("the database is away")
        return announced in landed

    store = SqlIdempotencyStore(
        rete.ctx.store.keys.database,
        is_landed,
        secret=scoped_secret(rete.ctx.store.keys, IDEMPOTENCY_SCOPE, b"test"),
        retention_hours=1,
        now=now,
    )
    return store, now


def reserved(store: SqlIdempotencyStore, key: str, fingerprint: str = "f") -> str:
    reservation = store.reserve(OWNER, key, fingerprint)
    assert isinstance(reservation, idempotency.Reserved)
    return reservation.token


def test_an_answer_is_replayed_until_the_retention_time_then_forgotten(keys) -> None:
    store, now = keys
    store.record(OWNER, "k", reserved(store, "k"), ANSWER)
    assert store.reserve(OWNER, "k", "f") == ANSWER
    with pytest.raises(idempotency.IdempotencyKeyReused):
        store.reserve(OWNER, "k", "another body")
    now.at += 3600 + 1
    assert store.purge() == 1
    assert isinstance(store.reserve(OWNER, "k", "another body"), idempotency.Reserved)


def test_a_running_request_holds_its_key_for_the_lease_then_a_retry_runs(keys) -> None:
    store, now = keys
    first = reserved(store, "k")
    with pytest.raises(idempotency.IdempotencyInProgress):
        store.reserve(OWNER, "k", "f")
    now.at += LEASE_SECONDS + 1
    second = reserved(store, "k")  # it died announcing nothing: nothing was written
    # The first, were it still alive, can no longer record or announce on the key.
    store.record(OWNER, "k", first, idempotency.Answer(500, (), b""))
    with pytest.raises(idempotency.OutcomeUnknown):
        store.announce(OWNER, "k", first, [])
    store.record(OWNER, "k", second, ANSWER)
    assert store.reserve(OWNER, "k", "f") == ANSWER


def test_a_request_that_ended_unknown_is_settled_by_what_it_announced(keys, landed) -> None:
    store, _ = keys
    stored = idempotency.Announced(uuid4(), 4, "d1")
    token = reserved(store, "stored")
    store.announce(OWNER, "stored", token, [stored])
    store.release(OWNER, "stored", token, unknown=True)
    landed.add(stored)
    with pytest.raises(idempotency.AlreadyApplied):
        store.reserve(OWNER, "stored", "f")

    token = reserved(store, "lost")
    store.announce(OWNER, "lost", token, [idempotency.Announced(uuid4(), 4, "d2")])
    store.release(OWNER, "lost", token, unknown=True)
    assert isinstance(store.reserve(OWNER, "lost", "f"), idempotency.Reserved)  # not stored: runs

    token = reserved(store, "away")
    store.announce(OWNER, "away", token, [idempotency.Announced(uuid4(), 4, "unreadable")])
    store.release(OWNER, "away", token, unknown=True)
    with pytest.raises(idempotency.OutcomeUnknown):
        store.reserve(OWNER, "away", "f")


def test_a_refused_request_frees_its_key(keys) -> None:
    store, _ = keys
    store.release(OWNER, "k", reserved(store, "k"))
    assert isinstance(store.reserve(OWNER, "k", "another body"), idempotency.Reserved)


def test_neither_the_key_nor_the_answer_is_readable_at_rest(keys, backend) -> None:
    store, _ = keys
    store.record(OWNER, "key-7f3a", reserved(store, "key-7f3a"), ANSWER)
    rows = raw_rows(backend, TABLE)
    assert len(rows) == 1
    at_rest = b"".join(
        as_bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in rows[0]
    )
    assert b"key-7f3a" not in at_rest
    assert b"came back" not in at_rest
    assert b"anna" not in at_rest


def test_an_answer_does_not_open_with_a_guessed_key_alone(keys, backend) -> None:
    """A client whose keys can be guessed ("note-1") does not expose its answers to
    a reader of the database: the sealing key also needs a secret of the processes."""
    store, _ = keys
    store.record(OWNER, "note-1", reserved(store, "note-1"), ANSWER)
    (row,) = raw_rows(backend, TABLE)
    sealed = next(
        as_bytes(v) for v in row if isinstance(v, bytes | memoryview) and len(as_bytes(v)) > 40
    )
    for salt in (OWNER.encode(), None):  # the key and the owner, as a guesser has them
        guessed = HKDF(hashes.SHA256(), 32, salt=salt, info=b"rete idempotent answer").derive(
            b"note-1"
        )
        with pytest.raises(InvalidTag):
            AESGCM(guessed).decrypt(sealed[:12], sealed[12:], None)
