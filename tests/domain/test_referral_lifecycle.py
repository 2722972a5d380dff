"""The referral's lifecycle, every move from every state by every side.

The expected outcomes are written out below from DOMAIN.md ("Referral"), by
hand, and not computed from ``domain.referral.MOVES``: the point is to check
the code against the document.

    States: sent -> acknowledged -> accepted -> completed; declined (with a
    reason) from sent or acknowledged; withdrawn by the sender before
    acceptance; suspended when its consent is withdrawn; expired when nobody
    answered in time and a coordinator closes it. Only the recipient
    acknowledges, accepts, declines and completes; only the sender withdraws.

Where DOMAIN.md is silent the table makes a choice and says so:
- expiry is closed by a coordinator of either party (sender or recipient);
- a suspended referral that was never accepted may still be withdrawn by its
  sender ("before acceptance"); once accepted it cannot;
- when several refusals apply, the first of these wins: the actor's side, the
  referral's state, a missing reason, the actor's role, the deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from support.hypothesis_profiles import examples

from domain import errors
from domain.network import Actor
from domain.referral import Move
from domain.vocabulary import Role

SENDER, RECIPIENT, OTHER = "sender", "recipient", "other"
SIDES = (SENDER, RECIPIENT, OTHER)
# The sides' services in every story here: the CAV refers to social services;
# the local police has nothing to do with this referral.
SERVICE_OF = {SENDER: "cav-scirocco", RECIPIENT: "ss-cesano", OTHER: "pl-cesano"}

STATES = (
    "sent",
    "acknowledged",
    "accepted",
    "completed",
    "declined",
    "withdrawn",
    "suspended",
    "expired",
)
ACTIVE = {"sent", "acknowledged", "accepted"}
TERMINAL = {"completed", "declined", "withdrawn", "expired"}
MOVES = ("acknowledge", "accept", "decline", "complete", "withdraw", "expire")

# "Only the recipient acknowledges, accepts, declines and completes; only the
# sender withdraws"; expiry: a coordinator of either party.
WHO_MAY = {
    "acknowledge": {RECIPIENT},
    "accept": {RECIPIENT},
    "decline": {RECIPIENT},
    "complete": {RECIPIENT},
    "withdraw": {SENDER},
    "expire": {SENDER, RECIPIENT},
}
WRONG_SIDE = {
    "acknowledge": errors.NotRecipient,
    "accept": errors.NotRecipient,
    "decline": errors.NotRecipient,
    "complete": errors.NotRecipient,
    "withdraw": errors.NotSender,
    "expire": errors.NotParticipant,
}
# From which states each move goes, and where to.
GOES = {
    "acknowledge": {"sent": "acknowledged"},
    "accept": {"acknowledged": "accepted"},
    "complete": {"accepted": "completed"},
    "decline": {"sent": "declined", "acknowledged": "declined"},
    # "before acceptance": a suspended referral too, if it was never accepted.
    "withdraw": {"sent": "withdrawn", "acknowledged": "withdrawn", "suspended": "withdrawn"},
    "expire": {"sent": "expired", "acknowledged": "expired"},
}
# DOMAIN.md defaults: (acknowledge within, answer within).
DEADLINES = {
    "emergency": (timedelta(hours=1), timedelta(hours=4)),
    "urgent": (timedelta(hours=24), timedelta(hours=72)),
    "routine": (timedelta(hours=72), timedelta(days=10)),
}
COORDINATOR_ONLY = (errors.CoordinatorRequired, errors.RoleNotAllowed)

Outcome = str | type[Exception] | tuple[type[Exception], ...]


def expected(
    state: str,
    move: str,
    side: str,
    *,
    ever_accepted: bool = False,
    role: str = "coordinator",
    reason: str | None = "no places left this month",
    now: datetime | None = None,
    deadline: datetime | None = None,
) -> Outcome:
    """Where DOMAIN.md says ``move`` takes a referral in ``state``, or the refusal."""
    if side not in WHO_MAY[move]:
        return WRONG_SIDE[move]
    if state not in GOES[move] or (move == "withdraw" and ever_accepted):
        return errors.InvalidTransition
    if move == "decline" and not reason:
        return errors.EmptyText
    if move == "expire":
        if role != "coordinator":
            return COORDINATOR_ONLY
        if now is not None and deadline is not None and now <= deadline:
            return errors.DeadlineNotPassed
    return GOES[move][state]


# -- reaching every state through real moves ---------------------------------


class Story:
    """One referral from the CAV to social services, on a consent, moved by real actors."""

    def __init__(self, desk, urgency: str = "routine") -> None:
        self.desk = desk
        self.case = desk.open_case("cav-scirocco")
        desk.note(self.case, "violence", "what she told us at the first meeting")
        self.consent = desk.consent(self.case)
        self.referral = desk.refer(self.case, "ss-cesano", urgency=urgency)
        self.sent_at = desk.now
        self.ever_accepted = False

    def actor(self, side: str, role: str = "coordinator"):
        make = self.desk.coordinator if role == "coordinator" else self.desk.caseworker
        return make(SERVICE_OF[side])

    def move(self, move: str, side: str, role: str = "coordinator", reason: str | None = None):
        self.referral.move(Move(move), self.actor(side, role), self.desk.now, reason)
        if move == "accept":
            self.ever_accepted = True

    def deadline(self) -> datetime:
        """The deadline that counts now: to acknowledge, or else to answer."""
        acknowledge_within, answer_within = DEADLINES[self.referral.urgency]
        if self.referral.status == "sent":
            return self.sent_at + acknowledge_within
        return self.sent_at + answer_within


Step = Callable[[Story], None]


def acknowledge(s: Story) -> None:
    s.move("acknowledge", RECIPIENT, "caseworker")


def accept(s: Story) -> None:
    s.move("accept", RECIPIENT, "caseworker")


def complete(s: Story) -> None:
    s.move("complete", RECIPIENT, "caseworker")


def decline(s: Story) -> None:
    s.move("decline", RECIPIENT, "caseworker", reason="no places left this month")


def withdraw(s: Story) -> None:
    s.move("withdraw", SENDER, "caseworker")


def withdraw_consent(s: Story) -> None:
    # Case.withdraw_consent names the referrals relying on it; each is suspended.
    s.desk.withdraw_consent(s.case, s.consent)


def let_deadlines_pass_and_expire(s: Story) -> None:
    s.desk.tick(days=11)
    s.move("expire", RECIPIENT, "coordinator")


# Every state, reached the way it happens in the network (and a few states by
# two roads, where the road matters).
ROADS: dict[str, tuple[str, list[Step]]] = {
    "sent": ("sent", []),
    "acknowledged": ("acknowledged", [acknowledge]),
    "accepted": ("accepted", [acknowledge, accept]),
    "completed": ("completed", [acknowledge, accept, complete]),
    "declined": ("declined", [decline]),
    "declined-after-acknowledging": ("declined", [acknowledge, decline]),
    "withdrawn": ("withdrawn", [withdraw]),
    "withdrawn-after-acknowledgement": ("withdrawn", [acknowledge, withdraw]),
    "suspended": ("suspended", [withdraw_consent]),
    "suspended-after-acceptance": ("suspended", [acknowledge, accept, withdraw_consent]),
    "expired": ("expired", [let_deadlines_pass_and_expire]),
    "expired-after-acknowledgement": ("expired", [acknowledge, let_deadlines_pass_and_expire]),
}


def reach(desk, road: str) -> Story:
    state, steps = ROADS[road]
    story = Story(desk)
    for step in steps:
        desk.tick()
        step(story)
    assert story.referral.status == state
    return story


def test_every_road_reaches_its_state_and_every_state_has_a_road(desk) -> None:
    assert {state for state, _ in ROADS.values()} == set(STATES)
    for road in ROADS:
        reach(type(desk)(), road)


@pytest.mark.parametrize("role", ["coordinator", "caseworker"])
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("road", list(ROADS))
def test_each_move_from_each_state_by_each_side_goes_where_domain_md_says(
    desk, road: str, move: str, side: str, role: str
) -> None:
    story = reach(desk, road)
    referral = story.referral
    desk.tick(days=11)  # every deadline has passed: expiry is a matter of side, state, role
    state = referral.status
    referral.collect_events()
    before = (referral.version, referral.status, referral.accepted_at, referral.ended_at)
    want = expected(state, move, side, ever_accepted=story.ever_accepted, role=role)

    if isinstance(want, str):
        story.move(move, side, role, reason="no places left this month")
        assert referral.status == want
        assert referral.version == before[0] + 1
        [event] = referral.collect_events()
        assert event.to_status == want
        assert event.by_service == SERVICE_OF[side]
        assert (referral.ended_at is None) == (want in ACTIVE)
        if want == "accepted":
            assert referral.accepted_at == desk.now
        else:
            assert referral.accepted_at == before[2]
    else:
        with pytest.raises(want):
            story.move(move, side, role, reason="no places left this month")
        assert (referral.version, referral.status, referral.accepted_at, referral.ended_at) == (
            before
        )
        assert referral.collect_events() == []


# -- the refusals that depend on more than side and state ---------------------


@pytest.mark.parametrize("road", ["sent", "acknowledged"])
def test_recipient_cannot_decline_without_saying_why(desk, road: str) -> None:
    story = reach(desk, road)
    for reason in (None, "", "   "):
        with pytest.raises(errors.EmptyText):
            story.move("decline", RECIPIENT, "caseworker", reason=reason)
    assert story.referral.status == road


@pytest.mark.parametrize("side", [SENDER, RECIPIENT])
@pytest.mark.parametrize("road", ["sent", "acknowledged"])
def test_a_caseworker_cannot_expire_a_referral_only_a_coordinator_can(
    desk, road: str, side: str
) -> None:
    story = reach(desk, road)
    desk.tick(days=11)
    with pytest.raises(COORDINATOR_ONLY):
        story.move("expire", side, "caseworker")
    story.move("expire", side, "coordinator")
    assert story.referral.status == "expired"


@pytest.fixture(params=["emergency", "urgent", "routine"])
def urgent(request: pytest.FixtureRequest, desk) -> tuple[Story, timedelta, timedelta]:
    """A referral sent at each urgency, and its deadlines: to acknowledge, to answer."""
    acknowledge_within, answer_within = DEADLINES[request.param]
    return Story(desk, request.param), acknowledge_within, answer_within


def test_unanswered_referral_expires_only_once_the_acknowledgement_deadline_passed(
    desk, urgent: tuple[Story, timedelta, timedelta]
) -> None:
    story, acknowledge_within, _ = urgent
    desk.now = story.sent_at + acknowledge_within  # still in time, to the second
    with pytest.raises(errors.DeadlineNotPassed):
        story.move("expire", RECIPIENT)
    assert story.referral.status == "sent"
    desk.now += timedelta(seconds=1)
    story.move("expire", SENDER)
    assert story.referral.status == "expired"
    assert story.referral.ended_at == desk.now


def test_acknowledged_referral_expires_only_once_the_answer_deadline_passed(
    desk, urgent: tuple[Story, timedelta, timedelta]
) -> None:
    story, acknowledge_within, answer_within = urgent
    desk.now = story.sent_at + acknowledge_within / 2
    story.move("acknowledge", RECIPIENT, "caseworker")
    desk.now = story.sent_at + acknowledge_within + timedelta(seconds=1)
    with pytest.raises(errors.DeadlineNotPassed):  # acknowledged in time: now it must answer
        story.move("expire", SENDER)
    desk.now = story.sent_at + answer_within
    with pytest.raises(errors.DeadlineNotPassed):
        story.move("expire", SENDER)
    desk.now += timedelta(seconds=1)
    story.move("expire", RECIPIENT)
    assert story.referral.status == "expired"


def test_coordinator_of_an_unrelated_service_cannot_expire_someone_elses_referral(desk) -> None:
    story = Story(desk)
    desk.tick(days=11)
    with pytest.raises(errors.NotParticipant):
        story.move("expire", OTHER, "coordinator")
    assert story.referral.status == "sent"


def test_sender_cannot_withdraw_a_referral_suspended_after_it_was_accepted(desk) -> None:
    story = reach(desk, "suspended-after-acceptance")
    with pytest.raises(errors.InvalidTransition):
        story.move("withdraw", SENDER, "caseworker")
    assert story.referral.status == "suspended"
    assert story.referral.accepted_at is not None


def test_consent_withdrawal_leaves_an_ended_referral_as_it_ended(desk) -> None:
    story = reach(desk, "declined")
    version, ended_at = story.referral.version, story.referral.ended_at
    withdraw_consent(story)
    assert story.referral.status == "declined"
    assert (story.referral.version, story.referral.ended_at) == (version, ended_at)


def test_auditor_or_analyst_cannot_move_a_referral(desk) -> None:
    story = Story(desk)
    auditor = Actor("dpo", desk.service("garanzia-cesano"), frozenset({Role.AUDITOR}))
    analyst = Actor("obs", desk.service("osservatorio"), frozenset({Role.ANALYST}))
    for who in (auditor, analyst):
        for move in MOVES:
            with pytest.raises(errors.NotPermitted):
                story.referral.move(Move(move), who, desk.tick(), "a reason")
    assert story.referral.status == "sent"
    assert story.referral.version == 1


# -- random walks: whatever happens, the invariants hold -----------------------


class ReferralLife(RuleBasedStateMachine):
    """Random actors make random moves while time passes and consent may be withdrawn."""

    desk_class: type  # set by the test, from the `new_desk` fixture

    @initialize(urgency=st.sampled_from(sorted(DEADLINES)))
    def send(self, urgency: str) -> None:
        self.desk = self.desk_class()
        self.story = Story(self.desk, urgency)
        self.status = "sent"
        self.version = self.story.referral.version
        self.ever_accepted = False
        self.terminal: str | None = None
        self.consent_withdrawn = False

    @rule(
        move=st.sampled_from(MOVES),
        side=st.sampled_from(SIDES),
        role=st.sampled_from(["caseworker", "coordinator"]),
        reason=st.sampled_from([None, "", "no places left this month"]),
    )
    def somebody_moves(self, move: str, side: str, role: str, reason: str | None) -> None:
        story = self.story
        want = expected(
            self.status,
            move,
            side,
            ever_accepted=self.ever_accepted,
            role=role,
            reason=reason,
            now=self.desk.now,
            deadline=story.deadline(),
        )
        if isinstance(want, str):
            story.move(move, side, role, reason)
            self.status = want
            self.version += 1
            self.ever_accepted |= want == "accepted"
        else:
            with pytest.raises(want):
                story.move(move, side, role, reason)

    @rule(hours=st.integers(min_value=0, max_value=24 * 12))
    def time_passes(self, hours: int) -> None:
        self.desk.tick(hours=hours)

    @precondition(lambda self: not self.consent_withdrawn)
    @rule()
    def she_withdraws_her_consent(self) -> None:
        withdraw_consent(self.story)
        self.consent_withdrawn = True
        if self.status in ACTIVE:
            self.status = "suspended"
            self.version += 1

    @invariant()
    def the_referral_is_where_the_document_says(self) -> None:
        referral = self.story.referral
        assert referral.status in STATES
        assert referral.status == self.status
        assert referral.version == self.version

    @invariant()
    def an_ended_referral_stays_ended(self) -> None:
        status = self.story.referral.status
        if self.terminal is not None:
            assert status == self.terminal
        elif status in TERMINAL:
            self.terminal = status

    @invariant()
    def its_dates_tell_its_history(self) -> None:
        referral = self.story.referral
        assert (referral.accepted_at is not None) == self.ever_accepted
        assert (referral.ended_at is not None) == (referral.status not in ACTIVE)
        if referral.status == "withdrawn":
            assert referral.accepted_at is None


@pytest.mark.long
def test_random_lives_of_a_referral_keep_its_invariants(new_desk) -> None:
    class Life(ReferralLife):
        desk_class = new_desk

    run_state_machine_as_test(
        Life,
        settings=settings(
            max_examples=examples(200),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
