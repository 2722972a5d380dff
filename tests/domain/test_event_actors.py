"""Every event of the network's aggregates says, by its class, which aggregate it
belongs to and whether someone on the staff acted; when someone did, who is
``by_user`` for ``by_service``, whatever the event."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, CanMutateAggregate

from domain.access import AccessRecord
from domain.case import Case
from domain.events import ActedEvent, NetworkEvent, SystemEvent
from domain.publication import Publications
from domain.reference import ReferenceSequence
from domain.referral import Move, Referral
from domain.risk import RiskInstrument, RiskItem
from domain.vocabulary import Category

AGGREGATES: dict[type[Aggregate], str] = {
    Case: "case",
    Referral: "referral",
    AccessRecord: "access_record",
    ReferenceSequence: "reference_sequence",
    Publications: "publications",
}

INSTRUMENT = RiskInstrument(
    id="one-question",
    name="One question",
    items=(RiskItem("weapon", "He has threatened her with a weapon", 3),),
    medium_from=1,
    high_from=3,
)


def events_of(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The events an aggregate triggers: the classes defined on it, but the bases
    ``Event`` and ``Created`` (the library's own, never triggered)."""
    return [
        value
        for name, value in vars(aggregate).items()
        if name not in {"Event", "Created"}
        and isinstance(value, type)
        and issubclass(value, CanMutateAggregate)
    ]


def test_every_event_says_its_aggregate_and_whether_someone_acted() -> None:
    for aggregate, kind in AGGREGATES.items():
        classes = events_of(aggregate)
        assert classes, aggregate
        for cls in classes:
            assert issubclass(cls, NetworkEvent) and cls.aggregate == kind, cls
            assert issubclass(cls, ActedEvent) != issubclass(cls, SystemEvent), cls


def test_what_the_network_does_itself_names_no_one() -> None:
    system = {
        cls.__qualname__
        for aggregate in AGGREGATES
        for cls in events_of(aggregate)
        if issubclass(cls, SystemEvent)
    }
    assert system == {
        "Referral.Suspended",
        "Referral.Escalated",
        "ReferenceSequence.Started",
        "ReferenceSequence.Issued",
        "Publications.Started",
    }


def test_every_command_records_who_acted_as_by_user_and_by_service(desk) -> None:
    anna, bea = desk.caseworker("cav-scirocco", "anna"), desk.caseworker("ss-cesano", "bea")
    chiara = desk.coordinator("cav-scirocco", "chiara")
    paolo = desk.caseworker("pl-cesano", "paolo")
    case = Case.open("CB-2026-0001", anna, desk.tick())
    case.add_note(Category.VIOLENCE, "what happened", bea, desk.tick())
    consent = desk.consent(case, kinds=("police",), purposes=("protection_measures",), by=anna)
    case.assess_risk(INSTRUMENT, {"weapon": True}, None, None, anna, desk.tick())
    referral = desk.refer(
        case, "pl-cesano", kind="protection_measures", scope=("violence",), by=anna
    )
    referral.move(Move.ACKNOWLEDGE, paolo, desk.tick())
    read = AccessRecord.read(case.id, [Category.VIOLENCE], "/cases/{ref}", paolo, desk.tick())
    case.place_legal_hold("proceedings", chiara, desk.tick())
    case.lift_legal_hold(chiara, desk.tick())
    case.withdraw_consent(consent.id, anna, desk.tick())
    case.close(anna, desk.tick())
    case.erase("her request", chiara, desk.tick())

    acted = [
        (type(e).__qualname__, e.by_user, e.by_service)
        for e in [*case.collect_events(), *referral.collect_events(), *read.collect_events()]
        if isinstance(e, ActedEvent)
    ]
    assert acted == [
        ("Case.Opened", "anna", "cav-scirocco"),
        ("Case.NoteAdded", "bea", "ss-cesano"),
        ("Case.ConsentRecorded", "anna", "cav-scirocco"),
        ("Case.RiskAssessed", "anna", "cav-scirocco"),
        ("Case.Referred", "anna", "cav-scirocco"),
        ("Case.LegalHoldPlaced", "chiara", "cav-scirocco"),
        ("Case.LegalHoldLifted", "chiara", "cav-scirocco"),
        ("Case.ConsentWithdrawn", "anna", "cav-scirocco"),
        ("Case.Closed", "anna", "cav-scirocco"),
        ("Case.ErasureRecorded", "chiara", "cav-scirocco"),
        ("Referral.Sent", "anna", "cav-scirocco"),
        ("Referral.Moved", "paolo", "pl-cesano"),
        ("AccessRecord.Recorded", "paolo", "pl-cesano"),
    ]
    # What the aggregates keep of it reads as before.
    assert (case.opened_by, referral.sent_by, case.entries[0].author) == ("anna", "anna", "bea")
    assert (read.user_id, read.service_id) == ("paolo", "pl-cesano")


def test_every_acted_event_past_version_1_says_where_version_1_named_its_actor() -> None:
    # Its stored version-1 records are upcast by the one rule of ``ActedEvent``.
    later = [
        cls
        for aggregate in (Case, Referral, AccessRecord)
        for cls in events_of(aggregate)
        if issubclass(cls, ActedEvent) and getattr(cls, "class_version", 1) >= 2
    ]
    assert later, "no acted event has a version 2"
    assert [c.__qualname__ for c in later if c.V1_ACTOR is None] == []
