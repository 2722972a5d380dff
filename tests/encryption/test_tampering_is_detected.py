"""Issue 3, "done when" 2: any tampering with a stored record is detected, and named.

A store of more than 200 events (seven cases, their notes, consents, risk
assessments, referrals and moves) is altered directly in the database, one row
at a time: a record's sealed bytes copied onto another row (same stream at
another version, another stream at the same version, another stream of the same
event type, anywhere), truncated, with any single bit flipped (in the header,
the nonce, the ciphertext or the tag), or relabelled with another event type.
Reading the aggregate through a fresh application instance must then fail with
an integrity error that names the record (its stream and version) and shows
nothing of its content. The row is restored after every example.

The personal blob sealed under the case key sits inside the outer ciphertext, so
the flips above already cover its bytes; the inner layer is also tested on its
own, by someone holding the system key who opens the outer seal, alters the
inner blob (flip, truncation, a blob from another record of the same case or of
another case) and seals the outer layer again, validly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest
from encryption_support import CATEGORIES, open_outer, reseal_outer
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.clock import MONDAY
from support.hypothesis_profiles import examples
from support.people import people_of
from support.rawdb import RawDatabase, Row
from support.stories import record_consent, refer, refer_to_protect

from application.rete import Rete
from domain.case import Case, case_id_for
from domain.referral import Move
from domain.vocabulary import Category
from infrastructure.bootstrap import build_store
from infrastructure.crypto import sealing
from infrastructure.sealing_mapper import RecordIntegrityError
from infrastructure.settings import Settings

INSTRUMENT = "rete-screening-v1"
NO_SNAPSHOTS = {"RETE_SNAPSHOT_INTERVAL": "100000"}  # every read replays every event

PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def drawing(max_examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A property test that draws what it alters from ``data``, ``max_examples`` times
    (scaled by the Hypothesis profile)."""

    def wrap(test: Callable[..., None]) -> Callable[..., None]:
        drawn: Callable[..., None] = given(data=st.data())(test)
        return settings(PROPERTY, max_examples=examples(max_examples))(drawn)

    return wrap


def populate(rete: Rete, p: SimpleNamespace, cases: int, notes: int) -> list[str]:
    """Cases with notes in every category, a consent, a risk assessment, and two
    referrals (one acknowledged and accepted, one declined). Returns the texts."""
    texts: list[str] = []

    def text(what: str) -> str:
        texts.append(f"{what} {uuid4().hex}")
        return texts[-1]

    answers = {item.id: i % 3 == 0 for i, item in enumerate(rete.ctx.instrument(INSTRUMENT).items)}
    store = rete.ctx.store
    for _ in range(cases):
        ref = rete.cases.open(p.anna).reference_code
        # The notes straight through the domain, saved at once: the same mapper, fewer trips.
        case = store.get(Case, case_id_for(ref))
        for n in range(notes):
            case.add_note(Category(CATEGORIES[n % len(CATEGORIES)]), text("note"), p.anna, MONDAY)
        store.save(case)
        record_consent(rete, p.anna, ref)
        rete.cases.assess_risk(p.anna, ref, INSTRUMENT, answers, "high", text("justification"))
        taken = refer(rete, p.anna, ref, reason=text("reason"))
        rete.referrals.move(p.bea, taken.id, Move.ACKNOWLEDGE)
        rete.referrals.move(p.bea, taken.id, Move.ACCEPT)
        refused = refer_to_protect(
            rete,
            p.chiara,
            ref,
            text("reason"),
            text("justification"),
            urgency="urgent",
            scope=["violence"],
        )
        rete.referrals.move(p.paolo, refused.id, Move.DECLINE, text("decline"))
    return texts


@pytest.fixture
def texts(make_rete: Callable[..., Rete]) -> list[str]:
    writer = make_rete(**NO_SNAPSHOTS)
    return populate(writer, people_of(writer), cases=7, notes=20)


def read_streams(settings: Settings, streams: Iterable[Any]) -> None:
    """Each stream reads, through one fresh instance (its own key store and
    connections: nothing cached from the writer)."""
    store = build_store(settings)
    try:
        for stream in streams:
            store.get(Aggregate, stream)
    finally:
        store.close()


def read_all(settings: Settings, rows: list[Row]) -> None:
    """Every stream reads, through one fresh instance."""
    read_streams(settings, {r.stream for r in rows})


@pytest.fixture
def rows(
    texts: list[str], raw: RawDatabase, settings_for: Callable[..., Settings]
) -> Iterator[list[Row]]:
    stored = raw.rows()
    assert len(stored) >= 200
    assert len({r.stream for r in stored}) >= 20  # cases, referrals, the reference sequence
    # Untouched, every stream reads; and so it does again after all the examples.
    read_all(settings_for(**NO_SNAPSHOTS), stored)
    yield stored
    read_all(settings_for(**NO_SNAPSHOTS), stored)
    assert raw.rows() == stored


