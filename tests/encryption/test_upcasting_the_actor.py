"""Events stored when each named its actor its own way load with the actor as
``by_user``/``by_service``, on both backends.

Until version 2, every event named who acted differently (``opened_by``,
``author`` and ``service_id``, ``sent_by``, ``user_id``...), and some named only
half of it. The records here are written the old way through the real store:
each event's state as version 1 held it, sealed by the same mapper, with no
class version in the record. Read back by a fresh store and by the views, the
actor is where every event now keeps it; her words, sealed beside the renamed
fields, still open; and the aggregates say who did what as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from encryption_support import open_outer
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from support.rawdb import RawDatabase

from application.audit_events import audit_event
from application.rete import Rete
from domain.access import AccessRecord
from domain.case import Case, case_id_for
from domain.entries import CaseStatus
from domain.events import NOT_RECORDED, ActedEvent
from domain.referral import Referral
from infrastructure.bootstrap import build_store
from infrastructure.settings import Settings

REF = "CB-2025-0007"
AT = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
HER_WORDS = f"MARKER-old-note-{uuid4().hex}"

# Every event class whose actor was renamed at version 2.
RENAMED: tuple[type[Aggregate.Event], ...] = (
    Case.Opened,
    Case.NoteAdded,
    Case.ConsentRecorded,
    Case.ConsentWithdrawn,
    Case.RiskAssessed,
    Case.Referred,
    Case.LegalHoldPlaced,
    Case.LegalHoldLifted,
    Case.Closed,
    Case.ErasureRecorded,
    Referral.Sent,
    AccessRecord.Recorded,
)


@contextmanager
def at_version_1(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The event classes as version 1 wrote them: no class version in the record."""
    with monkeypatch.context() as patch:
        for cls in RENAMED:
            patch.setattr(cls, "class_version", 1)
        yield


class OldHistory:
    """Events in their version-1 shape, one stream after another."""

    def __init__(self) -> None:
        self.events: list[Aggregate.Event] = []
        self.versions: dict[UUID, int] = {}

    def add(self, cls: type[Aggregate.Event], stream: UUID, **state: Any) -> None:
        version = self.versions[stream] = self.versions.get(stream, 0) + 1
        event = object.__new__(cls)
        at = AT + timedelta(minutes=len(self.events))
        frame = {"originator_id": stream, "originator_version": version, "timestamp": at}
        object.__setattr__(event, "__dict__", {**frame, **state})
        self.events.append(event)


def old_history(case_id: UUID, referral_id: UUID, read_id: UUID) -> OldHistory:
    old = OldHistory()
    on_case = functools.partial(old.add, stream=case_id)
    on_case(
        Case.Opened,
        originator_topic=get_topic(Case),
        reference_code=REF,
        owner_service="cav-scirocco",
        opened_by="anna",
    )
    on_case(
        Case.NoteAdded,
        entry_id="e1",
        category="violence",
        text=HER_WORDS,
        author="bea",
        service_id="ss-cesano",
    )
    on_case(
        Case.ConsentRecorded,
        consent_id="c1",
        recipient_kinds=["police"],
        recipient_services=[],
        purposes=["protection_measures"],
        categories=["violence"],
        expires_at=None,
        recorded_by="anna",
    )
    on_case(
        Case.RiskAssessed,
        assessment_id="a1",
        instrument_id="isa",
        answers={"escalation": True},
        score=3,
        computed_level="medium",
        level="high",
        justification="raised by judgement",
        high_risk=True,
        assessed_by="anna",
        service_id="cav-scirocco",
    )
    old.add(
        Referral.Sent,
        referral_id,
        originator_topic=get_topic(Referral),
        case_id=case_id,
        sender_service="cav-scirocco",
        recipient_service="pl-cesano",
        kind="protection_measures",
        urgency="urgent",
        reason="she asked for protection",
        scope=["violence"],
        legal_basis="consent",
        consent_id="c1",
        statute=None,
        justification=None,
        flagged_for_review=False,
        acknowledge_by=AT + timedelta(hours=24),
        answer_by=AT + timedelta(hours=72),
        sent_by="anna",
    )
    on_case(
        Case.Referred,
        referral_id=str(referral_id),
        sender_service="cav-scirocco",
        recipient_service="pl-cesano",
        consent_id="c1",
    )
    # Moved always named its actor as it still does: it is stored at version 1 as is.
    old.add(
        Referral.Moved,
        referral_id,
        case_id=case_id,
        move="acknowledge",
        to_status="acknowledged",
        by_user="paolo",
        by_service="pl-cesano",
        reason=None,
    )
    old.add(
        AccessRecord.Recorded,
        read_id,
        originator_topic=get_topic(AccessRecord),
        case_id=case_id,
        user_id="paolo",
        service_id="pl-cesano",
        categories=["violence"],
        route="/cases/{ref}",
        kind="read",
        reason=None,
    )
    on_case(Case.LegalHoldPlaced, reason="proceedings under way", placed_by="chiara")
    on_case(Case.LegalHoldLifted, lifted_by="chiara")
    on_case(Case.ConsentWithdrawn, consent_id="c1", withdrawn_by="anna")
    on_case(Case.Closed, closed_by="anna")
    on_case(Case.ErasureRecorded, reason="her request", erased_by="chiara")
    return old


