"""A service's coordinator manages its webhook subscriptions and dead letters.

Each change is an event of a ``Subscription`` (in the verified history and the
ledger). A secret is made here, sealed at once (``SecretBox``), and its plaintext
is returned only in the answer to the request that created or rotated it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Final
from uuid import UUID

import msgspec

from application.authorisation import Action, authorise
from application.context import Context
from application.errors import NotFound
from application.notifications.announcement import KINDS
from application.notifications.ports import (
    DeadLetter,
    Deliveries,
    SecretBox,
    SubscriptionRow,
)
from domain import errors
from domain.network import Actor
from domain.subscription import Subscription

# How long the previous secret still signs after a rotation, unless asked otherwise.
DEFAULT_OVERLAP: Final = timedelta(hours=24)
MAX_OVERLAP: Final = timedelta(days=7)


class InvalidOverlap(errors.InvalidValue):
    code = "invalid-overlap"
    title = "The overlap of the old and new secret is out of range"


class NotificationsUnavailable(Exception):
    """The application was assembled without notifications (no database beside its log)."""


class SubscriptionSecret(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a creation or a rotation: the only time the secret is shown."""

    id: str
    url: str
    kinds: list[str]
    secret: str


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Notifications:
    def __init__(self, ctx: Context, box: SecretBox, deliveries: Deliveries) -> None:
        self.ctx = ctx
        self._box = box
        self._deliveries = deliveries

    def subscribe(self, actor: Actor, url: str, kinds: Sequence[str]) -> SubscriptionSecret:
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        subscription_id = Subscription.new_id()
        secret = new_secret()
        subscription = Subscription.create(
            subscription_id,
            url,
            list(kinds),
            self._box.seal(secret, subscription_id),
            actor,
            self.ctx.clock.now(),
            KINDS,
        )
        self.ctx.store.save(subscription)
        return SubscriptionSecret(
            id=str(subscription.id), url=subscription.url, kinds=subscription.kinds, secret=secret
        )

    def subscriptions(self, actor: Actor) -> Sequence[SubscriptionRow]:
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        return self._deliveries.subscriptions(actor.service.id)

    def change(
        self, actor: Actor, subscription_id: str, url: str, kinds: Sequence[str]
    ) -> SubscriptionRow:
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        subscription = self._load(actor, subscription_id)
        subscription.change(url, list(kinds), actor, self.ctx.clock.now(), KINDS)
        self.ctx.store.save(subscription)
        return _row(subscription)

    def rotate(
        self, actor: Actor, subscription_id: str, overlap: timedelta = DEFAULT_OVERLAP
    ) -> SubscriptionSecret:
        """A new secret signs from now on; the old one too, for ``overlap``, so that
        the receiver can change its secret in its own time."""
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        if not timedelta(0) <= overlap <= MAX_OVERLAP:
            raise InvalidOverlap(f"the overlap is between 0 and {MAX_OVERLAP.days} days")
        subscription = self._load(actor, subscription_id)
        secret = new_secret()
        now = self.ctx.clock.now()
        subscription.rotate(self._box.seal(secret, subscription.id), now + overlap, actor, now)
        self.ctx.store.save(subscription)
        return SubscriptionSecret(
            id=str(subscription.id), url=subscription.url, kinds=subscription.kinds, secret=secret
        )

    def unsubscribe(self, actor: Actor, subscription_id: str) -> SubscriptionRow:
        """Remove it: nothing more is sent to it (what it owed is dropped)."""
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        subscription = self._load(actor, subscription_id)
        subscription.remove(actor, self.ctx.clock.now())
        self.ctx.store.save(subscription)
        return _row(subscription)

    def dead_letters(self, actor: Actor, limit: int = 100) -> Sequence[DeadLetter]:
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        return self._deliveries.dead_letters(actor.service.id, limit)

    def replay(self, actor: Actor, announcement_ids: Sequence[str] | None = None) -> int:
        """Try the service's dead letters again (those named, or all), in order."""
        authorise(actor, Action.MANAGE_NOTIFICATIONS)
        return self._deliveries.replay(actor.service.id, announcement_ids, self.ctx.clock.now())

    def _load(self, actor: Actor, subscription_id: str) -> Subscription:
        try:
            subscription = self.ctx.store.get(Subscription, UUID(subscription_id))
        except (ValueError, NotFound):
            raise NotFound("no such subscription") from None
        if subscription.service != actor.service.id:
            raise NotFound("no such subscription")  # another service's: not said to exist
        return subscription


def _row(subscription: Subscription) -> SubscriptionRow:
    return SubscriptionRow(
        id=str(subscription.id),
        url=subscription.url,
        kinds=list(subscription.kinds),
        created_at=subscription.created_on,
        previous_secret_until=subscription.previous_until,
    )
