"""SqlKeyStore on SQLite and PostgreSQL: creation, rotation, destruction, races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from uuid import uuid4

import pytest
from crypto_support import StoreFactory
from support.clock import TestClock
from support.rawdb import raw_rows

from application.ports import KeyDestroyed, KeyStore
from infrastructure.crypto.kek import KekError, Keyring, KeyringData, UnwrapError
from infrastructure.crypto.keystore import SqlKeyStore, UnknownKey, wrapping_aad
from infrastructure.crypto.scopes import SYSTEM_SCOPE, case_scope
from infrastructure.crypto.sealing import context, key_id_of, open_, seal


def a_case() -> str:
    return case_scope(uuid4())


def test_it_is_the_port(make_store: StoreFactory) -> None:
    store: KeyStore = make_store()
    assert isinstance(store, SqlKeyStore)


def test_the_first_use_of_a_scope_creates_its_key_and_later_uses_reuse_it(
    make_store: StoreFactory, backend: dict[str, str]
) -> None:
    store = make_store()
    case = a_case()
    key_id, key = store.sealing_key(case)
    assert len(key_id) == 16 and len(key) == 32
    assert store.sealing_key(case) == (key_id, key)
    assert store.opening_key(key_id) == key
    assert store.sealing_key(SYSTEM_SCOPE)[0] != key_id
    # Another process, with its own connection and cache, sees the same key.
    elsewhere = make_store()
    assert elsewhere.sealing_key(case) == (key_id, key)
    assert elsewhere.opening_key(key_id) == key
    rows = raw_rows(backend, "rete_data_keys")
    assert sorted(row[1] for row in rows) == sorted([case, SYSTEM_SCOPE])


def test_an_id_never_issued_is_unknown_not_erased(make_store: StoreFactory) -> None:
    store = make_store()
    store.sealing_key(a_case())
    with pytest.raises(UnknownKey):
        store.opening_key(bytes(16))


def test_a_newer_generation_seals_and_the_older_still_opens(make_store: StoreFactory) -> None:
    store, other = make_store(), make_store(case_key_ttl=0)
    case = a_case()
    old_id, old_key = store.sealing_key(case)
    new_id = store.rotate_data_key(case)
    assert store.sealing_key(case)[0] == new_id != old_id
    assert other.sealing_key(case)[0] == new_id
    assert other.opening_key(old_id) == old_key


# -- KEK rotation ---------------------------------------------------------------------


def test_after_kek_rotation_the_old_kek_alone_unwraps_nothing(
    make_store: StoreFactory, keyring: Keyring, keyring_data: KeyringData, backend: dict[str, str]
) -> None:
    store = make_store()
    scopes = [SYSTEM_SCOPE, *(a_case() for _ in range(3))]
    here = context("stream", 1, "Case.Opened")
    sealed = {scope: seal(*store.sealing_key(scope), scope.encode(), here) for scope in scopes}
    before = {row[0]: row for row in raw_rows(backend, "rete_data_keys")}

    assert keyring.rotate() == 2
    assert store.rewrap_all(keyring) == 4
    assert store.rewrap_all(keyring) == 0  # nothing left under version 1
    assert store.kek_versions_in_use() == {2: 4}

    old_alone = Keyring(keyring_data, source="the old KEK")  # version 1 only
    old_as_v2 = Keyring(KeyringData(primary=2, keys={2: keyring_data.keys[1]}), source="mislabel")
    for key_id, scope, _generation, _created, version, wrapped in raw_rows(
        backend, "rete_data_keys"
    ):
        key_id, wrapped = bytes(key_id), bytes(wrapped)
        assert version == 2 and wrapped != bytes(before[key_id][5])
        with pytest.raises(KekError):
            old_alone.unwrap(version, wrapped, wrapping_aad(key_id, scope))
        with pytest.raises(UnwrapError):
            old_as_v2.unwrap(version, wrapped, wrapping_aad(key_id, scope))
        with pytest.raises(UnwrapError):  # and the superseded wrapping is gone for good
            old_alone.unwrap(1, wrapped, wrapping_aad(key_id, scope))

    # Every key still opens through a store that has the rotated keyring.
    fresh = make_store(keyring)
    for scope, blob in sealed.items():
        key = fresh.opening_key(key_id_of(blob))
        assert key is not None and open_(key, blob, here) == scope.encode()
    # and new keys are wrapped under the new primary
    fresh.sealing_key(a_case())
    assert fresh.kek_versions_in_use() == {2: 5}


# -- destruction --------------------------------------------------------------------


def test_destroying_a_scope_erases_it_at_once_here_and_spares_the_others(
    make_store: StoreFactory, backend: dict[str, str]
) -> None:
    store = make_store()
    erased, kept = a_case(), a_case()
    first_id, _ = store.sealing_key(erased)
    second_id = store.rotate_data_key(erased)
    store.opening_key(second_id)  # cached
    kept_id, kept_key = store.sealing_key(kept)
    system_id, system_key = store.sealing_key(SYSTEM_SCOPE)

    assert store.destroy(erased) == 2
    assert store.opening_key(first_id) is None
    assert store.opening_key(second_id) is None
    with pytest.raises(KeyDestroyed):
        store.sealing_key(erased)
    assert store.is_destroyed(erased) and not store.is_destroyed(kept)
    assert store.opening_key(kept_id) == kept_key
    assert store.sealing_key(kept) == (kept_id, kept_key)
    assert store.opening_key(system_id) == system_key
    assert erased not in scopes_held(backend)
    assert [row[0] for row in raw_rows(backend, "rete_destroyed_scopes")] == [erased]

    elsewhere = make_store()  # a process started after the erasure
    assert elsewhere.opening_key(first_id) is None
    with pytest.raises(KeyDestroyed):
        elsewhere.sealing_key(erased)
    assert store.destroy(erased) == 0  # again: nothing left, still destroyed


def test_other_processes_learn_of_an_erasure_within_the_cache_lifetime(
    make_store: StoreFactory,
) -> None:
    clock = TestClock()
    eraser = make_store()
    cached = make_store(case_key_ttl=5.0, clock=clock.monotonic)
    strict = make_store(case_key_ttl=0)
    case = a_case()
    key_id, key = cached.sealing_key(case)
    assert strict.opening_key(key_id) == key

    eraser.destroy(case)

    assert strict.opening_key(key_id) is None  # ttl=0: immediately
    with pytest.raises(KeyDestroyed):
        strict.sealing_key(case)
    assert cached.opening_key(key_id) == key  # within the documented bound
    clock.advance(seconds=5.0)
    assert cached.opening_key(key_id) is None  # and not a moment longer
    with pytest.raises(KeyDestroyed):
        cached.sealing_key(case)


def test_a_scope_destroyed_before_any_key_never_gets_one(make_store: StoreFactory) -> None:
    store = make_store()
    case = a_case()
    assert store.destroy(case) == 0
    with pytest.raises(KeyDestroyed):
        store.sealing_key(case)


def test_the_system_key_is_never_destroyed(make_store: StoreFactory) -> None:
    store = make_store()
    with pytest.raises(ValueError, match="system"):
        store.destroy(SYSTEM_SCOPE)


# -- races between processes ----------------------------------------------------------


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each in its own thread; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def races(
    one: Callable[[str], Any], two: Callable[[str], Any], rounds: int = 10
) -> Iterator[tuple[str, Any, Any]]:
    """A new case's scope per round, given to ``one`` and ``two`` at once: the case
    and what each returned (or raised)."""
    for _ in range(rounds):
        case = a_case()
        first, second = race(partial(one, case), partial(two, case))
        yield case, first, second


def scopes_held(backend: dict[str, str]) -> list[str]:
    """The scope of each data key the key table holds."""
    return [row[1] for row in raw_rows(backend, "rete_data_keys")]


def test_two_processes_creating_the_first_key_of_a_scope_agree_on_one(
    make_store: StoreFactory, backend: dict[str, str]
) -> None:
    one, two = make_store(), make_store()
    for case, first, second in races(one.sealing_key, two.sealing_key):
        assert first == second, (first, second)
        assert scopes_held(backend).count(case) == 1


def test_a_key_created_while_its_scope_is_destroyed_does_not_survive(
    make_store: StoreFactory, backend: dict[str, str]
) -> None:
    creator, eraser = make_store(), make_store()
    for case, created, destroyed in races(creator.sealing_key, eraser.destroy):
        assert isinstance(destroyed, int)
        assert isinstance(created, KeyDestroyed | tuple), created
        assert case not in scopes_held(backend)
        fresh = make_store(case_key_ttl=0)
        with pytest.raises(KeyDestroyed):
            fresh.sealing_key(case)
        fresh.close()  # its connections back now, not after the ten rounds (the budget)
        if isinstance(created, tuple):
            assert eraser.opening_key(created[0]) is None
