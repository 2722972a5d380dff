"""``rete ledger verify`` finds every kind of tampering with the stored history, and
names the first bad leaf (issue 4, "done when" 2).

The log: 1,000 sealed records under three checkpoints (sizes 400, 700, 1000),
then 7 records no checkpoint covers yet. Each scenario rewrites the events table
with plain SQL, verifies, and restores it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from uuid import UUID

import pytest
from ledger_store_support import EventsTable, Row, flip, write_cases

from application.rete import Rete
from infrastructure.ledger.db import RawRecord
from infrastructure.ledger.findings import VerificationFailed
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.records import LeafHasher
from infrastructure.ledger.verification import verify_live

COVERED = 1000
TOTAL = 1007


@dataclass
class Log:
    ledger: Ledger
    events: EventsTable
    rows: list[Row]

    def failure(self) -> VerificationFailed:
        with pytest.raises(VerificationFailed) as caught:
            verify_live(self.ledger.tables, [self.ledger.verifier], self.ledger.verifier.name)
        return caught.value

    def detects(self, rows: list[Row], index: int, *words: str) -> None:
        with self.events.tampered(rows):
            failure = self.failure()
        assert failure.index == index, str(failure)
        for word in words:
            assert word in failure.reason, str(failure)


@pytest.fixture
def log(rete: Rete, ledger: Ledger, events: EventsTable) -> Log:
    for first, count in ((0, 4), (4, 3), (7, 3)):
        write_cases(rete, count, 99, start=first)
        ledger.sign_checkpoint()
    write_cases(rete, 1, 6, start=10)
    ledger.catch_up()
    assert [c.size for c in ledger.store.checkpoints()] == [400, 700, COVERED]
    rows = events.rows()
    assert len(rows) == TOTAL
    summary = verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name)
    assert (summary.records, summary.uncovered) == (TOTAL, 7)
    return Log(ledger, events, rows)


def _with(rows: list[Row], index: int, **change: object) -> list[Row]:
    position, oid, version, topic, state = rows[index]
    fields = {"oid": oid, "version": version, "topic": topic, "state": state, **change}
    out = list(rows)
    out[index] = (position, fields["oid"], fields["version"], fields["topic"], fields["state"])
    return out


def _checkpoint_of(index: int) -> str:
    return next(
        f"checkpoint {k} (size {s})" for k, s in ((1, 400), (2, 700), (3, 1000)) if index < s
    )


def _flip_one_bit_of(log: Log, indices: list[int], rng: random.Random) -> None:
    for index in indices:
        state = log.rows[index][4]
        bit = rng.choice([0, 7, len(state) * 8 - 1, rng.randrange(len(state) * 8)])
        log.detects(
            _with(log.rows, index, state=flip(state, bit)),
            index,
            f"position {log.rows[index][0]}",
            "was altered",
            "committed to",
            _checkpoint_of(index),
        )


@pytest.mark.long
def test_sampled_bit_flips_of_stored_records_are_found_at_their_leaf(log: Log) -> None:
    rng = random.Random(4)
    edges = [0, 1, 399, 400, 699, 700, 998, 999]
    _flip_one_bit_of(log, edges + rng.sample(range(2, 998), 90), rng)


@pytest.mark.slow
def test_a_bit_flip_in_any_covered_record_is_found_at_its_leaf(log: Log) -> None:
    _flip_one_bit_of(log, list(range(COVERED)), random.Random(5))


def test_every_bit_of_a_record_is_in_its_leaf(log: Log) -> None:
    """Any one of a record's bits, flipped, changes its leaf (so the check above
    holds whichever bit is flipped)."""
    hasher = LeafHasher()
    position, oid, version, topic, state = log.rows[42]
    record = RawRecord(position, oid, version, topic, state)
    leaves = {hasher.leaf(record)}
    for bit in range(len(state) * 8):
        leaves.add(hasher.leaf(RawRecord(position, oid, version, topic, flip(state, bit))))
    assert len(leaves) == 1 + len(state) * 8


def test_a_changed_stream_version_or_event_type_is_found_at_its_leaf(log: Log) -> None:
    index = 517
    _, oid, version, topic, _ = log.rows[index]
    other_stream = str(UUID(int=UUID(str(oid)).int ^ 1))
    log.detects(_with(log.rows, index, oid=other_stream), index, "was altered")
    log.detects(_with(log.rows, index, version=version + 10_000), index, "was altered")
    log.detects(
        _with(log.rows, index, topic=topic[:-1] + chr(ord(topic[-1]) ^ 1)), index, "altered"
    )


def test_records_after_the_last_checkpoint_are_checked_against_the_ledger(log: Log) -> None:
    index = TOTAL - 3
    state = log.rows[index][4]
    log.detects(_with(log.rows, index, state=flip(state, 3)), index, "no checkpoint covers it")


def test_deletions_are_found_where_the_missing_record_was(log: Log) -> None:
    for index in (0, 250, 400, 999, TOTAL - 1):
        rows = log.rows[:index] + log.rows[index + 1 :]
        log.detects(rows, index, f"position {log.rows[index][0]} is missing")


def _shifted(rows: list[Row], index: int, inserted: Row) -> list[Row]:
    """``inserted`` placed at ``index``: the records after it move one position on."""
    later = [(p + 1, o, v, t, s) for p, o, v, t, s in rows[index:]]
    return [*rows[:index], (rows[index][0], *inserted[1:]), *later]


def test_insertions_are_found_where_the_forged_record_went(log: Log) -> None:
    forged: Row = (0, str(UUID(int=42)), 1, "domain.case:Case.Opened", b"\x01" * 80)
    for index in (0, 333, 700, 999):
        log.detects(_shifted(log.rows, index, forged), index, "was altered")
    # A copy of a genuine record, under another stream, inserted in a gap made for it.
    copy = (0, str(UUID(int=43)), *log.rows[10][2:])
    log.detects(_shifted(log.rows, 10, copy), 10, "altered")


def test_reordering_is_found_at_the_first_record_out_of_place(log: Log) -> None:
    rows = list(log.rows)
    moved = rows.pop(123)
    rows.insert(456, moved)
    # Positions stay where they were: the contents moved.
    reordered = [(log.rows[k][0], *row[1:]) for k, row in enumerate(rows)]
    log.detects(reordered, 123, "was altered")
    # Two records swap places, positions included.
    rows = list(log.rows)
    rows[600], rows[800] = (rows[800][0], *rows[600][1:]), (rows[600][0], *rows[800][1:])
    log.detects(rows, 600, "was altered")


def test_a_swap_of_two_records_payloads_is_found_at_the_first(log: Log) -> None:
    rng = random.Random(11)
    for _ in range(6):
        i, j = sorted(rng.sample(range(TOTAL), 2))
        rows = _with(log.rows, i, state=log.rows[j][4])
        rows = _with(rows, j, state=log.rows[i][4])
        log.detects(rows, i, "was altered")