@pytest.fixture
def read_fresh(settings_for: Callable[..., Settings]) -> Callable[[Row], None]:
    """Read a row's aggregate through a new application instance (its own key
    store and connections: nothing cached from the writer)."""
    settings = settings_for(**NO_SNAPSHOTS)
    return lambda row: read_streams(settings, [row.stream])


def header_unreadable(blob: bytes) -> bool:
    """Too short for any sealed blob, or not format 0x01."""
    return len(blob) < sealing.MIN_BLOB_SIZE or blob[0] != sealing.FORMAT_VERSION


def assert_detected(read: Callable[[Row], None], row: Row, texts: list[str], blob: bytes) -> None:
    with pytest.raises(sealing.IntegrityError) as caught:
        read(row)
    message = str(caught.value)
    assert row.names_it(message), message
    assert row.topic in message, message
    assert not any(t.split()[-1] in message for t in texts), "the error shows content"
    if not header_unreadable(blob):
        assert isinstance(caught.value, RecordIntegrityError), repr(caught.value)


@dataclass(frozen=True)
class Tamperer:
    """Alters one stored row at a time, and checks that a fresh read detects it."""

    raw: RawDatabase
    read: Callable[[Row], None]
    texts: list[str]

    def detects(
        self,
        row: Row,
        blob: bytes,
        *,
        state: bytes | None = None,
        topic: str | None = None,
        shown: Row | None = None,
    ) -> None:
        """With ``row``'s ``state`` or ``topic`` altered, reading ``shown`` (the row
        as it now stands; ``row`` by default) fails, naming it; ``blob`` is the
        sealed part the reader now meets."""
        with self.raw.altered(row, state=state, topic=topic):
            assert_detected(self.read, shown or row, self.texts, blob)


@pytest.fixture
def tamper(
    rows: list[Row], raw: RawDatabase, read_fresh: Callable[[Row], None], texts: list[str]
) -> Tamperer:
    """Over the populated store (``rows`` checks it reads before and after)."""
    return Tamperer(raw, read_fresh, texts)


# -- copies -------------------------------------------------------------------------

RELATIONS: dict[str, Callable[[Row, Row], bool]] = {
    "the same stream at another version": lambda s, t: (
        t.stream == s.stream and t.version != s.version
    ),
    "another stream at the same version": lambda s, t: (
        t.stream != s.stream and t.version == s.version
    ),
    "another stream, same event type": lambda s, t: t.stream != s.stream and t.topic == s.topic,
    "any other row": lambda s, t: t != s,
}


@drawing(40)
def test_a_record_copied_onto_another_row_does_not_open(
    data: st.DataObject, rows: list[Row], tamper: Tamperer
) -> None:
    relation = data.draw(st.sampled_from(sorted(RELATIONS)), label="onto")
    source = data.draw(st.sampled_from(rows), label="source")
    targets = [t for t in rows if RELATIONS[relation](source, t)]
    if not targets:
        return
    target = data.draw(st.sampled_from(targets), label="target")
    tamper.detects(target, source.state, state=source.state)


# -- truncation and bit flips ---------------------------------------------------------


@drawing(25)
def test_a_truncated_record_does_not_open(
    data: st.DataObject, rows: list[Row], tamper: Tamperer
) -> None:
    row = data.draw(st.sampled_from(rows), label="row")
    cut = data.draw(st.integers(0, len(row.state) - 1), label="kept bytes")
    tamper.detects(row, row.state[:cut], state=row.state[:cut])


def regions(blob: bytes) -> dict[str, tuple[int, int]]:
    """Where each part of a sealed blob lies: [start, end)."""
    n, header, nonce_end = len(blob), sealing.HEADER_SIZE, sealing.HEADER_SIZE + sealing.NONCE_SIZE
    return {
        "format version": (0, 1),
        "key id": (1, header),
        "nonce": (header, nonce_end),
        "ciphertext": (nonce_end, n - sealing.TAG_SIZE),
        "tag": (n - sealing.TAG_SIZE, n),
    }


