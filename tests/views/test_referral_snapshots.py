"""A referral's snapshot keeps its lifecycle; one taken before the lifecycle was one
value (version 1, loose attributes) is read with it, on the real store."""

from __future__ import annotations

from dataclasses import replace
from functools import reduce
from typing import Any
from uuid import UUID

from support.clock import TestClock
from test_lifecycle_said_once import emergency_referral
from views_support import actor

from application.escalation import Escalations
from application.rete import Rete
from domain.referral import Move, Referral
from infrastructure.store import ReteEventStore


def a_referral_that_went_some_way(rete: Rete, clock: TestClock) -> UUID:
    """Acknowledged, escalated for its answer, then accepted."""
    referral_id = emergency_referral(rete)
    police = actor(rete, "pl-cesano")
    rete.referrals.move(police, referral_id, Move.ACKNOWLEDGE)
    clock.advance(hours=5)
    assert Escalations(rete.ctx).run() == 1
    rete.referrals.move(police, referral_id, Move.ACCEPT)
    return UUID(referral_id)


def replayed(store: ReteEventStore, referral_id: UUID) -> Referral:
    referral: Any = reduce(lambda a, e: e.mutate(a), store.history_of(referral_id), None)
    assert isinstance(referral, Referral)
    return referral


def test_a_snapshot_keeps_the_lifecycle_its_events_make(
    rete: Rete, store: ReteEventStore, clock: TestClock
) -> None:
    referral_id = a_referral_that_went_some_way(rete, clock)
    store.take_snapshot(referral_id)

    from_snapshot = store.get(Referral, referral_id)

    assert from_snapshot.lifecycle == replayed(store, referral_id).lifecycle
    assert from_snapshot.lifecycle.acknowledged_at is not None
    assert from_snapshot.lifecycle.escalations


def test_a_version_1_snapshot_is_read_with_its_lifecycle(
    rete: Rete, store: ReteEventStore, clock: TestClock
) -> None:
    referral_id = a_referral_that_went_some_way(rete, clock)
    now = replayed(store, referral_id)
    lifecycle = now.lifecycle
    taken = Referral.Snapshot.take(now)
    state = {k: v for k, v in taken.state.items() if k not in ("lifecycle", "class_version")}
    state.update(  # as version 1 kept them
        status=lifecycle.status.value,
        sent_at=lifecycle.sent_at,
        acknowledge_by=lifecycle.acknowledge_by,
        answer_by=lifecycle.answer_by,
        accepted_at=lifecycle.accepted_at,
        ended_at=lifecycle.ended_at,
        escalations=frozenset(d.value for d in lifecycle.escalations),
    )
    assert store.snapshots is not None
    store.snapshots.put([replace(taken, state=state)])

    from_snapshot = store.get(Referral, referral_id)

    # Version 1 did not keep when it was acknowledged; its answer was its acceptance.
    assert from_snapshot.lifecycle == replace(lifecycle, acknowledged_at=None)
    assert from_snapshot.version == now.version
