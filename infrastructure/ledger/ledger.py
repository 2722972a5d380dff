"""The ledger assembled: its tables, the follower, the proofs and the signer.

``open_ledger`` is what the API and the ``rete ledger`` commands call. How the
follower is driven (see ``periodic``): the server's background thread follows
the log soon after every write request (a burst in one batch) and catches up, with
the live check below, every second, and signs a
checkpoint every ``RETE_CHECKPOINT_INTERVAL`` seconds when the tree grew;
``sign_checkpoint`` (and so ``rete ledger checkpoint``) always catches up first.
Proofs are only served up to the latest checkpoint, whose nodes were all
written before it was signed.

The tamper alarm: every catch-up (``catch_up``) also re-reads records already hashed
(``live_check``), and the follower notices a version stored again. What they find
is raised into the application's ``IntegrityWatch`` (stored for every process,
``alarms``); while an alarm about the log stands, from any process, no checkpoint
is signed (``LedgerTampered``): a signature would vouch for a history known to be
altered.
"""

from __future__ import annotations

import threading

from eventsourcing.persistence import ApplicationRecorder

from application.integrity import LOG_ALARM_PREFIX, IntegrityWatch
from infrastructure.db import database_of, events_table_name
from infrastructure.db.closing import Closing
from infrastructure.ledger.alarms import SharedIntegrityWatch, StoredAlarms, alarm
from infrastructure.ledger.checkpoints import CheckpointSigner, LedgerInconsistent, SignOutcome
from infrastructure.ledger.db import LedgerTables, open_tables
from infrastructure.ledger.db.schema import STREAMS
from infrastructure.ledger.follower import LedgerFollower
from infrastructure.ledger.live_check import LiveCheck, Tamper
from infrastructure.ledger.note import Signer, Verifier
from infrastructure.ledger.signing import load_signing_key
from infrastructure.ledger.store import LedgerStore
from infrastructure.settings import Settings


class LedgerTampered(LedgerInconsistent):
    """The log was found altered under the ledger: nothing is signed until an
    operator verifies and repairs it."""


class Ledger(Closing):
    def __init__(
        self,
        tables: LedgerTables,
        recorder: ApplicationRecorder,
        signer: Signer | None,
        integrity: IntegrityWatch | None = None,
    ) -> None:
        self.tables = tables
        self.recorder = recorder
        self.integrity = integrity or IntegrityWatch()
        self.follower = LedgerFollower(tables, recorder, on_tamper=self._tampered)
        self.live_check = LiveCheck(tables)
        self._check_lock = threading.Lock()
        self._reported: set[Tamper] = set()  # each finding raised once, not every step
        self.store = LedgerStore(tables)
        self._signer = signer
        self._checkpoints = (
            None
            if signer is None
            else CheckpointSigner(tables, self.follower, signer, refuse=self.refuse_if_tampered)
        )

    @property
    def verifier(self) -> Verifier:
        if self._signer is None:
            raise RuntimeError("this ledger was opened without its signing key")
        return self._signer.verifier()

    def catch_up(self) -> int:
        """Ledger what is new, then compare records already hashed (``live_check``)."""
        added = self.follower.catch_up()
        with self._check_lock:
            found = self.live_check.step()
        self._report(found)
        return added

    def sign_checkpoint(self) -> SignOutcome:
        """Catch up, count the log against the head, and sign unless an alarm about
        the log stands (``LedgerTampered``, logged)."""
        if self._checkpoints is None:
            raise RuntimeError("this ledger was opened without its signing key")
        self.catch_up()
        self._report(self.live_check.count_check())
        return self._checkpoints.sign()

    def refuse_if_tampered(self) -> None:
        """``LedgerTampered`` while an alarm about the log stands, in any process."""
        kinds = sorted(
            {a.kind for a in self.integrity.alarms() if a.kind.startswith(LOG_ALARM_PREFIX)}
        )
        if kinds:
            message = (
                f"the event log was found tampered ({', '.join(kinds)}): no checkpoint is "
                "signed until it is verified (rete ledger verify) and repaired"
            )
            raise LedgerTampered(message)  # logged by the signer

    def _tampered(self, kind: str, detail: str) -> None:
        self._report([Tamper(kind, detail)])

    def _report(self, found: list[Tamper]) -> None:
        for tamper in found:
            with self._check_lock:
                new = tamper not in self._reported
                self._reported.add(tamper)
            if new:
                self.integrity.raise_alarm(alarm(tamper.kind, tamper.detail))

    def close(self) -> None:
        self.tables.close()


class HashedVersions:
    """The highest version the ledger hashed of each stream, for the event store's
    check before a write (``ReteEventStore.hashed_versions``): the ledger's tables
    only, opened on first use, so a write needs no signing key."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self._recorder = recorder
        self._lock = threading.Lock()
        self._tables: LedgerTables | None = None

    def __call__(self, streams: list[str]) -> dict[str, int]:
        # Before every save: primary-key lookups, one round trip (``LedgerTables.read``).
        with self._opened().read(scan=False) as tx:
            return tx.hashed_versions(streams)

    def table(self) -> str:
        """The table of the hashed versions (qualified), created if missing: what an
        append that checks them in its own transaction reads (``AppendGuard``)."""
        tables = self._opened()
        return tables.database.dialect.qualify(STREAMS)

    def _opened(self) -> LedgerTables:
        with self._lock:
            if self._tables is None:
                self._tables = open_tables(
                    database_of(self._recorder), events_table_name(self._recorder)
                )
            return self._tables


def open_ledger(
    settings: Settings,
    recorder: ApplicationRecorder,
    *,
    signing: bool = True,
    integrity: IntegrityWatch | None = None,
) -> Ledger:
    """The ledger beside the event store of ``recorder``, on the pool the recorder
    was built on. With ``signing``, the signing key is loaded (the development one
    created on first run). Its alarms go to ``integrity`` (the application's), or to
    a watch of its own whose alarms every process sees (``alarms``)."""
    signer = load_signing_key(settings).signer if signing else None
    database = database_of(recorder)
    tables = open_tables(database, events_table_name(recorder))
    watch = integrity or SharedIntegrityWatch(StoredAlarms(database))
    return Ledger(tables, recorder, signer, watch)
