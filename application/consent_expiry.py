"""Consent expiry: once a consent's expiry time passes, every referral relying on it
is suspended, as a withdrawal suspends them (DOMAIN.md "Consent").

A withdrawal is something the owner does, and suspends in the same write. An
expiry is a time passing: a periodic run (beside the escalation policy, on the
server's background work) records each suspension as a ``Referral.Suspended``
system event. It is idempotent like escalation: a referral already suspended is
left as it is, and two workers suspending at once conflict, the loser finding it
done on its next run. Between the expiry and the run nothing may move the
referral on: ``Referrals.move`` asks ``lapsed`` first, with the clock, so there is
no window.
"""

from __future__ import annotations

from datetime import datetime

from application.context import Context
from application.system_moves import move_each
from domain.consent import Consent
from domain.referral import Referral


def lapsed(ctx: Context, referral: Referral, at: datetime, *, caught_up: bool = True) -> bool:
    """Suspend ``referral`` (unsaved) if the consent it relies on no longer stands
    at ``at``. The consent's terms are read from the views, as visibility reads
    them (loading the case would replay and open every note of it for one date):
    its expiry is fixed when it is recorded, before any referral relies on it, and
    a withdrawal suspends the referral in the same write (it is then not active).
    ``caught_up=False``: the caller just read the referral's row from caught-up
    views, which therefore hold its consent (recorded before it): read them as they
    stand (one statement)."""
    if referral.consent_id is None or not referral.is_active:
        return False
    consent = ctx.views.relied_on(
        referral.id, referral.case_id, referral.consent_id, caught_up=caught_up
    )
    return consent is not None and referral.lapse(consent, at)


def lapsed_under(referral: Referral, consent: Consent | None, at: datetime) -> bool:
    """``lapsed``, with the consent the referral relies on already read (by
    ``ViewReader.referral_relying``, with the referral's row: its consent id never
    changes): None when the views hold none."""
    if referral.consent_id is None or not referral.is_active:
        return False
    return consent is not None and referral.lapse(consent, at)


class ConsentExpiries:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def run(self) -> int:
        """Suspend every active referral whose consent expired; returns how many."""
        if self.ctx.ended_consents is None:
            return 0
        at = self.ctx.clock.now()
        # The views lagged behind a move or a suspension when it has not lapsed.
        return move_each(
            self.ctx,
            self.ctx.ended_consents.relying_on_ended(at),
            lambda referral: lapsed(self.ctx, referral, at),
        )
