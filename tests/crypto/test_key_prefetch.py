"""``SqlKeyStore.prefetch_opening`` (a views rebuild reads a batch's case keys at
once): the keys it reads open as ``opening_key`` would give them, and it never
brings back a destroyed key, nor hides an unknown one, on both backends."""

from __future__ import annotations

from uuid import uuid4

import pytest
from crypto_support import StoreFactory
from support.clock import TestClock

from application.ports import UnknownKey
from infrastructure.crypto.scopes import case_scope


def test_prefetched_keys_open_as_read_one_by_one(make_store: StoreFactory) -> None:
    writer, reader = make_store(), make_store()
    issued = [writer.sealing_key(case_scope(uuid4())) for _ in range(7)]
    ids = [key_id for key_id, _ in issued]
    reader.prefetch_opening([*ids, ids[0], b"short"])  # repeats and malformed ids pass by
    assert [reader.opening_key(key_id) for key_id in ids] == [key for _, key in issued]


def test_a_destroyed_key_stays_destroyed_and_an_unknown_one_unknown(
    make_store: StoreFactory,
) -> None:
    writer, reader = make_store(), make_store()
    kept, gone = case_scope(uuid4()), case_scope(uuid4())
    kept_id, kept_key = writer.sealing_key(kept)
    gone_id, _ = writer.sealing_key(gone)
    writer.destroy(gone)
    never = bytes(16)
    reader.prefetch_opening([kept_id, gone_id, never])
    assert reader.opening_key(kept_id) == kept_key
    assert reader.opening_key(gone_id) is None
    with pytest.raises(UnknownKey):
        reader.opening_key(never)


def test_a_prefetched_key_lives_no_longer_than_a_key_read_alone(
    make_store: StoreFactory,
) -> None:
    clock = TestClock()
    writer = make_store()
    reader = make_store(case_key_ttl=5.0, clock=clock.monotonic)
    case = case_scope(uuid4())
    key_id, _ = writer.sealing_key(case)
    reader.prefetch_opening([key_id])
    writer.destroy(case)
    clock.advance(seconds=6)
    assert reader.opening_key(key_id) is None


def test_many_ids_at_once(make_store: StoreFactory) -> None:
    writer, reader = make_store(), make_store()
    issued = [writer.sealing_key(case_scope(uuid4())) for _ in range(1200)]  # 3 statements
    reader.prefetch_opening(key_id for key_id, _ in issued)
    assert all(reader.opening_key(key_id) == key for key_id, key in issued)
