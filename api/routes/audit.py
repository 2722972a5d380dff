"""``/api/v1/audit``: auditors replay the non-personal history, ask for disclosures, and
see how far each erasure got."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.routes._common import API_PREFIX, BEARER, App, Me, api_get, api_post, route_of
from api.schemas import ReasonBody
from application.audit import AuditEventsPage, CaseHistory
from application.erasures import ErasuresPage
from application.views import CaseView

CaseRef = FromPath[str]
# Past this no log position exists, and the database's 64-bit integers overflow
# near it: 2**53 - 1 is also the largest integer every JSON client reads exactly.
MAX_POSITION = 2**53 - 1
Position = Annotated[int, QueryParameter(le=MAX_POSITION)]


class AuditController(Controller):
    path = f"{API_PREFIX}/audit"
    tags = ["audit"]
    security = BEARER

    @api_get(
        "/events",
        summary="Auditors: the non-personal history of the whole log, in log order",
        description=(
            "Events after the position `after`, at most `limit` (1 to 500). Personal "
            'fields read as "sealed". Pass `next_after` back for the next page; it is '
            "null when the page reached the head of the log."
        ),
    )
    def events(
        self, rete: App, actor: Me, after: Position = 0, limit: FromQuery[int] = 100
    ) -> AuditEventsPage:
        return rete.audit.events(actor, after, limit)

    @api_get(
        "/cases/{case_ref:str}/history",
        summary="Auditors: one case replayed to a moment (non-personal)",
        description=(
            "Every event of the case, of its referrals and of its access log up to "
            "`as_of` (RFC 3339 with a time zone; now if absent), in time order, and "
            "the case's state at that moment."
        ),
    )
    def history(
        self, rete: App, actor: Me, case_ref: CaseRef, as_of: FromQuery[datetime | None] = None
    ) -> CaseHistory:
        return rete.audit.history(actor, case_ref, as_of)

    @api_post(
        "/cases/{case_ref:str}/disclosure",
        status_code=200,
        summary="Auditors: the personal data of one case, for a written reason (logged)",
        description=(
            "Answers the case as its owner service sees it. The disclosure, with its "
            "reason and the categories disclosed, is recorded in the case's access log "
            "first, where the owner service and auditors see it."
        ),
    )
    def disclosure(
        self,
        request: Request[Any, Any, Any],
        rete: App,
        actor: Me,
        case_ref: CaseRef,
        data: JSONBody[ReasonBody],
    ) -> CaseView:
        return rete.audit.disclose(actor, case_ref, data.reason, via=route_of(request))

    @api_get(
        "/erasures",
        summary="Auditors: every erasure, pending or complete, with its times",
        description=(
            "An erasure is recorded at once and is `pending` until no copy of the "
            "destroyed case key can be opened: `waiting_for` names what it waits for "
            "(`log`: SQLite's write-ahead log, held by a reader, is folded again until "
            "it works; `kek`: a KEK version that wrapped the key is still held, until "
            "`rete keys retire` or its schedule retires it). Case ids and times only."
        ),
    )
    def erasures(self, rete: App, actor: Me) -> ErasuresPage:
        return rete.erasures.list(actor)
