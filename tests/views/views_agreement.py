"""The views read against the aggregates themselves: same facts, same visibility,
and each sealed part opening to the personal fields the aggregate holds."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import UUID

from views_support import working_services

from application.list_filters import CaseFilter
from application.rete import Rete
from application.view_ports import CaseRow, PageAsk, ReferralRow, SealedPart
from domain.access import AccessRecord
from domain.case import Case
from domain.erased import ERASED
from domain.referral import Referral
from domain.visibility import access_of
from infrastructure.views import Views


def every_case_of(views: Views, service: str) -> list[CaseRow]:
    found: list[CaseRow] = []
    after = None
    while True:
        page = views.queries.cases_of(service, datetime.now(UTC), CaseFilter(), PageAsk(after, 7))
        found.extend(page.items)
        if page.after is None:
            return found
        after = page.after


def opened(views: Views, part: SealedPart, field: str) -> object:
    fields = views.parts.open(part)
    return ERASED if fields is ERASED else fields[field]  # type: ignore[index]


def assert_referral_agrees(views: Views, row: ReferralRow, referral: Referral) -> None:
    assert (row.id, row.case_id, row.sender_service, row.recipient_service) == (
        referral.id,
        referral.case_id,
        referral.sender_service,
        referral.recipient_service,
    )
    assert (row.kind, row.urgency, row.scope, row.legal_basis, row.consent_id) == (
        referral.kind,
        referral.urgency,
        referral.scope,
        referral.legal_basis,
        referral.consent_id,
    )
    assert (row.status, row.sent_at, row.accepted_at, row.ended_at, row.version) == (
        referral.status,
        referral.sent_at,
        referral.accepted_at,
        referral.ended_at,
        referral.version,
    )
    assert (row.due(), row.escalations, row.flagged_for_review, row.statute) == (
        referral.due(),
        referral.escalations,
        referral.flagged_for_review,
        referral.statute,
    )
    assert opened(views, row.sealed, "reason") == referral.reason
    assert opened(views, row.sealed, "justification") == referral.justification


def assert_views_agree_with_the_store(rete: Rete, views: Views) -> None:
    store, directory = rete.ctx.store, rete.ctx.directory
    seen_by: dict[str, set[UUID]] = {s: set() for s in working_services(rete)}
    for case_id in store.ids_of(Case):
        case = store.get(Case, case_id)
        referrals = [store.get(Referral, UUID(r)) for r in case.referrals]
        rows = views.queries.case(case_id)
        assert rows is not None
        c = rows.case
        assert (c.reference_code, c.owner_service, c.status, c.high_risk, c.version) == (
            case.reference_code,
            case.owner_service,
            case.status,
            case.high_risk,
            case.version,
        )
        assert (c.legal_hold, c.opened_at) == (case.legal_hold is not None, case.created_on)
        assert [
            (e.id, e.category, e.author, e.service_id, e.recorded_at) for e in rows.entries
        ] == [(e.id, e.category, e.author, e.service_id, e.recorded_at) for e in case.entries]
        for row, entry in zip(rows.entries, case.entries, strict=True):
            assert opened(views, row.sealed, "text") == entry.text
        assert rows.consents == case.consents
        assert [(a.id, a.service_id, a.assessed_at) for a in rows.assessments] == [
            (a.id, a.service_id, a.assessed_at) for a in case.assessments
        ]
        for row, assessment in zip(rows.assessments, case.assessments, strict=True):
            assert opened(views, row.sealed, "level") == assessment.level
        for row, referral in zip(rows.referrals, referrals, strict=True):
            assert row.case_reference == case.reference_code
            assert views.queries.referral(referral.id) == row
            assert_referral_agrees(views, row, referral)
        # What the application will decide from the rows alone is what it decides
        # from the aggregates today (the rows carry the same names).
        facts = SimpleNamespace(owner_service=c.owner_service, consents=rows.consents)
        for service in seen_by:
            access = access_of(directory.service(service), case, referrals)
            from_rows = access_of(directory.service(service), facts, rows.referrals)  # type: ignore[arg-type]
            assert from_rows == access
            assert [e.id for e in rows.entries if from_rows.sees(e)] == [  # type: ignore[arg-type]
                e.id for e in case.entries if access.sees(e)
            ]
            if access.sees_case:
                seen_by[service].add(case_id)
    for service, expected in seen_by.items():
        assert {row.id for row in every_case_of(views, service)} == expected, service
    # Each case's access log: the ids of its access records, in the order written.
    logged: dict[UUID, list[UUID]] = {}
    for record_id in store.ids_of(AccessRecord):
        logged.setdefault(store.get(AccessRecord, record_id).case_id, []).append(record_id)
    for case_id in store.ids_of(Case):
        assert views.queries.access_records(case_id) == logged.get(case_id, [])
