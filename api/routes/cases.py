"""``/api/v1/cases``: open, read and work a case."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request
from litestar.params import FromPath, JSONBody
from litestar.response import Response

from api.known_query import only_declared_query
from api.routes._common import (
    API_PREFIX,
    BEARER,
    App,
    Cursor,
    Limit,
    Me,
    api_delete,
    api_get,
    api_post,
    route_of,
    versioned,
)
from api.schemas import (
    ConsentBody,
    NoteBody,
    OpenCaseBody,
    QueryFlag,
    QueryWords,
    ReasonBody,
    ReferralBody,
    RiskBody,
)
from application.views import (
    AccessLogPage,
    CasePage,
    CaseSummary,
    CaseView,
    ConsentView,
    EntryView,
    ReferralView,
    RiskAssessmentView,
)

# A case is named by its id or its reference code (CB-2026-7KQ-4MW, or an old
# numbered CB-2026-0042); a garbled code answers 404 invalid-reference.
CaseRef = FromPath[str]
ConsentId = FromPath[str]


class CasesController(Controller):
    path = f"{API_PREFIX}/cases"
    tags = ["cases"]
    security = BEARER

    @api_post("/", summary="Open a case for my service")
    def open_case(
        self, rete: App, actor: Me, data: JSONBody[OpenCaseBody | None] = None
    ) -> Response[CaseView]:
        return versioned(rete.cases.open(actor), 201)

    @api_get(
        "/",
        summary="Cases my service may see, newest first",
        description=(
            "Filters narrow the list, each left out lets everything through; a word "
            "repeated means any of them. `urgency`, `kind`, `counterpart` and `overdue` "
            "ask for a referral of my service's on the case (sent or received) of that "
            "urgency and kind, with that other service, past its deadline "
            "(`overdue=false`: none of them is). An erased case has no `high_risk`: "
            "neither `true` nor `false` lists it. Pass `next_cursor` back, with the same "
            "filters, for the next page: cases opened meanwhile do not shift the pages. "
            "An unknown query parameter is refused (`unknown-parameter`)."
        ),
        guards=[only_declared_query],
    )
    def list_cases(
        self,
        rete: App,
        actor: Me,
        cursor: Cursor = None,
        limit: Limit = 50,
        status: QueryWords = None,
        high_risk: QueryFlag = None,
        overdue: QueryFlag = None,
        urgency: QueryWords = None,
        kind: QueryWords = None,
        counterpart: QueryWords = None,
    ) -> CasePage:
        return rete.cases.list(
            actor,
            cursor,
            limit,
            status=status,
            high_risk=high_risk,
            overdue=overdue,
            urgency=urgency,
            kind=kind,
            counterpart=counterpart,
        )

    @api_get(
        "/{case_ref:str}",
        summary="A case as my service may see it",
        description="Every read is recorded in the case's access log.",
    )
    def get_case(
        self, request: Request[Any, Any, Any], rete: App, actor: Me, case_ref: CaseRef
    ) -> Response[CaseView]:
        return versioned(rete.cases.get(actor, case_ref, via=route_of(request)))

    @api_get(
        "/{case_ref:str}/access-log",
        summary="Who read the case's personal data, newest first (owner service, auditors)",
        guards=[only_declared_query],
    )
    def access_log(
        self, rete: App, actor: Me, case_ref: CaseRef, cursor: Cursor = None, limit: Limit = 50
    ) -> AccessLogPage:
        return rete.access_log.entries(actor, case_ref, cursor, limit)

    @api_post("/{case_ref:str}/notes", summary="Add a note in one category")
    def add_note(
        self, rete: App, actor: Me, case_ref: CaseRef, data: JSONBody[NoteBody]
    ) -> EntryView:
        return rete.cases.add_note(actor, case_ref, data.category, data.text)

    @api_post("/{case_ref:str}/consents", summary="Record her consent")
    def record_consent(
        self, rete: App, actor: Me, case_ref: CaseRef, data: JSONBody[ConsentBody]
    ) -> ConsentView:
        return rete.cases.record_consent(
            actor,
            case_ref,
            recipient_kinds=data.recipient_kinds,
            recipient_services=data.recipient_services,
            purposes=data.purposes,
            categories_=data.categories,
            expires_at=data.expires_at,
        )

    @api_post(
        "/{case_ref:str}/consents/{consent_id:str}/withdrawal",
        status_code=200,
        summary="Withdraw a consent; referrals relying on it are suspended",
    )
    def withdraw_consent(
        self, rete: App, actor: Me, case_ref: CaseRef, consent_id: ConsentId
    ) -> ConsentView:
        return rete.cases.withdraw_consent(actor, case_ref, consent_id)

    @api_post("/{case_ref:str}/risk-assessments", summary="Assess risk")
    def assess_risk(
        self, rete: App, actor: Me, case_ref: CaseRef, data: JSONBody[RiskBody]
    ) -> RiskAssessmentView:
        return rete.cases.assess_risk(
            actor, case_ref, data.instrument_id, data.answers, data.judgement, data.justification
        )

    @api_post("/{case_ref:str}/referrals", summary="Refer the case to a service")
    def refer(
        self, rete: App, actor: Me, case_ref: CaseRef, data: JSONBody[ReferralBody]
    ) -> Response[ReferralView]:
        view = rete.referrals.refer(
            actor,
            case_ref,
            recipient_service=data.recipient_service,
            kind=data.kind,
            urgency=data.urgency,
            reason=data.reason,
            scope=data.scope,
            legal_basis=data.legal_basis,
            consent_id=data.consent_id,
            statute=data.statute,
            justification=data.justification,
        )
        return versioned(view, 201)

    @api_post(
        "/{case_ref:str}/legal-hold",
        status_code=200,
        summary="Place a legal hold (coordinator of the owner)",
    )
    def place_legal_hold(
        self, rete: App, actor: Me, case_ref: CaseRef, data: JSONBody[ReasonBody]
    ) -> Response[CaseSummary]:
        return versioned(rete.cases.place_legal_hold(actor, case_ref, data.reason))

    @api_delete(
        "/{case_ref:str}/legal-hold",
        status_code=200,
        summary="Lift the legal hold (coordinator of the owner)",
    )
    def lift_legal_hold(self, rete: App, actor: Me, case_ref: CaseRef) -> Response[CaseSummary]:
        return versioned(rete.cases.lift_legal_hold(actor, case_ref))

    @api_post(
        "/{case_ref:str}/erasure",
        status_code=200,
        summary="Erase the case: destroy its key (coordinator of the owner; not under legal hold)",
        description=(
            "Crypto-shredding: every personal field of the case and of its referrals reads "
            "as erased from now on, everywhere; the non-personal history stays. Repeating "
            "the call on an erased case completes an interrupted erasure."
        ),
    )
    def erase_case(
        self, rete: App, actor: Me, case_ref: CaseRef, data: JSONBody[ReasonBody]
    ) -> Response[CaseView]:
        return versioned(rete.cases.erase(actor, case_ref, data.reason))

    @api_post("/{case_ref:str}/closure", status_code=200, summary="Close the case")
    def close_case(self, rete: App, actor: Me, case_ref: CaseRef) -> Response[CaseSummary]:
        return versioned(rete.cases.close(actor, case_ref))
