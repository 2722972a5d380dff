"""The application assembled on the in-memory adapters: what ``build_rete`` builds,
with no database, no KEK and no files but the network's own data."""

from __future__ import annotations

from application.context import Context
from application.ports import Clock
from application.rete import Rete
from infrastructure.network_file import load_directory, load_instruments
from infrastructure.store import ReteEventStore
from infrastructure.views.opening import SealedPartOpener
from support.memory.store import memory_store
from support.memory.views import MemoryViews


def memory_rete(clock: Clock, store: ReteEventStore | None = None) -> Rete:
    """The application over an in-memory event store (a new one unless given: pass
    another instance's ``ctx.store`` for a second worker on the same events)."""
    owned = store is None
    store = store or memory_store()
    views = MemoryViews(store)
    ctx = Context(
        store=store,
        keys=store.keys,
        views=views,
        parts=SealedPartOpener(store.keys),
        clock=clock,
        directory=load_directory(),
        instruments=load_instruments(),
        ended_consents=views,
    )
    return Rete(ctx, closing=[store.close] if owned else [])
