"""Opening only the outer seal of a stored record gives its non-personal fields exactly
as the encrypting mapper gives them (and the projections the mapper's event with
them, and with its derived fields, opened with the case key), and its personal
part as stored: sealed, bound to its place, opening with the case key there and
nowhere else."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.clock import TestClock
from views_support import (
    a_case_with_everything,
    actor,
    leave_a_referral_unanswered,
)

from application.loading import case_id
from application.rete import Rete
from application.view_ports import SealedPart
from domain.erased import ERASED
from domain.events import derived_fields, withheld_fields
from infrastructure.crypto import sealing
from infrastructure.sealing_mapper import RecordIntegrityError
from infrastructure.store import ReteEventStore
from infrastructure.views import Views
from infrastructure.views.events import decoded
from infrastructure.views.log import StoredRecord
from infrastructure.views.records import BatchOpener, open_outer, open_record, place


@given(st.uuids(), st.integers(1, 10**12), st.text(min_size=1, max_size=80))
def test_a_place_is_encoded_as_the_sealing_context_encodes_it(
    stream: UUID, version: int, topic: str
) -> None:
    assert place(stream, version, topic) == sealing.context(str(stream), version, topic)


def every_record(views: Views) -> list[StoredRecord]:
    with views.tables.read() as tx:
        return views.log.records(tx, 0, views.log.head(tx), 10**6, ())


def test_the_outer_seal_gives_what_the_mapper_gives_and_the_inner_one_stays_sealed(
    rete: Rete, views: Views, store: ReteEventStore, clock: TestClock
) -> None:
    a_case_with_everything(rete)
    leave_a_referral_unanswered(rete, clock)
    notifications = store.recorder.select_notifications(start=1, limit=10**6)
    records = every_record(views)
    assert [r.position for r in records] == [n.id for n in notifications]

    for record, notification in zip(records, notifications, strict=True):
        assert record.stream == str(notification.originator_id)
        fields, sealed = open_outer(
            store.keys, record.stream, record.version, record.topic, record.state
        )
        event = vars(store.mapper.to_domain_event(notification))
        cls = type(store.mapper.to_domain_event(notification))
        personal, derived = withheld_fields(cls), derived_fields(cls)
        expected = {
            k: v
            for k, v in event.items()
            if k not in personal and k not in ("originator_id", "originator_version")
        }
        assert fields == expected, record.topic
        # What a projection gets: an event of the mapper's class, with the same
        # non-personal fields, typed as the mapper types them, and its derived ones.
        typed = decoded(BatchOpener(store.keys).open(record), views.parts)
        assert type(typed) is type(store.mapper.to_domain_event(notification))
        assert vars(typed) == expected | {k: event[k] for k in derived}, record.topic
        assert (sealed is None) == (not personal)
        if sealed is not None:
            part = SealedPart(sealed, UUID(record.stream), record.version, record.topic)
            assert views.parts.open(part) == {k: event[k] for k in personal}
            moved = SealedPart(sealed, uuid4(), record.version, record.topic)
            with pytest.raises(RecordIntegrityError):
                views.parts.open(moved)


def test_a_record_moved_or_altered_does_not_open(views: Views, rete: Rete) -> None:
    a_case_with_everything(rete)
    record = every_record(views)[-1]
    with pytest.raises(RecordIntegrityError):
        open_record(views.keys, record._replace(version=record.version + 1))
    flipped = bytes([*record.state[:-1], record.state[-1] ^ 1])
    with pytest.raises(RecordIntegrityError):
        open_record(views.keys, record._replace(state=flipped))


def test_a_batch_opens_every_record_as_open_record_does_and_refuses_the_same(
    views: Views, rete: Rete
) -> None:
    a_case_with_everything(rete)
    records = every_record(views)
    opener = BatchOpener(views.keys)
    for record in records:  # the first of a topic or key learns it, the rest take the fast path
        assert opener.open(record) == open_record(views.keys, record, typed=False)
    last = records[-1]
    flipped = bytes([*last.state[:-1], last.state[-1] ^ 1])
    for altered in (
        last._replace(version=last.version + 1),
        last._replace(stream=str(uuid4())),
        last._replace(topic=records[0].topic),
        last._replace(state=flipped),
        last._replace(state=last.state[:20]),
    ):
        with pytest.raises(RecordIntegrityError):
            opener.open(altered)


def test_an_erased_part_reads_as_erased_and_its_record_still_opens(
    rete: Rete, views: Views, store: ReteEventStore
) -> None:
    ref = a_case_with_everything(rete)
    kept = a_case_with_everything(rete)
    rete.cases.erase(actor(rete, "cav-scirocco", "coordinator"), ref, "her request")
    erased_id, parts = case_id(ref), {True: 0, False: 0}
    for record in every_record(views):
        opened = open_record(store.keys, record)  # the outer seal opens, erased or not
        if opened.sealed is None:
            continue
        erased = erased_id in (opened.stream_id, opened.state.get("case_id"))
        assert (views.parts.open(opened.sealed_part()) is ERASED) == erased
        parts[erased] += 1
    assert parts[True] >= 4 and parts[False] >= 4, parts
    assert kept != ref