# Who acted in each event, as version 2 reads it: the part version 1 did not record
# (the service of what only the owner may do, the user who sent on the case's note).
ACTORS = [
    ("Case.Opened", "anna", "cav-scirocco"),
    ("Case.NoteAdded", "bea", "ss-cesano"),
    ("Case.ConsentRecorded", "anna", NOT_RECORDED),
    ("Case.RiskAssessed", "anna", "cav-scirocco"),
    ("Case.Referred", NOT_RECORDED, "cav-scirocco"),
    ("Case.LegalHoldPlaced", "chiara", NOT_RECORDED),
    ("Case.LegalHoldLifted", "chiara", NOT_RECORDED),
    ("Case.ConsentWithdrawn", "anna", NOT_RECORDED),
    ("Case.Closed", "anna", NOT_RECORDED),
    ("Case.ErasureRecorded", "chiara", NOT_RECORDED),
]
OLD_NAMES = {
    "opened_by",
    "author",
    "service_id",
    "user_id",
    "recorded_by",
    "withdrawn_by",
    "assessed_by",
    "placed_by",
    "lifted_by",
    "closed_by",
    "erased_by",
    "sent_by",
}


def actor(event: Aggregate.Event) -> tuple[str, str, str]:
    assert isinstance(event, ActedEvent)
    return type(event).__qualname__, event.by_user, event.by_service


def test_events_stored_with_the_old_names_of_their_actor_load_with_it_in_the_new_place(
    monkeypatch: pytest.MonkeyPatch,
    settings_for: Callable[..., Settings],
    make_rete: Callable[..., Rete],
    raw: RawDatabase,
) -> None:
    case_id, referral_id, read_id = case_id_for(REF), uuid4(), uuid4()
    old = old_history(case_id, referral_id, read_id)
    writer = build_store(settings_for())
    try:
        with at_version_1(monkeypatch):
            writer.events.put(old.events)
        # Stored the old way: the old names, no class version, her words sealed apart.
        keys = writer.keys
        records = {row.topic.split(":")[1]: open_outer(keys, row)[2] for row in raw.rows()}
    finally:
        writer.close()
    opened_state = records["Case.Opened"][1]
    assert opened_state["opened_by"] == "anna"
    assert not {"class_version", "by_user", "by_service"} & opened_state.keys()
    assert "text" not in records["Case.NoteAdded"][1] and records["Case.NoteAdded"][2]

    store = build_store(settings_for())
    try:
        history = store.history_of(case_id)
        assert [actor(e) for e in history] == ACTORS
        for event in history:
            assert not OLD_NAMES & vars(event).keys(), type(event).__qualname__
        (sent, moved) = store.history_of(referral_id)
        assert [actor(sent), actor(moved)] == [
            ("Referral.Sent", "anna", "cav-scirocco"),
            ("Referral.Moved", "paolo", "pl-cesano"),
        ]
        assert isinstance(sent, Referral.Sent) and sent.sender_service == "cav-scirocco"
        (read,) = store.history_of(read_id)
        assert actor(read) == ("AccessRecord.Recorded", "paolo", "pl-cesano")

        # The aggregates keep their own words for who did what.
        case = store.get(Case, case_id)
        assert (case.opened_by, case.owner_service, case.status) == (
            "anna",
            "cav-scirocco",
            CaseStatus.ERASED,
        )
        (entry,) = case.entries
        assert (entry.text, entry.author, entry.service_id) == (HER_WORDS, "bea", "ss-cesano")
        consent = case.consents["c1"]
        assert (consent.recorded_by, consent.withdrawn_at is not None) == ("anna", True)
        (assessment,) = case.assessments
        assert (assessment.assessed_by, assessment.service_id) == ("anna", "cav-scirocco")
        assert case.erasure is not None and case.erasure.erased_by == "chiara"
        assert store.get(Referral, referral_id).sent_by == "anna"
        record = store.get(AccessRecord, read_id)
        assert (record.user_id, record.service_id) == ("paolo", "pl-cesano")

        # The audit names who acted; what was never recorded reads as nobody.
        audited = [audit_event(e) for e in history]
        assert [(a.type, a.user_id or "", a.service_id or "") for a in audited] == ACTORS
        assert all(not {"by_user", "by_service"} & a.fields.keys() for a in audited)
    finally:
        store.close()

    # The views, built from the same old records, place the same people.
    rete = make_rete()
    rete.ctx.views.catch_up()
    rows = rete.ctx.views.case(case_id)
    assert rows is not None
    assert [(e.author, e.service_id) for e in rows.entries] == [("bea", "ss-cesano")]
    assert rete.ctx.parts.open(rows.entries[0].sealed) == {"text": HER_WORDS}
    assert [(a.assessed_by, a.service_id) for a in rows.assessments] == [("anna", "cav-scirocco")]
    consent_row = rows.consents["c1"]
    assert (consent_row.recorded_by, consent_row.withdrawn_at is not None) == ("anna", True)
    assert [r.sent_by for r in rows.referrals] == ["anna"]
