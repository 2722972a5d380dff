"""Erasing a case changes no leaf: leaves hash the ciphertext, and crypto-shredding
destroys a key, not a record (issue 4, "done when" 3)."""

from __future__ import annotations

from ledger_store_support import EventsTable, write_cases

from application.rete import Rete
from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.verification import verify_live


def test_erasing_a_case_changes_no_leaf_and_the_log_still_verifies(
    rete: Rete, ledger: Ledger, events: EventsTable
) -> None:
    write_cases(rete, 3, 50)
    before = ledger.sign_checkpoint().checkpoint
    rows = events.rows()
    leaves = ledger.store.leaves(0, before.size)

    chiara = rete.ctx.identify("chiara", "cav-scirocco", ["coordinator"])
    erased = rete.cases.erase(chiara, "CB-2026-00001", "her request under GDPR art. 17")
    assert erased.status == "erased"
    anna = rete.ctx.identify("anna", "cav-scirocco", ["caseworker"])
    entries = rete.cases.get(anna, "CB-2026-00001").entries
    assert entries and all(e.erased and e.text is None for e in entries)

    after = events.rows()
    assert after[: len(rows)] == rows  # not one stored byte changed
    assert len(after) > len(rows)  # the erasure itself is recorded, as new records
    assert ledger.sign_checkpoint().checkpoint.size == len(after)
    assert ledger.store.leaves(0, before.size) == leaves
    summary = verify_live(ledger.tables, [ledger.verifier], ledger.verifier.name)
    assert (summary.records, summary.checkpoints) == (len(after), 2)
