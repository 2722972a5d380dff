"""``/api/v1/referrals``: my service's boxes, one referral, and its moves.

Each move of a referral's lifecycle (``domain.referral.Move``) is a route
``POST /api/v1/referrals/{referral_id}/<move>``, built from ``MOVE_ROUTES``:
what its summary says and whether it takes a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from litestar import Controller, Request, Router
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Response
from msgspec import Meta

from api.known_query import only_declared_query
from api.routes._common import (
    API_PREFIX,
    BEARER,
    App,
    Cursor,
    Limit,
    Me,
    api_get,
    api_post,
    route_of,
    versioned,
)
from api.schemas import OptionalReasonBody, QueryFlag, QueryWords, ReasonBody
from application.views import ReferralPage, ReferralSummary, ReferralView
from domain.referral import Move

PATH = f"{API_PREFIX}/referrals"
TAGS = ["referrals"]

ReferralId = FromPath[str]
Word = Annotated[str, Meta(max_length=50)]


class Reason(Enum):
    """What a move's request body carries."""

    NONE = "none"  # no body
    REQUIRED = "required"  # ``ReasonBody``
    OPTIONAL = "optional"  # ``OptionalReasonBody``, or no body


@dataclass(frozen=True)
class MoveRoute:
    summary: str
    reason: Reason = Reason.NONE


MOVE_ROUTES: dict[Move, MoveRoute] = {
    Move.ACKNOWLEDGE: MoveRoute("Recipient: acknowledge receipt"),
    Move.ACCEPT: MoveRoute("Recipient: take it on"),
    Move.DECLINE: MoveRoute("Recipient: decline, with a reason", Reason.REQUIRED),
    Move.COMPLETE: MoveRoute("Recipient: the work is done"),
    Move.WITHDRAW: MoveRoute("Sender: withdraw before acceptance", Reason.OPTIONAL),
    Move.EXPIRE: MoveRoute("Coordinator: nobody answered in time"),
}
if set(MOVE_ROUTES) != set(Move):  # a new move needs its route, and its words
    raise RuntimeError(f"no route for {sorted(set(Move) - set(MOVE_ROUTES))}")


class ReferralsController(Controller):
    path = PATH
    tags = TAGS
    security = BEARER

    @api_get(
        "/",
        summary="My service's inbox or outbox, most urgent first, then the oldest",
        description=(
            "Summaries without reason or justification: open a referral to read them. "
            "Filters narrow the box, each left out lets everything through; a word "
            "repeated means any of them. `counterpart` is the other service (the sender "
            "in the inbox, the recipient in the outbox); `overdue` a deadline still owed "
            "and passed; `high_risk` the case's flag (an erased case has none: neither "
            "`true` nor `false` lists it). Pass `next_cursor` back, with the same "
            "filters, for the next page: referrals sent or moved meanwhile do not shift "
            "the pages. An unknown query parameter is refused (`unknown-parameter`)."
        ),
        guards=[only_declared_query],
    )
    def list_referrals(
        self,
        rete: App,
        actor: Me,
        box: FromQuery[Word] = "inbox",
        status: QueryWords = None,
        cursor: Cursor = None,
        limit: Limit = 50,
        high_risk: QueryFlag = None,
        overdue: QueryFlag = None,
        urgency: QueryWords = None,
        kind: QueryWords = None,
        counterpart: QueryWords = None,
    ) -> ReferralPage:
        return rete.referrals.list(
            actor,
            box,
            status,
            cursor,
            limit,
            high_risk=high_risk,
            overdue=overdue,
            urgency=urgency,
            kind=kind,
            counterpart=counterpart,
        )

    @api_get(
        "/{referral_id:str}",
        summary="One referral (sender or recipient)",
        description="Shows its reason: every read is recorded in its case's access log.",
    )
    def get_referral(
        self, request: Request[Any, Any, Any], rete: App, actor: Me, referral_id: ReferralId
    ) -> Response[ReferralView]:
        return versioned(rete.referrals.get(actor, referral_id, via=route_of(request)))


def move_route(move: Move, route: MoveRoute) -> HTTPRouteHandler:
    """The route of one move; its handler is named after the move (the OpenAPI
    operation id is made of it)."""

    def moved(
        rete: App, actor: Me, referral_id: str, reason: str | None
    ) -> Response[ReferralSummary]:
        return versioned(rete.referrals.move(actor, referral_id, move, reason))

    if route.reason is Reason.REQUIRED:

        def handler(
            rete: App, actor: Me, referral_id: ReferralId, data: JSONBody[ReasonBody]
        ) -> Response[ReferralSummary]:
            return moved(rete, actor, referral_id, data.reason)

    elif route.reason is Reason.OPTIONAL:

        def handler(  # type: ignore[misc]  # one signature per kind of body
            rete: App,
            actor: Me,
            referral_id: ReferralId,
            data: JSONBody[OptionalReasonBody | None] = None,
        ) -> Response[ReferralSummary]:
            return moved(rete, actor, referral_id, data.reason if data is not None else None)

    else:

        def handler(  # type: ignore[misc]
            rete: App, actor: Me, referral_id: ReferralId
        ) -> Response[ReferralSummary]:
            return moved(rete, actor, referral_id, None)

    handler.__name__ = handler.__qualname__ = move.value
    return api_post(f"/{{referral_id:str}}/{move.value}", status_code=200, summary=route.summary)(
        handler
    )


moves = Router(
    path=PATH,
    tags=TAGS,
    security=BEARER,
    route_handlers=[move_route(move, route) for move, route in MOVE_ROUTES.items()],
)
