"""A service's webhook subscription: where its announcements go, and under which secret.

Every change (created, changed, secret rotated, removed) is an event, so that who
pointed a service's announcements where, and when, is in the verified history and
the ledger like everything else. The signing secret is held only sealed
(``secret_sealed``: opened by Rete's processes alone); its plaintext is shown
once, to the coordinator who created or rotated it, and never stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain import errors
from domain.events import ActedEvent, NetworkEvent, acted_by
from domain.network import Actor
from domain.vocabulary import Role

MAX_URL: Final = 2_000


class InvalidEndpoint(errors.InvalidValue):
    code = "invalid-endpoint"
    title = "The webhook endpoint is not an http(s) URL"


class UnknownAnnouncementKind(errors.InvalidValue):
    code = "unknown-announcement-kind"
    title = "Unknown announcement kind"


class SubscriptionRemoved(errors.InvalidState):
    code = "subscription-removed"
    title = "The subscription was removed"


def endpoint(url: str) -> str:
    """The URL as given, or ``InvalidEndpoint``: absolute http(s) with a host."""
    if not isinstance(url, str) or len(url) > MAX_URL:
        raise InvalidEndpoint(f"an endpoint is a URL of at most {MAX_URL} characters")
    if not all("!" <= c <= "~" for c in url):
        # Printable ASCII only: a URL's other characters go percent-encoded, and
        # `urlsplit` would silently drop a tab or a newline instead of refusing it.
        raise InvalidEndpoint("an endpoint is printable ASCII (percent-encode the rest)")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidEndpoint("an endpoint is an absolute http or https URL")
    return url


def wanted(kinds: list[str], known: tuple[str, ...]) -> list[str]:
    """The kinds asked for, each once, sorted; every one must be a known kind."""
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        raise UnknownAnnouncementKind(f"no announcement kind {unknown[0]!r}")
    if not kinds:
        raise UnknownAnnouncementKind("a subscription wants at least one kind")
    return sorted(set(kinds))


class Subscription(Aggregate):
    """One endpoint of one service, and the kinds of announcement it wants."""

    class Event(NetworkEvent):
        aggregate = "subscription"

    class Created(ActedEvent, Aggregate.Created):
        service: str
        url: str
        kinds: list[str]
        secret_sealed: bytes

    class Changed(ActedEvent):
        url: str
        kinds: list[str]

        def apply(self, subscription: Subscription) -> None:
            subscription.url = self.url
            subscription.kinds = list(self.kinds)

    class SecretRotated(ActedEvent):
        """A new secret signs from now on; the previous one too, until ``previous_until``."""

        secret_sealed: bytes
        previous_until: datetime

        def apply(self, subscription: Subscription) -> None:
            subscription.secret_sealed = self.secret_sealed
            subscription.previous_until = self.previous_until

    class Removed(ActedEvent):
        def apply(self, subscription: Subscription) -> None:
            subscription.removed = True

    def __init__(self, service: str, url: str, kinds: list[str], secret_sealed: bytes) -> None:
        self.service = service
        self.url = url
        self.kinds = list(kinds)
        self.secret_sealed = secret_sealed
        self.previous_until: datetime | None = None
        self.removed = False

    @staticmethod
    def new_id() -> UUID:
        return uuid4()

    @classmethod
    def create(
        cls,
        subscription_id: UUID,
        url: str,
        kinds: list[str],
        secret_sealed: bytes,
        by: Actor,
        at: datetime,
        known: tuple[str, ...],
    ) -> Subscription:
        by.require(Role.COORDINATOR)
        return cls._create(
            cls.Created,
            id=subscription_id,
            timestamp=at,
            service=by.service.id,
            url=endpoint(url),
            kinds=wanted(kinds, known),
            secret_sealed=secret_sealed,
            **acted_by(by),
        )

    def change(
        self, url: str, kinds: list[str], by: Actor, at: datetime, known: tuple[str, ...]
    ) -> None:
        self._managed_by(by)
        self.trigger_event(
            self.Changed,
            timestamp=at,
            url=endpoint(url),
            kinds=wanted(kinds, known),
            **acted_by(by),
        )

    def rotate(
        self, secret_sealed: bytes, previous_until: datetime, by: Actor, at: datetime
    ) -> None:
        self._managed_by(by)
        self.trigger_event(
            self.SecretRotated,
            timestamp=at,
            secret_sealed=secret_sealed,
            previous_until=previous_until,
            **acted_by(by),
        )

    def remove(self, by: Actor, at: datetime) -> None:
        self._managed_by(by)
        self.trigger_event(self.Removed, timestamp=at, **acted_by(by))

    def _managed_by(self, by: Actor) -> None:
        by.require(Role.COORDINATOR)
        if by.service.id != self.service:
            # Another service's subscription is not even said to exist.
            raise errors.NotPermitted("a subscription is managed by its own service")
        if self.removed:
            raise SubscriptionRemoved("the subscription was removed")
