"""``/api/v1/notifications``: a service's webhook subscriptions and dead letters
(coordinators of that service only; docs/NOTIFICATIONS.md).

A subscription's secret is in the answer to its creation and to each rotation,
and never again. Every change is an event of the subscription (the verified
history); replaying dead letters queues them again, in order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import msgspec
from litestar import Controller
from litestar.params import FromPath, JSONBody, QueryParameter
from msgspec import Meta

from api.routes._common import API_PREFIX, BEARER, App, Me, api_delete, api_get, api_post
from api.schemas import Body, Id
from application.notifications.announcement import AnnouncementKind
from application.notifications.ports import DeadLetter, SubscriptionRow
from application.notifications.subscriptions import SubscriptionSecret

SubscriptionId = FromPath[str]
# Absolute http(s) with a host (the domain checks it again: ``invalid-endpoint``).
# Printable ASCII (`[!-~]`), not `\S`: JavaScript's and Python's ideas of white
# space differ (U+0085, U+001C...), and a client generated from the document must
# not send what the server refuses. An endpoint with other characters is written
# percent-encoded.
Url = Annotated[
    str,
    Meta(
        min_length=8, max_length=2_000, pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"
    ),
]
# The announcement kinds, as a type: the OpenAPI document lists them.
Kind = AnnouncementKind
Kinds = Annotated[list[Kind], Meta(min_length=1, max_length=30)]
DeadLimit = Annotated[int, QueryParameter(ge=1, le=500)]


class SubscriptionBody(Body, frozen=True):
    """Where to POST announcements, and which kinds (``referral.received``, …)."""

    url: Url
    kinds: Kinds


class RotationBody(Body, frozen=True):
    """How many hours the previous secret still signs beside the new one (0 to 168)."""

    overlap_hours: Annotated[int, Meta(ge=0, le=168)] = 24


class ReplayBody(Body, frozen=True):
    """The dead letters to try again, by announcement id (all of them when absent)."""

    announcement_ids: Annotated[list[Id], Meta(max_length=500)] | None = None


class Replayed(msgspec.Struct, frozen=True):
    replayed: int


class NotificationsController(Controller):
    path = f"{API_PREFIX}/notifications"
    tags = ["notifications"]
    security = BEARER

    @api_get("/subscriptions", summary="My service's webhook subscriptions (coordinators)")
    def subscriptions(self, rete: App, actor: Me) -> list[SubscriptionRow]:
        return list(rete.notifications.subscriptions(actor))

    @api_post(
        "/subscriptions",
        summary="Subscribe an endpoint of my service to announcements (coordinators)",
        description="The answer holds the signing secret: it is shown this once.",
    )
    def subscribe(
        self, rete: App, actor: Me, data: JSONBody[SubscriptionBody]
    ) -> SubscriptionSecret:
        return rete.notifications.subscribe(actor, data.url, list(data.kinds))

    @api_post(
        "/subscriptions/{subscription_id:str}",
        status_code=200,
        summary="Change a subscription's endpoint and kinds (coordinators)",
    )
    def change(
        self,
        rete: App,
        actor: Me,
        subscription_id: SubscriptionId,
        data: JSONBody[SubscriptionBody],
    ) -> SubscriptionRow:
        return rete.notifications.change(actor, subscription_id, data.url, list(data.kinds))

    @api_post(
        "/subscriptions/{subscription_id:str}/rotate",
        status_code=200,
        summary="Rotate a subscription's secret; the old one signs too for the overlap",
        description="The answer holds the new signing secret: it is shown this once.",
    )
    def rotate(
        self,
        rete: App,
        actor: Me,
        subscription_id: SubscriptionId,
        data: JSONBody[RotationBody | None] = None,
    ) -> SubscriptionSecret:
        hours = 24 if data is None else data.overlap_hours
        return rete.notifications.rotate(actor, subscription_id, timedelta(hours=hours))

    @api_delete(
        "/subscriptions/{subscription_id:str}",
        status_code=200,
        summary="Remove a subscription (the answer: what it was)",
    )
    def unsubscribe(self, rete: App, actor: Me, subscription_id: SubscriptionId) -> SubscriptionRow:
        return rete.notifications.unsubscribe(actor, subscription_id)

    @api_get("/dead-letters", summary="Announcements my service's webhooks gave up on")
    def dead_letters(self, rete: App, actor: Me, limit: DeadLimit = 100) -> list[DeadLetter]:
        return list(rete.notifications.dead_letters(actor, limit))

    @api_post(
        "/dead-letters/replay",
        status_code=200,
        summary="Try dead letters again, in order (all, or those named)",
    )
    def replay(self, rete: App, actor: Me, data: JSONBody[ReplayBody | None] = None) -> Replayed:
        ids = None if data is None else data.announcement_ids
        return Replayed(rete.notifications.replay(actor, ids))
