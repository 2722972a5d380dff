"""Erasure reaches the views at once (issue 5, "done when" 7): the sealed parts they
hold of an erased case no longer open anywhere, while every non-personal row stays
as it was and the observatory's facts are unchanged."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from support.clock import TestClock
from views_support import (
    a_case_with_everything,
    actor,
    leave_a_referral_unanswered,
    live_rows,
)

from application.loading import case_id
from application.rete import Rete
from domain.entries import CaseStatus
from domain.erased import ERASED
from infrastructure.crypto import sealing
from infrastructure.store import ReteEventStore
from infrastructure.views import Views


def test_after_erasure_the_views_keep_every_fact_and_no_personal_field_opens(
    rete: Rete, views: Views, store: ReteEventStore, clock: TestClock
) -> None:
    erased_ref = a_case_with_everything(rete)
    kept_ref = a_case_with_everything(rete)
    leave_a_referral_unanswered(rete, clock)
    erased_id = case_id(erased_ref)
    views.catch_up()
    before = live_rows(views)
    facts = views.queries.observatory_facts()
    rows = views.queries.case(erased_id)
    assert rows is not None and all(
        views.parts.open(part) is not ERASED for part in rows.sealed_parts()
    )

    rete.cases.erase(actor(rete, "cav-scirocco", "coordinator"), erased_ref, "her request")

    views.catch_up()
    after = live_rows(views)
    case_rows = [r for r in after["rete_view_cases"] if UUID(r[0]) == erased_id]
    assert [r[3] for r in case_rows] == [CaseStatus.ERASED.value]
    # Only the case's own row moved (its status and version); every other row, the
    # sealed parts included, is byte for byte what it was.
    for table, was in before.items():
        now = after[table]
        if table == "rete_view_cases":
            now = [r for r in now if UUID(r[0]) != erased_id]
            was = [r for r in was if UUID(r[0]) != erased_id]
        assert now == was, table

    erased = views.queries.case(erased_id)
    kept = views.queries.case(case_id(kept_ref))
    assert erased is not None and kept is not None
    parts = erased.sealed_parts()
    assert len(parts) == 3  # a note, an assessment, a referral
    for part in parts:
        assert store.keys.opening_key(sealing.key_id_of(part.blob)) is None
        assert views.parts.open(part) is ERASED
    assert all(views.parts.open(part) is not ERASED for part in kept.sealed_parts())

    now_facts = views.queries.observatory_facts()
    assert now_facts.referrals == facts.referrals
    assert now_facts.cases == [
        # Its high-risk flag, derived from her data, is gone too (issue 10, finding 2).
        replace(c, status=CaseStatus.ERASED, high_risk=None) if c.id == erased_id else c
        for c in facts.cases
    ]
    assert views.check() == []  # the log still rebuilds them, erased parts and all
