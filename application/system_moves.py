"""The system's own moves on referrals, made by a periodic run rather than a person
(escalation, consent expiry): each referral is loaded, changed if its own events say
the move is due, and saved.

Both runs are idempotent and may run on several workers at once: a save that
conflicts means someone moved the referral meanwhile, and the next run decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from application.context import Context
from application.errors import Conflict
from domain.referral import Referral


def move_each(ctx: Context, referral_ids: Iterable[UUID], move: Callable[[Referral], bool]) -> int:
    """Load each referral, let ``move`` change it (``False``: nothing was due, the
    views lagged behind), save it; returns how many were saved."""
    moved = 0
    for referral_id in referral_ids:
        referral = ctx.store.get(Referral, referral_id)
        if not move(referral):
            continue
        try:
            ctx.store.save(referral)
        except Conflict:
            continue  # someone moved it meanwhile: the next run decides
        moved += 1
    return moved
