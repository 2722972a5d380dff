"""A service's inbox and outbox: what to answer first, filtered and paged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.stories import record_consent

from application.pagination import InvalidCursor, InvalidLimit
from application.referrals import UnknownBox, UnknownStatus
from domain.referral import Move


@pytest.fixture
def monday_referrals(rete, people, clock, consented_case, send) -> dict[str, str]:
    """Referrals the CAV sends social services over a morning; by the next
    Friday some are overdue. Returns their ids by nickname."""
    ref, _ = consented_case
    second = rete.cases.open(people.anna).reference_code
    record_consent(rete, people.anna, second, categories=["identity"])
    plan = [  # (nickname, hours after 9:00, case, urgency)
        ("routine-1", 0, ref, "routine"),
        ("routine-2", 1, second, "routine"),
        ("urgent-1", 2, ref, "urgent"),
        ("emergency-1", 3, second, "emergency"),
        ("emergency-2", 3.5, ref, "emergency"),
        ("routine-3", 4, ref, "routine"),
        ("urgent-declined", 5, second, "urgent"),
    ]
    start = clock.at
    ids = {}
    for name, hours, case_ref, urgency in plan:
        clock.at = start
        clock.advance(hours=hours)
        ids[name] = send(rete, people.anna, case_ref, urgency=urgency, scope=["identity"]).id
    clock.advance(minutes=30)
    rete.referrals.move(people.bea, ids["routine-2"], Move.ACKNOWLEDGE)
    rete.referrals.move(people.bea, ids["urgent-declined"], Move.DECLINE, reason="not for us")
    clock.at = start
    clock.advance(hours=100)  # Friday afternoon
    return ids


# The most urgent first, then in the order sent (the oldest, so the most overdue,
# first): keys that no move changes, so pages do not shift while others work.
# At +100 h: the emergencies were due at +4 h and +4.5 h, the urgent one at +26 h,
# routine-1 at +72 h, routine-3 at +76 h; routine-2 was acknowledged, so it must be
# answered by +241 h; the declined one has ended.
EXPECTED = [
    "emergency-1",
    "emergency-2",
    "urgent-1",
    "urgent-declined",
    "routine-1",
    "routine-2",
    "routine-3",
]


def names(page, ids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[r.id] for r in page.items]


def test_inbox_puts_emergencies_first_then_the_oldest(rete, people, monday_referrals):
    inbox = rete.referrals.list(people.bea, "inbox")
    assert names(inbox, monday_referrals) == EXPECTED
    assert inbox.next_cursor is None
    assert [r.overdue for r in inbox.items] == [True, True, True, False, True, False, True]


def test_what_to_answer_first_is_the_overdue_filter(rete, people, monday_referrals):
    overdue = rete.referrals.list(people.bea, "inbox", overdue=True)
    assert names(overdue, monday_referrals) == [
        "emergency-1",
        "emergency-2",
        "urgent-1",
        "routine-1",
        "routine-3",
    ]


def test_outbox_shows_what_the_service_sent_in_the_same_order(rete, people, monday_referrals):
    outbox = rete.referrals.list(people.anna, "outbox")
    assert names(outbox, monday_referrals) == EXPECTED
    assert rete.referrals.list(people.anna, "inbox").items == []
    assert rete.referrals.list(people.bea, "outbox").items == []


def test_a_coordinator_filters_the_inbox_by_status(rete, people, monday_referrals) -> None:
    def only(*statuses: str) -> list[str]:
        return names(rete.referrals.list(people.bruna, "inbox", list(statuses)), monday_referrals)

    assert only("sent") == ["emergency-1", "emergency-2", "urgent-1", "routine-1", "routine-3"]
    assert only("acknowledged") == ["routine-2"]
    assert only("declined") == ["urgent-declined"]
    assert only("acknowledged", "declined") == ["urgent-declined", "routine-2"]
    assert only("completed") == []
    with pytest.raises(UnknownStatus):
        only("lost")


def test_inbox_pages_follow_the_cursor_to_the_end(rete, people, monday_referrals) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        page = rete.referrals.list(people.bea, "inbox", cursor=cursor, limit=3)
        seen += names(page, monday_referrals)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == EXPECTED


def test_a_box_refuses_what_it_does_not_understand(rete, people, monday_referrals) -> None:
    with pytest.raises(UnknownBox):
        rete.referrals.list(people.bea, "spam")
    with pytest.raises(InvalidLimit):
        rete.referrals.list(people.bea, "inbox", limit=0)
    with pytest.raises(InvalidCursor):
        rete.referrals.list(people.bea, "inbox", cursor="bm90IGEgY3Vyc29y")


def test_an_accepted_referral_is_not_overdue_one_still_waiting_past_its_deadline_is(
    rete, people, clock, consented_case, send
) -> None:
    ref, _ = consented_case
    start = clock.at
    taken_on = send(rete, people.anna, ref).id
    rete.referrals.move(people.bea, taken_on, Move.ACKNOWLEDGE)
    rete.referrals.move(people.bea, taken_on, Move.ACCEPT)  # answered: nothing is due
    clock.advance(days=8)
    waiting = send(rete, people.anna, ref).id  # to acknowledge within 72 h
    clock.at = start + timedelta(days=12)  # 1 day past `waiting`'s deadline
    inbox = rete.referrals.list(people.bea, "inbox").items
    assert [(r.id, r.overdue) for r in inbox] == [(taken_on, False), (waiting, True)]
    assert [r.id for r in rete.referrals.list(people.bea, "inbox", overdue=True).items] == [waiting]
    assert [r.id for r in rete.referrals.list(people.bea, "inbox", overdue=False).items] == [
        taken_on
    ]