def flip(blob: bytes, data: st.DataObject) -> bytes:
    region = data.draw(st.sampled_from(sorted(regions(blob))), label="region")
    start, end = regions(blob)[region]
    at = data.draw(st.integers(start, end - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    flipped = bytearray(blob)
    flipped[at] ^= 1 << bit
    return bytes(flipped)


@drawing(80)
@pytest.mark.long
def test_any_single_flipped_bit_does_not_open(
    data: st.DataObject, rows: list[Row], tamper: Tamperer
) -> None:
    row = data.draw(st.sampled_from(rows), label="row")
    flipped = flip(row.state, data)
    tamper.detects(row, flipped, state=flipped)


@drawing(12)
def test_a_record_relabelled_with_another_event_type_does_not_open(
    data: st.DataObject, rows: list[Row], tamper: Tamperer
) -> None:
    row = data.draw(st.sampled_from(rows), label="row")
    same_aggregate = sorted(
        {r.topic for r in rows if r.topic.split(".")[:-1] == row.topic.split(".")[:-1]}
        - {row.topic}
    )
    if not same_aggregate:
        return
    topic = data.draw(st.sampled_from(same_aggregate), label="topic")
    relabelled = Row(row.table, row.key, row.stream, row.version, topic, row.state)
    tamper.detects(row, row.state, topic=topic, shown=relabelled)


# -- the inner layer, under a valid outer seal -------------------------------------------


@pytest.fixture
def personal_rows(rows: list[Row], make_rete: Callable[..., Rete]) -> list[tuple[Row, Any]]:
    """The rows that carry a personal blob, with the system key's holder's view of them."""
    keys = make_rete(**NO_SNAPSHOTS).ctx.keys
    opened = []
    for row in rows:
        key_id, key, record = open_outer(keys, row)
        if record[2] is not None:
            opened.append((row, (key_id, key, record)))
    assert len(opened) >= 150
    return opened


@drawing(35)
def test_an_altered_personal_blob_does_not_open_even_under_a_valid_outer_seal(
    data: st.DataObject, personal_rows: list[tuple[Row, Any]], tamper: Tamperer
) -> None:
    row, (key_id, key, record) = data.draw(st.sampled_from(personal_rows), label="row")
    inner: bytes = record[2]
    how = data.draw(
        st.sampled_from(["flip", "truncate", "from the same case", "from another case"]),
        label="how",
    )
    if how == "flip":
        altered = flip(inner, data)
    elif how == "truncate":
        altered = inner[: data.draw(st.integers(0, len(inner) - 1), label="kept bytes")]
    else:
        same_key = sealing.key_id_of(inner)
        others = [
            rec[2]
            for other, (_, _, rec) in personal_rows
            if other != row
            and (sealing.key_id_of(rec[2]) == same_key) == (how.endswith("same case"))
        ]
        altered = data.draw(st.sampled_from(others), label="other blob")
    forged = reseal_outer(key_id, key, row, [record[0], record[1], altered])
    tamper.detects(row, altered, state=forged)


# -- snapshots ------------------------------------------------------------------------------


@pytest.fixture
def snapshot_rows(make_rete: Callable[..., Rete], raw: RawDatabase) -> list[Row]:
    """The newest snapshot of each stream (the one a read starts from)."""
    writer = make_rete(RETE_SNAPSHOT_INTERVAL="4")
    populate(writer, people_of(writer), cases=3, notes=10)
    newest: dict[Any, Row] = {}
    for row in raw.rows(raw.snapshots):
        if row.stream not in newest or row.version > newest[row.stream].version:
            newest[row.stream] = row
    assert len(newest) >= 3
    return list(newest.values())


@drawing(20)
def test_a_tampered_snapshot_does_not_open(
    data: st.DataObject,
    snapshot_rows: list[Row],
    raw: RawDatabase,
    settings_for: Callable[..., Settings],
) -> None:
    row = data.draw(st.sampled_from(snapshot_rows), label="snapshot")
    how = data.draw(st.sampled_from(["flip", "truncate", "copy"]), label="how")
    if how == "flip":
        altered = flip(row.state, data)
    elif how == "truncate":
        altered = row.state[: data.draw(st.integers(0, len(row.state) - 1), label="kept")]
    else:
        altered = data.draw(st.sampled_from([r for r in snapshot_rows if r != row])).state
    settings = settings_for(RETE_SNAPSHOT_INTERVAL="4")
    with raw.altered(row, state=altered):
        assert_detected(lambda _: read_streams(settings, [row.stream]), row, [], altered)


# -- the exact error type ---------------------------------------------------------------


def _cut_to(n: int) -> Callable[[bytes], bytes]:
    return lambda blob: blob[:n]


def _flip_byte(at: int) -> Callable[[bytes], bytes]:
    def flipped(blob: bytes) -> bytes:
        changed = bytearray(blob)
        changed[at] ^= 0x01
        return bytes(changed)

    return flipped


@pytest.mark.parametrize(
    "alter",
    [
        pytest.param(_cut_to(0), id="emptied"),
        pytest.param(_cut_to(sealing.MIN_BLOB_SIZE - 1), id="cut below 45 bytes"),
        pytest.param(_flip_byte(0), id="format byte flipped"),
        pytest.param(_cut_to(sealing.MIN_BLOB_SIZE), id="cut to 45 bytes"),
        pytest.param(_flip_byte(5), id="key id flipped"),
        pytest.param(_flip_byte(20), id="nonce flipped"),
        pytest.param(_flip_byte(-1), id="tag flipped"),
    ],
)
def test_every_tampered_record_raises_the_record_integrity_error(
    alter: Callable[[bytes], bytes],
    make_rete: Callable[..., Rete],
    raw: RawDatabase,
    read_fresh: Callable[[Row], None],
) -> None:
    writer = make_rete(**NO_SNAPSHOTS)
    populate(writer, people_of(writer), cases=1, notes=2)
    row = next(r for r in raw.rows() if r.topic.endswith("NoteAdded"))
    with raw.altered(row, state=alter(row.state)), pytest.raises(RecordIntegrityError) as caught:
        read_fresh(row)
    assert row.names_it(str(caught.value))
