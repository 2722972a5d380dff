"""``/api/v1/referrals``: my service's boxes, one referral, and its moves."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Response
from msgspec import Meta

from api.problems import API_PROBLEMS
from api.routes._common import API_PREFIX, BEARER, route_of, versioned
from api.schemas import OptionalReasonBody, ReasonBody
from application.rete import Rete
from application.views import ReferralPage, ReferralSummary, ReferralView
from domain.network import Actor
from domain.referral import Move

ReferralId = FromPath[str]
Word = Annotated[str, Meta(max_length=50)]
Cursor = FromQuery[Annotated[str, Meta(max_length=200)] | None]
Limit = FromQuery[int]


class ReferralsController(Controller):
    path = f"{API_PREFIX}/referrals"
    tags = ["referrals"]
    security = BEARER

    @get(
        "/",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="My service's inbox or outbox, most urgent first",
        description="Summaries without reason or justification: open a referral to read them.",
    )
    def list_referrals(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        box: FromQuery[Word] = "inbox",
        status: FromQuery[Annotated[list[Word], Meta(max_length=10)] | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> ReferralPage:
        return rete.referrals.list(actor, box, status, cursor, limit)

    @get(
        "/{referral_id:str}",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="One referral (sender or recipient)",
        description="Shows its reason: every read is recorded in its case's access log.",
    )
    def get_referral(
        self,
        request: Request[Any, Any, Any],
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        referral_id: ReferralId,
    ) -> Response[ReferralView]:
        return versioned(rete.referrals.get(actor, referral_id, via=route_of(request)))

    @post(
        "/{referral_id:str}/acknowledge",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Recipient: acknowledge receipt",
    )
    def acknowledge(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor], referral_id: ReferralId
    ) -> Response[ReferralSummary]:
        return versioned(rete.referrals.move(actor, referral_id, Move.ACKNOWLEDGE))

    @post(
        "/{referral_id:str}/accept",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Recipient: take it on",
    )
    def accept(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor], referral_id: ReferralId
    ) -> Response[ReferralSummary]:
        return versioned(rete.referrals.move(actor, referral_id, Move.ACCEPT))

    @post(
        "/{referral_id:str}/decline",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Recipient: decline, with a reason",
    )
    def decline(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        referral_id: ReferralId,
        data: JSONBody[ReasonBody],
    ) -> Response[ReferralSummary]:
        return versioned(rete.referrals.move(actor, referral_id, Move.DECLINE, data.reason))

    @post(
        "/{referral_id:str}/complete",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Recipient: the work is done",
    )
    def complete(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor], referral_id: ReferralId
    ) -> Response[ReferralSummary]:
        return versioned(rete.referrals.move(actor, referral_id, Move.COMPLETE))

    @post(
        "/{referral_id:str}/withdraw",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Sender: withdraw before acceptance",
    )
    def withdraw(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        referral_id: ReferralId,
        data: JSONBody[OptionalReasonBody | None] = None,
    ) -> Response[ReferralSummary]:
        reason = data.reason if data is not None else None
        return versioned(rete.referrals.move(actor, referral_id, Move.WITHDRAW, reason))

    @post(
        "/{referral_id:str}/expire",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Coordinator: nobody answered in time",
    )
    def expire(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor], referral_id: ReferralId
    ) -> Response[ReferralSummary]:
        return versioned(rete.referrals.move(actor, referral_id, Move.EXPIRE))
