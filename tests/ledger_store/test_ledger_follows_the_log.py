"""The ledger follows the event log: every record once, in order, proofs from the
stored nodes, checkpoints only for trees that extend the last one signed."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from ledger_store_support import EventsTable, write_cases
from support.followers import catching_up

from application.rete import Rete
from infrastructure.ledger import merkle
from infrastructure.ledger.checkpoints import LedgerInconsistent, NothingToSign
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.note import open_checkpoint
from infrastructure.ledger.proofs import verify_consistency, verify_inclusion
from infrastructure.ledger.records import leaf_data
from infrastructure.ledger.verification import verify_live
from infrastructure.store import ReteEventStore


def leaf_hashes_of(events: EventsTable) -> list[bytes]:
    """RFC 6962 leaf hashes recomputed from the raw rows, independently of the ledger."""
    return [
        merkle.leaf_hash(leaf_data(p, UUID(str(o)), v, t, s)) for p, o, v, t, s in events.rows()
    ]


def test_every_record_becomes_one_leaf_in_log_order(
    rete: Rete, store: ReteEventStore, ledger: Ledger, events: EventsTable
) -> None:
    assert ledger.catch_up() == 0
    write_cases(rete, 3, 20)
    assert ledger.catch_up() == 63
    assert ledger.catch_up() == 0  # nothing new: nothing appended
    write_cases(rete, 1, 4, start=3)
    assert ledger.catch_up() == 5

    expected = leaf_hashes_of(events)
    head = ledger.store.head()
    assert head.size == len(expected) == events.count()
    assert head.last_position == events.rows()[-1][0]
    assert [leaf.hash for leaf in ledger.store.leaves(0, head.size)] == expected
    assert [leaf.position for leaf in ledger.store.leaves(0, head.size)] == [
        row[0] for row in events.rows()
    ]
    for size in (1, 2, 3, 7, 8, 33, head.size):
        assert ledger.store.root(size) == merkle.mth(expected[:size])


def test_a_gap_in_notification_ids_is_recorded_not_filled(
    rete: Rete, store: ReteEventStore, ledger: Ledger, events: EventsTable
) -> None:
    write_cases(rete, 1, 2)
    stream = uuid4()
    store.recorder.insert_events([StoredEvent(stream, 1, "tests:Gap", b"first")])
    with pytest.raises(IntegrityError):  # on PostgreSQL this burns a notification id
        store.recorder.insert_events([StoredEvent(stream, 1, "tests:Gap", b"again")])
    store.recorder.insert_events([StoredEvent(stream, 2, "tests:Gap", b"after")])
    assert ledger.catch_up() == 5
    positions = [leaf.position for leaf in ledger.store.leaves(0, 5)]
    assert positions == [row[0] for row in events.rows()]
    assert ledger.sign_checkpoint().new
    assert verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name).records == 5


def test_proofs_from_stored_nodes_verify_against_signed_checkpoints(
    rete: Rete, ledger: Ledger
) -> None:
    write_cases(rete, 2, 30)
    first = ledger.sign_checkpoint().checkpoint
    write_cases(rete, 3, 40, start=2)
    second = ledger.sign_checkpoint().checkpoint
    origin = ledger.verifier.name
    one = open_checkpoint(first.note, [ledger.verifier], origin)
    two = open_checkpoint(second.note, [ledger.verifier], origin)
    assert (one.size, two.size) == (62, 185)

    for index in (0, 1, 61, 62, 100, 184):
        proof = ledger.store.inclusion(index, two.size)
        verify_inclusion(proof.leaf_hash, index, two.size, proof.proof, two.root)
    consistency = ledger.store.consistency(one.size, two.size)
    verify_consistency(one.size, two.size, consistency.proof, one.root, two.root)
    assert (consistency.first_root, consistency.second_root) == (one.root, two.root)


def test_a_checkpoint_is_signed_once_per_size_and_never_for_an_empty_log(
    rete: Rete, ledger: Ledger
) -> None:
    with pytest.raises(NothingToSign):
        ledger.sign_checkpoint()
    write_cases(rete, 1, 9)
    assert ledger.sign_checkpoint().new
    again = ledger.sign_checkpoint()
    assert not again.new and again.checkpoint.size == 10
    assert [c.size for c in ledger.store.checkpoints()] == [10]


def test_two_followers_racing_append_each_record_exactly_once(
    rete: Rete, make_ledger: Callable[[], Ledger], events: EventsTable
) -> None:
    followers = [make_ledger(), make_ledger()]
    with catching_up(followers) as errors:
        for n in range(12):
            write_cases(rete, 1, 7, start=n)
    assert not errors
    followers[0].catch_up()
    assert followers[0].store.head().size == events.count() == 96
    assert followers[1].sign_checkpoint().checkpoint.size == 96
    verify_live(followers[0].tables, [followers[0].verifier], followers[0].verifier.name)


def test_no_checkpoint_for_a_ledger_rebuilt_from_a_rewritten_log(
    rete: Rete, make_ledger: Callable[[], Ledger], events: EventsTable
) -> None:
    ledger = make_ledger()
    write_cases(rete, 2, 20)
    assert ledger.sign_checkpoint().checkpoint.size == 42
    # Someone with write access alters a record, then rebuilds the ledger from scratch.
    rows = events.rows()
    rows[5] = (*rows[5][:4], rows[6][4])
    events.replace_all(rows)
    for table in ("rete_ledger_nodes", "rete_ledger_leaves"):
        events.execute(f"DELETE FROM {events.table(table)}")
    events.execute(f"UPDATE {events.table('rete_ledger_head')} SET size = 0, last_position = 0")
    write_cases(rete, 1, 3, start=2)
    with pytest.raises(LedgerInconsistent, match="does not extend the checkpoint at size 42"):
        make_ledger().sign_checkpoint()
    assert [c.size for c in ledger.store.checkpoints()] == [42]


def test_no_checkpoint_for_a_tree_that_shrank(
    rete: Rete, make_ledger: Callable[[], Ledger], events: EventsTable
) -> None:
    write_cases(rete, 1, 9)
    make_ledger().sign_checkpoint()
    events.execute(f"UPDATE {events.table('rete_ledger_head')} SET size = 5")
    with pytest.raises(LedgerInconsistent, match="regressed"):
        make_ledger().sign_checkpoint()


def test_no_checkpoint_when_the_latest_one_was_tampered_with(
    rete: Rete, make_ledger: Callable[[], Ledger], events: EventsTable
) -> None:
    write_cases(rete, 1, 9)
    make_ledger().sign_checkpoint()
    write_cases(rete, 1, 9, start=1)
    events.execute(f"UPDATE {events.table('rete_checkpoints')} SET note = ?", (b"forged\n",))
    with pytest.raises(LedgerInconsistent, match="does not verify"):
        make_ledger().sign_checkpoint()
