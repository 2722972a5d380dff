"""The rules of an access record, without a database: who may be recorded reading,
and a disclosure only with a written reason."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain import errors
from domain.access import AccessKind, AccessRecord, ReasonTooLong
from domain.network import Actor, Service
from domain.vocabulary import Category, Role, ServiceKind

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CAV = Service("cav-scirocco", ServiceKind.CAV, "CAV")
OVERSIGHT = Service("garanzia-cesano", ServiceKind.OVERSIGHT, "Garanzia")
ANNA = Actor("anna", CAV, frozenset({Role.CASEWORKER}))
UGO = Actor("ugo", OVERSIGHT, frozenset({Role.AUDITOR}))
ROUTE = "GET /api/v1/cases/{case_ref}"


def test_a_read_names_reader_service_route_and_each_category_once() -> None:
    case_id = uuid4()
    seen = [Category.VIOLENCE, Category.IDENTITY, Category.VIOLENCE]
    record = AccessRecord.read(case_id, seen, ROUTE, ANNA, AT)
    assert (record.case_id, record.user_id, record.service_id) == (case_id, "anna", CAV.id)
    assert record.categories == [Category.IDENTITY, Category.VIOLENCE]
    assert (record.route, record.kind, record.reason, record.read_at) == (
        ROUTE,
        AccessKind.READ,
        None,
        AT,
    )
    assert AccessRecord.read(case_id, [], ROUTE, ANNA, AT).id != record.id  # one per read


def test_only_caseworkers_and_coordinators_read_only_auditors_disclose() -> None:
    with pytest.raises(errors.RoleNotAllowed):
        AccessRecord.read(uuid4(), [], ROUTE, UGO, AT)
    with pytest.raises(errors.RoleNotAllowed):
        AccessRecord.disclosure(uuid4(), [], ROUTE, "a reason", ANNA, AT)
    with pytest.raises(errors.EmptyText):
        AccessRecord.read(uuid4(), [], "  ", ANNA, AT)


def test_a_disclosure_needs_a_written_reason_of_bounded_length() -> None:
    for missing in ("", "   \n"):
        with pytest.raises(errors.EmptyText):
            AccessRecord.disclosure(uuid4(), [], ROUTE, missing, UGO, AT)
    with pytest.raises(ReasonTooLong):
        AccessRecord.disclosure(uuid4(), [], ROUTE, "x" * 4001, UGO, AT)
    record = AccessRecord.disclosure(uuid4(), [Category.RISK], ROUTE, " why \n", UGO, AT)
    assert (record.kind, record.reason, record.categories) == (
        AccessKind.DISCLOSURE,
        "why",
        [Category.RISK],
    )
