"""`rete demo`: a synthetic story of the network, loaded through the application.

Every person, alias and fact in it is invented. The story is told as seven
chapters (``chapters``), one per case, each reading top to bottom as its own
story, in the words of ``story.Story``; the scheduler here interleaves them in
time so that the shared clock only moves forward.

The clock is the demo's own (``clock.StoryClock``): it starts a few weeks before
the real "now" of the application's clock and is moved step by step, so cases
appear opened over the past weeks and an emergency referral can be left
unanswered past its deadline and then expired by a coordinator, as it would be
in real life. It never moves past the real "now".

The returned lines name reference codes, services, referral kinds, moves and
times: facts that are not personal data. The texts of notes, reasons and
justifications never appear in them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import timedelta

from api.demo.chapters import CHAPTERS
from api.demo.clock import Chapter, StoryClock
from api.demo.story import Story
from application.rete import Rete

__all__ = ["StoryClock", "load_demo"]


def _interleave(story: Story, chapters: Iterable[Chapter]) -> None:
    """Run each chapter's next step in story-time order, moving the clock to it."""
    queue: list[tuple[timedelta, int, Chapter]] = []
    for order, chapter in enumerate(chapters):
        queue.append((next(chapter), order, chapter))
    heapq.heapify(queue)
    while queue:
        when, order, chapter = heapq.heappop(queue)
        story.clock.move_to(when)
        following = next(chapter, None)
        if following is not None:
            heapq.heappush(queue, (following, order, chapter))


def load_demo(rete: Rete) -> list[str]:
    """Load the story through ``rete``'s application layer, on its own clock; return
    one line per step (no personal data). Each run opens new cases."""
    clock = StoryClock(rete.clock)
    story = Story(rete.with_clock(clock), clock)
    _interleave(story, (chapter(story) for chapter in CHAPTERS))
    return story.lines
