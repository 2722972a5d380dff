"""When a failed webhook delivery is tried again: back-off over hours, then dead letter.

The schedule (also in docs/NOTIFICATIONS.md): after the first attempt fails, again
after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h and 8 h: ten attempts over
about 16 hours. A delivery still failing after the last goes to the dead-letter
list, which the service's coordinator reads and replays.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

# The wait before attempt n + 2 after attempt n + 1 failed.
SCHEDULE: Final = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
ATTEMPTS: Final = len(SCHEDULE) + 1


def next_wait(attempts: int) -> timedelta | None:
    """After ``attempts`` failed attempts, how long until the next (None: give up)."""
    if attempts < 1 or attempts > len(SCHEDULE):
        return None
    return SCHEDULE[attempts - 1]
