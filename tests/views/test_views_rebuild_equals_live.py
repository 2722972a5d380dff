"""Rebuild equals incremental (issue 5, "done when" 3): after the demo story and after
random stories, every view rebuilt from the log equals the one kept up to date
batch by batch, row by row, on both backends; and both agree with the aggregates."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from hypothesis import given
from support.clock import TestClock
from views_agreement import assert_views_agree_with_the_store
from views_story import STORY, Network, story_settings
from views_support import leave_a_referral_unanswered, live_rows, positions

from api.demo import load_demo
from application.rete import Rete
from infrastructure.views import Views
from infrastructure.views.projection import VIEW_NAMES


def following(views: Views) -> Callable[[], None]:
    """Catch up over and over in another thread (batches fall anywhere in the story)
    until the returned function is called."""
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            views.catch_up()
            done.wait(0.002)

    thread = threading.Thread(target=loop)
    thread.start()

    def stop() -> None:
        done.set()
        thread.join()

    return stop


def test_after_the_demo_the_rebuilt_views_equal_the_live_ones(
    rete: Rete, make_views: Callable[..., Views], clock: TestClock
) -> None:
    views = make_views(catch_up_before_reads=True)
    stop = following(make_views())  # another process's runner, batch by batch
    try:
        load_demo(rete)
        leave_a_referral_unanswered(rete, clock)
    finally:
        stop()
    views.catch_up()
    live = live_rows(views)
    assert len(live["rete_view_cases"]) >= 5 and len(live["rete_view_referrals"]) >= 12
    assert live["rete_view_escalations"], "escalated twice"

    head = views.rebuild()

    assert live_rows(views) == live
    assert set(positions(views).values()) == {head}
    assert views.check() == []
    assert_views_agree_with_the_store(rete, views)


def test_one_view_is_rebuilt_alone_and_the_others_are_left_as_they_were(
    rete: Rete, views: Views
) -> None:
    load_demo(rete)
    views.catch_up()
    live = live_rows(views)

    for name in VIEW_NAMES:
        views.rebuild([name])
        assert live_rows(views) == live, name
    views.rebuild(["entries", "referrals"])
    assert live_rows(views) == live


def rebuilt_equals_live(
    rete: Rete, views: Views, clock: TestClock, story: list[tuple[object, ...]]
) -> None:
    # Every example adds to the same database: the log only grows, as in life.
    Network(rete, clock, views).run(story)  # catch-ups fall where the story puts them
    views.catch_up()
    live = live_rows(views)

    views.rebuild()

    assert live_rows(views) == live
    assert_views_agree_with_the_store(rete, views)


# The database grows with every example and each one rebuilds all of it: the cost
# grows faster than the count. The default run tells 6 stories; the slow
# run 40 (and HYPOTHESIS_PROFILE=long ten times more).
@pytest.mark.parametrize("stories", [6, pytest.param(40, marks=pytest.mark.slow)])
def test_after_random_stories_the_rebuilt_views_equal_the_live_ones(
    rete: Rete, views: Views, clock: TestClock, stories: int
) -> None:
    # Hypothesis inside the test: the examples share its fixtures, as they would
    # on a decorated test (``story_settings`` allows it).
    @story_settings(stories)
    @given(story=STORY)
    def rebuilt_after(story: list[tuple[object, ...]]) -> None:
        rebuilt_equals_live(rete, views, clock, story)

    rebuilt_after()


def test_a_view_whose_shape_changed_is_rebuilt_when_the_views_are_opened(
    rete: Rete, views: Views, make_views: Callable[..., Views]
) -> None:
    load_demo(rete)
    views.catch_up()
    live = live_rows(views)
    with views.tables.write() as tx:
        tx.command(
            f"UPDATE {tx.dialect.qualify('rete_view_tracking')} SET shape = %s WHERE name = %s",
            ("an older shape", "referrals"),
        )

    reopened = make_views(catch_up_before_reads=True)

    assert reopened.fresh == ["referrals"]
    assert positions(reopened)["referrals"] == 0
    reopened.catch_up()
    assert live_rows(reopened) == live
