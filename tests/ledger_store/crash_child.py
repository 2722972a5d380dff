"""A process that writes records and ledgers them as fast as it can, until killed.

Run by ``test_ledger_crash_safety.py`` with the RETE_* settings in its
environment; it prints ``ready`` once it has started. Records are raw appends
through the real event store's recorder; one thread follows the log in small
batches (so that a kill often lands inside a ledger transaction) and signs a
checkpoint now and then, while the main thread writes.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from infrastructure.bootstrap import build_store
from infrastructure.ledger.checkpoints import NothingToSign
from infrastructure.ledger.follower import LedgerFollower
from infrastructure.ledger.ledger import open_ledger
from infrastructure.settings import load_settings


def main() -> None:
    settings = load_settings()
    store = build_store(settings)
    ledger = open_ledger(settings, store.recorder)
    follower = LedgerFollower(ledger.tables, store.recorder, page=int(sys.argv[1]))
    rng = random.Random()

    def follow() -> None:
        rounds = 0
        while True:
            follower.catch_up()
            rounds += 1
            if rounds % 10 == 0:
                with contextlib.suppress(NothingToSign):
                    ledger.sign_checkpoint()

    threading.Thread(target=follow, daemon=True).start()
    print("ready", flush=True)
    while True:
        stream = uuid4()
        count = rng.randint(1, 12)
        store.recorder.insert_events(
            [
                StoredEvent(stream, v, "tests.crash:Written", os.urandom(rng.randint(40, 300)))
                for v in range(1, count + 1)
            ]
        )


if __name__ == "__main__":
    main()
