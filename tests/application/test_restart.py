"""After a restart the network finds every case as it left it, snapshots or not."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from support.stories import record_consent

from domain.case import Case
from domain.reference import canonical_reference
from domain.referral import Move, Referral
from infrastructure.settings import SettingsError

EVERY_ITEM = {
    "escalation": True,
    "strangulation": True,
    "weapon": False,
    "death_threats": True,
    "separation": True,
    "stalking": True,
    "pregnancy": False,
    "children_threatened": False,
    "substance_abuse": False,
    "protection_order_breach": False,
    "her_fear": True,
}
NOTES = [
    ("identity", "Maria, born 1988, mobile phone only"),
    ("safety", "call only on Tuesdays, from the pharmacy"),
    ("violence", "he pushed her down the stairs"),
    ("violence", "he threatens to take the children"),
    ("health", "broken wrist, treated at the emergency room"),
    ("children", "two children, 6 and 9, at IC Leonardo"),
    ("legal", "complaint filed with the Carabinieri"),
    ("employment", "lost her job at the bakery"),
    ("violence", "he waited outside the school"),
]


def notifications(rete) -> list[tuple[int, str, int, str]]:
    return [
        (n.id, str(n.originator_id), n.originator_version, n.topic)
        for n in rete.ctx.store.recorder.select_notifications(start=1, limit=1000)
    ]


def replayed(store, aggregate_id: UUID, upto: int | None = None):
    """The aggregate rebuilt from its stored events alone, no snapshot."""
    aggregate = None
    for event in store.events.get(aggregate_id, lte=upto):
        aggregate = event.mutate(aggregate)
    return aggregate


def a_long_story(rete, people, clock, send) -> tuple[str, str]:
    anna, bea = people.anna, people.bea
    ref = rete.cases.open(anna).reference_code
    for category, text in NOTES:
        clock.advance(minutes=10)
        rete.cases.add_note(anna, ref, category, text)
    rete.cases.assess_risk(anna, ref, "rete-screening-v1", EVERY_ITEM, None, None)
    record_consent(
        rete,
        anna,
        ref,
        purposes=["shelter"],
        categories=["identity", "safety", "violence", "children"],
    )
    referral = send(
        rete, anna, ref, kind="shelter", urgency="urgent", scope=["identity", "safety", "violence"]
    )
    for move in (Move.ACKNOWLEDGE, Move.ACCEPT):
        clock.advance(hours=1)
        rete.referrals.move(bea, referral.id, move)
    rete.cases.add_note(bea, ref, "safety", "a place at the shelter from tonight")
    return ref, referral.id


@pytest.mark.parametrize("interval", ["2", "50"], ids=["snapshot-every-2", "snapshot-every-50"])
def test_a_restarted_application_finds_every_case_as_it_was(
    make_rete, people, clock, send, interval: str
) -> None:
    first = make_rete(RETE_SNAPSHOT_INTERVAL=interval)
    ref, referral_id = a_long_story(first, people, clock, send)
    as_owner = first.cases.get(people.anna, ref)
    as_recipient = first.cases.get(people.bea, ref)
    referral = first.referrals.get(people.bea, referral_id)
    history = notifications(first)
    first.close()

    second = make_rete(RETE_SNAPSHOT_INTERVAL=interval)
    assert notifications(second) == history
    assert second.cases.get(people.anna, ref) == as_owner
    assert second.cases.get(people.bea, ref) == as_recipient
    assert second.referrals.get(people.bea, referral_id) == referral
    assert as_owner.version == 1 + len(NOTES) + 1 + 1 + 1 + 1
    assert [r.id for r in second.referrals.list(people.bea, "inbox").items] == [referral_id]
    assert [c.reference_code for c in second.cases.list(people.anna).items] == [ref]

    # Loaded with snapshots, loaded from events alone, and as it was half-way: all agree.
    store = second.ctx.store
    case_id = UUID(as_owner.id)
    assert store.get(Case, case_id) == replayed(store, case_id)
    assert store.get(Case, case_id, version=5) == replayed(store, case_id, upto=5)
    assert store.get(Referral, UUID(referral_id)) == replayed(store, UUID(referral_id))
    snapshots = list(store.snapshots.get(case_id))
    if interval == "2":
        assert [s.originator_version for s in snapshots] == list(range(2, as_owner.version + 1, 2))
    else:
        assert snapshots == []

    # And it carries on where the first one stopped.
    another = second.cases.open(people.anna).reference_code
    assert another != ref and canonical_reference(another) == another
    rete_note = second.cases.add_note(people.anna, ref, "identity", "she changed her number")
    assert second.cases.get(people.anna, ref).version == as_owner.version + 1
    assert rete_note.text == "she changed her number"


def test_events_land_in_the_tests_own_database(backend, make_rete, people, clock, send) -> None:
    rete = make_rete()
    a_long_story(rete, people, clock, send)
    written = len(notifications(rete))
    if "RETE_DATABASE_SCHEMA" not in backend:
        path = Path(backend["RETE_DATABASE_URL"].removeprefix("sqlite:///"))
        assert path.is_file() and path.stat().st_size > 0
        return
    schema = backend["RETE_DATABASE_SCHEMA"]
    with psycopg.connect(backend["POSTGRES_URL"]) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        assert {"rete_events", "rete_snapshots"} <= {t for (t,) in tables}
        stored = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.rete_events").format(sql.Identifier(schema))
        ).fetchone()
    assert stored == (written,)


def test_a_zero_snapshot_interval_never_turns_a_stored_write_into_an_error(
    make_rete, people
) -> None:
    try:
        rete = make_rete(RETE_SNAPSHOT_INTERVAL="0")
    except SettingsError:
        return  # refused at start-up: the operator learns it before any write
    code = rete.cases.open(people.anna).reference_code
    assert canonical_reference(code) == code
