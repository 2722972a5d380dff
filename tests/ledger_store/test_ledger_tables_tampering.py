"""Tampering with the ledger itself, or with the checkpoints: found, and told apart
from tampering with the records; a history rewritten with the key is caught by
a checkpoint published outside the system."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ledger_store_support import EventsTable, flip, write_cases

from application.rete import Rete
from infrastructure.ledger.findings import VerificationFailed
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.note import NoteError, open_checkpoint
from infrastructure.ledger.verification import verify_live


@pytest.fixture
def signed(rete: Rete, ledger: Ledger) -> Ledger:
    """300 records under checkpoints at 100, 200 and 300."""
    for start in (0, 1, 2):
        write_cases(rete, 1, 99, start=start)
        ledger.sign_checkpoint()
    return ledger


def failure_of(
    ledger: Ledger, external: list[tuple[str, bytes]] | None = None
) -> VerificationFailed:
    with pytest.raises(VerificationFailed) as caught:
        verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name, external or [])
    return caught.value


def test_an_altered_leaf_of_the_ledger_is_told_apart_from_an_altered_record(
    signed: Ledger, events: EventsTable
) -> None:
    nodes = events.table("rete_ledger_nodes")
    events.execute(f"UPDATE {nodes} SET hash = ? WHERE level = 0 AND idx = 150", (b"\x00" * 32,))
    failure = failure_of(signed)
    assert failure.index == 150
    assert "checkpoint 2 (size 200) vouches for" in failure.reason
    assert "the ledger tables were altered" in failure.reason


def test_an_altered_inner_node_of_the_ledger_is_found(signed: Ledger, events: EventsTable) -> None:
    nodes = events.table("rete_ledger_nodes")
    events.execute(f"UPDATE {nodes} SET hash = ? WHERE level = 3 AND idx = 10", (b"\x01" * 32,))
    failure = failure_of(signed)
    assert failure.index == 80
    assert "node (level 3, index 10)" in failure.reason


def test_an_altered_position_in_the_ledger_is_found(signed: Ledger, events: EventsTable) -> None:
    leaves = events.table("rete_ledger_leaves")
    events.execute(f"UPDATE {leaves} SET position = position + 1 WHERE idx = 33")
    failure = failure_of(signed)
    assert failure.index == 33
    assert "the ledger tables were altered" in failure.reason


def test_a_deleted_leaf_of_the_ledger_is_found(signed: Ledger, events: EventsTable) -> None:
    events.execute(f"DELETE FROM {events.table('rete_ledger_leaves')} WHERE idx = 250")
    assert failure_of(signed).index == 250


def test_every_bit_flip_of_a_checkpoint_note_is_refused(signed: Ledger) -> None:
    note = signed.store.latest_checkpoint().note  # type: ignore[union-attr]
    origin = signed.verifier.name
    assert open_checkpoint(note, [signed.verifier], origin).size == 300
    body_end = note.index(b"\n\n") + 2
    for bit in range(len(note) * 8):
        with pytest.raises(NoteError):
            open_checkpoint(flip(note, bit), [signed.verifier], origin)
    assert len(note) * 8 > body_end * 8  # body and signature line both covered


def test_a_tampered_checkpoint_row_is_refused(signed: Ledger, events: EventsTable) -> None:
    table = events.table("rete_checkpoints")
    (note,) = events.execute(f"SELECT note FROM {table} WHERE size = 200")[0]
    events.execute(f"UPDATE {table} SET note = ? WHERE size = 200", (flip(bytes(note), 700),))
    assert "checkpoint 2 does not verify" in failure_of(signed).reason
    events.execute(f"UPDATE {table} SET note = ? WHERE size = 200", (bytes(note),))
    events.execute(f"UPDATE {table} SET root = ? WHERE size = 100", (b"\x02" * 32,))
    assert "checkpoint 1: its stored size or root differ" in failure_of(signed).reason


def _rewrite_record_and_ledger(events: EventsTable, index: int) -> None:
    """Alter a record, and rebuild the ledger from scratch over the altered log (every
    table of it, the versions it hashed included, or the rebuilt follower notices
    every version stored again)."""
    rows = events.rows()
    rows[index] = (*rows[index][:4], flip(rows[index][4], 9))
    events.replace_all(rows)
    for table in ("rete_ledger_nodes", "rete_ledger_leaves", "rete_ledger_streams"):
        events.execute(f"DELETE FROM {events.table(table)}")
    events.execute(f"UPDATE {events.table('rete_ledger_head')} SET size = 0, last_position = 0")


def test_a_history_rewritten_ledger_included_is_found_between_two_checkpoints(
    signed: Ledger, make_ledger: Callable[[], Ledger], events: EventsTable
) -> None:
    _rewrite_record_and_ledger(events, 150)
    rebuilt = make_ledger()
    rebuilt.catch_up()
    failure = failure_of(rebuilt)
    # The ledger agrees with the rewritten records: only the checkpoints can tell,
    # and they bound the first bad leaf to what checkpoint 1 does not cover.
    assert failure.index == 100
    assert "checkpoint 2 (size 200)" in failure.reason
    assert "rewritten, ledger included" in failure.reason


def test_a_history_re_signed_with_the_key_is_caught_by_a_published_checkpoint(
    signed: Ledger, make_ledger: Callable[[], Ledger], events: EventsTable
) -> None:
    published = signed.store.checkpoints()[1].note  # e-mailed to the Comitato at the time
    _rewrite_record_and_ledger(events, 150)
    events.execute(f"DELETE FROM {events.table('rete_checkpoints')}")
    insider = make_ledger()  # holds the signing key: signs the rewritten history
    assert insider.sign_checkpoint().checkpoint.size == 300
    verify_live(insider.tables, [insider.verifier], insider.verifier.name)  # fooled

    failure = failure_of(insider, [("the checkpoint in e-mail.note", published)])
    # Nothing signed before it is trusted: the first bad leaf is somewhere below 200.
    assert failure.index == 0
    assert "the checkpoint in e-mail.note (size 200)" in failure.reason
    assert "rewritten, ledger included" in failure.reason
