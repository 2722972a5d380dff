"""Assembling the application from settings: the one place that wires adapters."""

from __future__ import annotations

from application.context import Context
from application.ports import Clock
from application.rete import Rete
from infrastructure.clock import SystemClock
from infrastructure.crypto.kek import load_keyring
from infrastructure.crypto.keystore import SqlKeyStore
from infrastructure.network_file import load_directory, load_instruments
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore


def build_keys(settings: Settings) -> SqlKeyStore:
    """The data-key store, its keys wrapped under the configured KEK."""
    kek = load_keyring(env_value=settings.kek, key_file=settings.kek_file, var_dir=settings.var_dir)
    return SqlKeyStore.from_settings(settings, kek, case_key_ttl=settings.key_cache_seconds)


def build_store(settings: Settings, keys: SqlKeyStore | None = None) -> ReteEventStore:
    return ReteEventStore(
        settings.eventsourcing_env(), keys or build_keys(settings), settings.snapshot_interval
    )


def build_rete(
    settings: Settings, clock: Clock | None = None, store: ReteEventStore | None = None
) -> Rete:
    store = store or build_store(settings)
    ctx = Context(
        store=store,
        keys=store.keys,
        clock=clock or SystemClock(),
        directory=load_directory(settings.directory_file),
        instruments=load_instruments(settings.instruments_file),
    )
    return Rete(ctx)
