"""Two desks, two processes, one referral: exactly one move wins, none is lost or doubled.

Each "desk" is its own application instance on the same database, as two
server workers are. The test clock lets one desk act between the other's
loading and saving; threads race for real where that is the point.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest

from application.errors import Conflict
from domain import errors
from domain.reference import canonical_reference
from domain.referral import Move

RACES = {
    # name: (state first, loser's move and side, winner's move and side, winner's result)
    "accept-vs-withdraw": ("acknowledged", ("accept", "bea"), ("withdraw", "anna"), "withdrawn"),
    "withdraw-vs-accept": ("acknowledged", ("withdraw", "anna"), ("accept", "bruna"), "accepted"),
    "both-acknowledge": ("sent", ("acknowledge", "bea"), ("acknowledge", "bruna"), "acknowledged"),
    "decline-vs-withdraw": ("sent", ("decline", "bruna"), ("withdraw", "chiara"), "withdrawn"),
}


def stored_moves(rete, referral_id: str) -> list[tuple[int, str]]:
    events = rete.ctx.store.events.get(UUID(referral_id))
    return [(e.originator_version, getattr(e, "move", "sent")) for e in events]


def race_desks(make_rete, another_clock, racers: int, act: Callable[[Any], object]) -> list[object]:
    """``act`` on as many desks at once, each in its own thread: what each returned
    or raised, in desk order."""
    barrier = threading.Barrier(racers)
    desks = []
    for _ in range(racers):  # built one by one: the tables exist before the race
        desk_clock = another_clock()
        desk_clock.barrier = barrier  # everyone has loaded before anyone moves
        desks.append(make_rete(desk_clock))
    outcomes: list[object] = [None] * racers

    def run(i: int) -> None:
        try:
            outcomes[i] = act(desks[i])
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("race", list(RACES))
def test_two_desks_moving_the_same_referral_one_wins_the_other_conflicts(
    rete, make_rete, another_clock, people, consented_case, send, race: str
) -> None:
    start, (lost_move, loser), (won_move, winner), result = RACES[race]
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    if start == "acknowledged":
        rete.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE)
    history = stored_moves(rete, referral.id)

    desk_a = make_rete(another_clock())
    desk_b = make_rete(another_clock())
    reason = "no places left"

    # Desk A loads the referral; before it saves, desk B loads, moves and saves.
    desk_a.ctx.clock.meanwhile(
        lambda: desk_b.referrals.move(getattr(people, winner), referral.id, Move(won_move), reason)
    )
    with pytest.raises(Conflict):
        desk_a.referrals.move(getattr(people, loser), referral.id, Move(lost_move), reason)

    after = make_rete()  # a third process reads what was stored
    stored = stored_moves(after, referral.id)
    assert stored == [*history, (len(history) + 1, won_move)]
    seen = after.referrals.get(people.anna, referral.id)
    assert (seen.status, seen.version) == (result, len(history) + 1)

    # Retried on fresh state, the losing move meets the winner's result.
    with pytest.raises(errors.InvalidTransition):
        desk_a.referrals.move(getattr(people, loser), referral.id, Move(lost_move), reason)
    assert stored_moves(after, referral.id) == stored


def test_many_desks_racing_to_acknowledge_exactly_one_succeeds(
    rete, make_rete, another_clock, people, consented_case, send
) -> None:
    ref, _ = consented_case
    referral = send(rete, people.anna, ref)
    outcomes = race_desks(
        make_rete,
        another_clock,
        6,
        lambda desk: desk.referrals.move(people.bea, referral.id, Move.ACKNOWLEDGE),
    )
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in lost), lost
    assert stored_moves(make_rete(), referral.id) == [(1, "sent"), (2, "acknowledge")]


def test_cases_opened_at_the_same_moment_get_distinct_reference_codes(
    make_rete, another_clock, people
) -> None:
    openers = 5
    codes = race_desks(
        make_rete, another_clock, openers, lambda desk: desk.cases.open(people.anna).reference_code
    )

    # Codes are drawn at random (test_reference_codes): distinct, and each a valid code.
    assert all(isinstance(c, str) and canonical_reference(c) == c for c in codes), codes
    assert len(set(codes)) == openers
    listed = make_rete().cases.list(people.anna).items
    assert sorted(c.reference_code for c in listed) == sorted(codes)


def test_withdrawal_racing_an_acceptance_writes_all_of_itself_or_nothing(
    rete, make_rete, people, acknowledged
) -> None:
    ref, consent_id, referral = acknowledged
    social_services = make_rete()
    case_version = rete.cases.get(people.anna, ref).version

    # While the CAV withdraws her consent, social services accept the referral.
    rete.ctx.clock.meanwhile(
        lambda: social_services.referrals.move(people.bea, referral.id, Move.ACCEPT)
    )
    with pytest.raises(Conflict):
        rete.cases.withdraw_consent(people.anna, ref, consent_id)
    fresh = make_rete()
    case = fresh.cases.get(people.anna, ref)
    assert case.version == case_version  # the withdrawal was not half written
    assert [c.active for c in case.consents] == [True]
    assert stored_moves(fresh, referral.id)[-1] == (3, "accept")

    rete.cases.withdraw_consent(people.anna, ref, consent_id)  # retried: all of it
    assert fresh.referrals.get(people.bea, referral.id).status == "suspended"
    assert [c.active for c in fresh.cases.get(people.anna, ref).consents] == [False]


def test_two_referrals_sent_at_once_on_one_case_neither_is_lost(
    rete, make_rete, people, consented_case, send, refer_meanwhile
) -> None:
    ref, _ = consented_case
    sent = refer_meanwhile(ref, to="pl-cesano", kind="protection_measures")
    with pytest.raises(Conflict):
        send(rete, people.anna, ref)
    retried = send(rete, people.anna, ref)
    [to_police] = sent
    case = make_rete().cases.get(people.anna, ref)
    assert [(r.id, r.recipient_service) for r in case.referrals] == [
        (to_police.id, "pl-cesano"),
        (retried.id, "ss-cesano"),
    ]
    outbox = make_rete().referrals.list(people.anna, "outbox").items
    assert sorted(r.id for r in outbox) == sorted([to_police.id, retried.id])
