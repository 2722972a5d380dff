"""Keyset cursors: a walk through every page meets each row that was there exactly
once, while others open cases, refer them and move referrals on (issue 12,
done-when 4); a cursor the server did not give out is a 400, never a scan.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support.people import people_of
from support.stories import record_consent, refer

from domain.referral import Move

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
URGENCIES = ("routine", "urgent", "emergency")
PRE_EXISTING = 24
WRITES = 100
PAGE = 4
# Writes that land between two pages of a walk (more land while a page is read).
WRITES_PER_PAGE = 7


def consented_case(rete: Any, anna: Any) -> str:
    ref: str = rete.cases.open(anna).reference_code
    record_consent(rete, anna, ref)
    return ref


class Writer(threading.Thread):
    """Runs the writes one by one, on the application the API serves, while the test
    walks; ``allow(n)`` lets ``n`` more go (the walk's pages wait on them)."""

    def __init__(self, writes: list[Callable[[], object]]) -> None:
        super().__init__(daemon=True)
        self.writes = writes
        self.done = 0
        self.allowed = 0
        self.failure: BaseException | None = None
        self._turn = threading.Condition()

    def allow(self, more: int) -> None:
        with self._turn:
            self.allowed += more
            self._turn.notify_all()

    def wait_for(self, done: int) -> None:
        with self._turn:
            self._turn.wait_for(
                lambda: self.done >= min(done, len(self.writes)) or self.failure is not None, 60
            )

    def run(self) -> None:
        try:
            for write in self.writes:
                with self._turn:
                    self._turn.wait_for(lambda: self.allowed > self.done, 60)
                write()
                with self._turn:
                    self.done += 1
                    self._turn.notify_all()
        except BaseException as e:  # the test reports it
            self.failure = e
            with self._turn:
                self._turn.notify_all()


def walk(api: Any, who: str, path: str, writer: Writer, **params: Any) -> list[str]:
    """Every page of a list, letting ``WRITES_PER_PAGE`` writes land after each
    (and while the next is read); the ids met, in order."""
    met: list[str] = []
    cursor = None
    while True:
        writer.allow(WRITES_PER_PAGE)
        query = {**params, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
        page = api.ok(api.get(who, path, params=query))
        met += [item["id"] for item in page["items"]]
        writer.wait_for(writer.allowed)
        cursor = page["next_cursor"]
        if cursor is None:
            return met


@pytest.fixture
def busy(any_backend_api) -> tuple[Any, dict[str, list[str]], Writer]:
    """Anna's cases and Bea's inbox as they are before the walks, and a writer of 100
    writes: new cases, consents and referrals at every urgency, and moves
    (acknowledge, accept, decline) of the referrals already in the inbox."""
    api = any_backend_api
    rete = api.rete
    people = people_of(rete)
    before: dict[str, list[str]] = {"cases": [], "inbox": []}
    for n in range(PRE_EXISTING):
        ref = consented_case(rete, people.anna)
        before["cases"].append(rete.cases.get(people.anna, ref).id)
        sent = refer(rete, people.anna, ref, urgency=URGENCIES[n % 3])
        before["inbox"].append(sent.id)
    writes: list[Callable[[], object]] = []
    for rid in before["inbox"]:
        writes.append(lambda rid=rid: rete.referrals.move(people.bea, rid, Move.ACKNOWLEDGE))
    for n, rid in enumerate(before["inbox"][:20]):
        move = Move.ACCEPT if n % 2 else Move.DECLINE
        reason = None if move is Move.ACCEPT else "not for us"
        writes.append(
            lambda rid=rid, move=move, reason=reason: rete.referrals.move(
                people.bea, rid, move, reason
            )
        )
    made: list[str] = []
    while len(writes) < WRITES:
        n = len(writes)
        if n % 2:
            writes.append(lambda: made.append(consented_case(rete, people.anna)))
        else:
            writes.append(
                lambda n=n: refer(
                    rete,
                    people.anna,
                    made[-1] if made else consented_case(rete, people.anna),
                    urgency=URGENCIES[n % 3],
                )
            )
    # Moves first in the list would land only early: interleave them with the rest.
    moves, others = writes[:44], writes[44:]
    interleaved = [w for pair in zip(moves, others, strict=False) for w in pair]
    interleaved += moves[len(others) :] + others[len(moves) :]
    assert len(interleaved) == WRITES
    return api, before, Writer(interleaved)


def test_a_walk_meets_each_row_once_while_others_write(busy) -> None:
    api, before, writer = busy
    writer.start()
    cases = walk(api, "anna", CASES, writer)
    inbox = walk(api, "bea", REFERRALS, writer, box="inbox")
    writer.allow(WRITES)
    writer.join(120)
    assert writer.failure is None, writer.failure
    assert writer.done == WRITES  # every write landed, most of them during the walks
    for met, there in ((cases, before["cases"]), (inbox, before["inbox"])):
        seen = Counter(met)
        assert [i for i, n in seen.items() if n > 1] == []
        assert [i for i in there if seen[i] != 1] == []


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        _cursor(b"o:3"),  # an offset, as cursors once were
        _cursor(b"o:99999999999999999999999999"),
        _cursor(b"\0" * 16 + b"[99999999999999999999999999]"),  # a key with no valid MAC
        _cursor(b"\0" * 16 + b'{"scan": true}'),
        "A" * 200,
    ],
)
@pytest.mark.parametrize("path", [CASES, REFERRALS])
def test_a_cursor_not_given_out_is_refused(any_backend_api, problem, path, cursor) -> None:
    api = any_backend_api
    problem(api.get("anna", path, params={"cursor": cursor}), 400, "invalid-cursor")


def test_a_cursor_longer_than_any_given_out_is_refused(api, problem) -> None:
    problem(api.get("anna", CASES, params={"cursor": "A" * 201}), 400, "invalid-parameter")
