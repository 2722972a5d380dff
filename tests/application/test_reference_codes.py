"""Reference codes say nothing about how many cases the network opened: they are
drawn at random, carry a check character, and never make an opening wait or fail.

Each test runs on SQLite and on PostgreSQL (several application instances on one
database are several server workers).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from support.clock import TestClock

from application.errors import Conflict, NotFound
from application.rete import Rete
from domain.case import Case
from domain.reference import ALPHABET, canonical_reference, new_reference
from infrastructure.bootstrap import build_keys, build_rete
from infrastructure.settings import Settings
from infrastructure.store import ReteEventStore

NEW_CODE = re.compile(rf"^CB-2026-[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}$")


def test_cases_opened_at_once_by_many_workers_are_never_refused(
    make_rete: Callable[..., Rete], people
) -> None:
    workers = [make_rete() for _ in range(4)]
    threads_per_worker, cases_per_thread = 4, 3
    barrier = threading.Barrier(len(workers) * threads_per_worker)
    codes: list[str] = []
    refusals: list[BaseException] = []
    lock = threading.Lock()

    def open_cases(worker: Rete) -> None:
        barrier.wait()
        for _ in range(cases_per_thread):
            try:
                code = worker.cases.open(people.anna).reference_code
            except Exception as exc:
                with lock:
                    refusals.append(exc)
            else:
                with lock:
                    codes.append(code)

    threads = [
        threading.Thread(target=open_cases, args=(worker,))
        for worker in workers
        for _ in range(threads_per_worker)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert refusals == []
    assert len(codes) == len(set(codes)) == len(threads) * cases_per_thread
    assert all(NEW_CODE.match(code) and canonical_reference(code) == code for code in codes)
    listed = make_rete().cases.list(people.anna, limit=100).items
    assert sorted(c.reference_code for c in listed) == sorted(codes)


def _typos(code: str) -> list[str]:
    """Every code one mistyped character or one swap of two characters away, in the
    year or the drawn part, keeping to the codes' own alphabet (what a phone call
    can garble)."""
    prefix = "CB-"
    tail = code[len(prefix) :]
    places = [i for i, c in enumerate(tail) if c != "-"]
    typos = []
    for i in places:
        typos += [tail[:i] + s + tail[i + 1 :] for s in ALPHABET if s != tail[i]]
    for n, i in enumerate(places):
        for j in places[n + 1 :]:
            if tail[i] != tail[j]:
                swapped = list(tail)
                swapped[i], swapped[j] = tail[j], tail[i]
                typos.append("".join(swapped))
    return [prefix + t for t in typos]


def test_a_mistyped_code_is_refused_as_no_code_before_anything_is_read(rete: Rete, people) -> None:
    code = rete.cases.open(people.anna).reference_code
    typos = _typos(code)
    assert len(typos) > 180
    assert [t for t in typos if canonical_reference(t) is not None] == []
    for typo in typos[::17]:
        with pytest.raises(NotFound) as refused:
            rete.cases.get(people.anna, typo)
        assert refused.value.code == "invalid-reference"
    # Read back as spoken: lower case, and O, I, L for 0, 1, 1, find the same case.
    spoken = code.lower().replace("0", "o").replace("1", "l")
    assert rete.cases.get(people.anna, spoken).reference_code == code


def test_old_numbered_codes_still_name_their_cases(rete: Rete, people) -> None:
    at = rete.ctx.clock.now()
    rete.ctx.store.save(Case.open("CB-2026-0001", people.anna, at))
    assert canonical_reference("CB-2026-0001") == "CB-2026-0001"
    rete.cases.add_note(people.anna, "CB-2026-0001", "violence", "what she told us")
    seen = rete.cases.get(people.anna, "CB-2026-0001")
    assert (seen.reference_code, len(seen.entries)) == ("CB-2026-0001", 1)
    with pytest.raises(NotFound) as missing:
        rete.cases.get(people.anna, "CB-2026-0002")
    assert missing.value.code == "not-found"


def test_two_openings_drawing_the_same_code_both_succeed(rete: Rete, people) -> None:
    taken = rete.cases.open(people.anna).reference_code
    rete.ctx.clock.tick()
    fresh = new_reference("CB", 2026)
    draws = iter([taken, taken, fresh])
    rete.cases.draw_code = lambda network, year: next(draws)
    second = rete.cases.open(people.anna)
    assert second.reference_code == fresh
    assert rete.cases.get(people.anna, taken).id != second.id


class UnconfirmedStore(ReteEventStore):
    """The event store, as when the driver cannot confirm a commit that happened: the
    first save is stored, then reported as a conflict (the library's retry of an
    insert whose commit it did not see)."""

    name = "Rete"  # the library names an application's settings and tables after it
    unconfirmed = 1

    def save(self, *aggregates: Aggregate, **kwargs: Any) -> Any:
        stored = super().save(*aggregates, **kwargs)
        if self.unconfirmed:
            self.unconfirmed -= 1
            raise Conflict("someone else changed this first; nothing was written")
        return stored


def test_an_opening_whose_commit_went_unconfirmed_opens_one_case(
    settings: Settings, clock: TestClock, people
) -> None:
    store = UnconfirmedStore(
        settings.eventsourcing_env(), build_keys(settings), settings.snapshot_interval
    )
    rete = build_rete(settings, clock=clock, store=store)
    try:
        opened = rete.cases.open(people.anna)
        listed = rete.cases.list(people.anna).items
        assert [c.reference_code for c in listed] == [opened.reference_code]
    finally:
        rete.close()
        store.close()
