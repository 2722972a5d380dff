"""``/api/v1/cases``: open, read and work a case."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Response
from msgspec import Meta

from api.problems import API_PROBLEMS
from api.routes._common import API_PREFIX, BEARER, route_of, versioned
from api.schemas import (
    ConsentBody,
    NoteBody,
    OpenCaseBody,
    ReasonBody,
    ReferralBody,
    RiskBody,
)
from application.rete import Rete
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
from domain.network import Actor

# A case is named by its id or its reference code (CB-2026-0042).
CaseRef = FromPath[str]
ConsentId = FromPath[str]
Cursor = FromQuery[Annotated[str, Meta(max_length=200)] | None]
Limit = FromQuery[int]


class CasesController(Controller):
    path = f"{API_PREFIX}/cases"
    tags = ["cases"]
    security = BEARER

    @post("/", sync_to_thread=True, responses=API_PROBLEMS, summary="Open a case for my service")
    def open_case(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        data: JSONBody[OpenCaseBody | None] = None,
    ) -> Response[CaseView]:
        return versioned(rete.cases.open(actor), 201)

    @get(
        "/",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="Cases my service may see, newest first",
    )
    def list_cases(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> CasePage:
        return rete.cases.list(actor, cursor, limit)

    @get(
        "/{case_ref:str}",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="A case as my service may see it",
        description="Every read is recorded in the case's access log.",
    )
    def get_case(
        self,
        request: Request[Any, Any, Any],
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
    ) -> Response[CaseView]:
        return versioned(rete.cases.get(actor, case_ref, via=route_of(request)))

    @get(
        "/{case_ref:str}/access-log",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="Who read the case's personal data, newest first (owner service, auditors)",
    )
    def access_log(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> AccessLogPage:
        return rete.access_log.entries(actor, case_ref, cursor, limit)

    @post(
        "/{case_ref:str}/notes",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="Add a note in one category",
    )
    def add_note(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        data: JSONBody[NoteBody],
    ) -> EntryView:
        return rete.cases.add_note(actor, case_ref, data.category, data.text)

    @post(
        "/{case_ref:str}/consents",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="Record her consent",
    )
    def record_consent(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        data: JSONBody[ConsentBody],
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

    @post(
        "/{case_ref:str}/consents/{consent_id:str}/withdrawal",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Withdraw a consent; referrals relying on it are suspended",
    )
    def withdraw_consent(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        consent_id: ConsentId,
    ) -> ConsentView:
        return rete.cases.withdraw_consent(actor, case_ref, consent_id)

    @post(
        "/{case_ref:str}/risk-assessments",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="Assess risk",
    )
    def assess_risk(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        data: JSONBody[RiskBody],
    ) -> RiskAssessmentView:
        return rete.cases.assess_risk(
            actor, case_ref, data.instrument_id, data.answers, data.judgement, data.justification
        )

    @post(
        "/{case_ref:str}/referrals",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="Refer the case to a service",
    )
    def refer(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        data: JSONBody[ReferralBody],
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

    @post(
        "/{case_ref:str}/legal-hold",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Place a legal hold (coordinator of the owner)",
    )
    def place_legal_hold(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        data: JSONBody[ReasonBody],
    ) -> Response[CaseSummary]:
        return versioned(rete.cases.place_legal_hold(actor, case_ref, data.reason))

    @delete(
        "/{case_ref:str}/legal-hold",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Lift the legal hold (coordinator of the owner)",
    )
    def lift_legal_hold(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor], case_ref: CaseRef
    ) -> Response[CaseSummary]:
        return versioned(rete.cases.lift_legal_hold(actor, case_ref))

    @post(
        "/{case_ref:str}/erasure",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Erase the case: destroy its key (coordinator of the owner; not under legal hold)",
        description=(
            "Crypto-shredding: every personal field of the case and of its referrals reads "
            "as erased from now on, everywhere; the non-personal history stays. Repeating "
            "the call on an erased case completes an interrupted erasure."
        ),
    )
    def erase_case(
        self,
        rete: NamedDependency[Rete],
        actor: NamedDependency[Actor],
        case_ref: CaseRef,
        data: JSONBody[ReasonBody],
    ) -> Response[CaseView]:
        return versioned(rete.cases.erase(actor, case_ref, data.reason))

    @post(
        "/{case_ref:str}/closure",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        status_code=200,
        summary="Close the case",
    )
    def close_case(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor], case_ref: CaseRef
    ) -> Response[CaseSummary]:
        return versioned(rete.cases.close(actor, case_ref))
