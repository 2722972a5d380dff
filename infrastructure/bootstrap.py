"""Assembling the application from settings: the one place that wires adapters."""

from __future__ import annotations

from application.context import Context
from application.ports import Clock
from application.rete import Rete
from infrastructure.clock import SystemClock
from infrastructure.network_file import load_directory, load_instruments
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore


def build_store(settings: Settings) -> ReteEventStore:
    return ReteEventStore(settings.eventsourcing_env(), settings.snapshot_interval)


def build_rete(
    settings: Settings, clock: Clock | None = None, store: ReteEventStore | None = None
) -> Rete:
    ctx = Context(
        store=store or build_store(settings),
        clock=clock or SystemClock(),
        directory=load_directory(settings.directory_file),
        instruments=load_instruments(settings.instruments_file),
    )
    return Rete(ctx)
