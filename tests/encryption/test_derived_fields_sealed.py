"""Issue 10, finding 2, the stored events: after an erasure, nothing derived from
her data can be read from the event log, even by someone holding a copy of the
database and the KEK (hence the system key).

The views and answers of an erased case drop the high-risk flag
(``test_erasure_leaves_nothing_derived.py``); here is the log itself. Two twin
cases are told step for step at the same moments, differing only in her risk
answers (one assessed high, then low, then high; the other low throughout), and
both are erased. Then, as an attacker with the database and the KEK: every
stored record of both cases and their referrals (events and snapshots) is opened
with the system key, with the real sealing and transcoding; the part sealed
under each case key no longer opens; no record holds a derived field where the
system key reads it; and everything the system key does read is the same for
both twins up to ids and reference codes, so no other field betrays the risk
either. Nor does any byte at rest (the ledger's records and leaves, the views,
every file or table) spell the flag in clear.

Records stored before ``RiskAssessed`` sealed its flag (class version 2, flag
under the system key) still read, project and rebuild as before; erased, they
read as erased everywhere Rete reads them. What an existing deployment does
about the bytes themselves is in docs/ENCRYPTION.md, "Derived fields".
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest
from encryption_support import files_under, is_uuid, open_outer
from eventsourcing.utils import resolve_topic
from psycopg import sql
from support.clock import TestClock
from support.rawdb import RawDatabase, Row, connect, is_sqlite, table_of
from support.stories import RISK_ITEMS, record_consent, refer

from application.observatory.facts import CaseFact, ReferralFact
from application.rete import Rete
from domain.case import Case
from domain.erased import ERASED
from domain.events import derived_fields, derived_names, personal_fields
from infrastructure import event_codec, sealing_mapper
from infrastructure.bootstrap import build_store
from infrastructure.crypto import sealing
from infrastructure.settings import Settings
from infrastructure.views import open_views

INSTRUMENT = "rete-screening-v1"
WHY = "her request (art. 17 GDPR)"


class Twin(SimpleNamespace):
    ref: str
    id: UUID
    referrals: list[UUID]

    @property
    def streams(self) -> set[UUID]:
        return {self.id, *self.referrals}


def assess(rete: Rete, p: SimpleNamespace, ref: str, high: bool) -> None:
    answers = {item: high for item in RISK_ITEMS}
    rete.cases.assess_risk(p.anna, ref, INSTRUMENT, answers, None, None)


def tell(rete: Rete, p: SimpleNamespace, clock: TestClock, high: bool) -> Twin:
    """One case worked the same way whatever ``high`` says: only the risk differs
    (the high twin turns high, low and high again; the low one stays low)."""
    ref = rete.cases.open(p.anna).reference_code
    clock.advance(minutes=5)
    rete.cases.add_note(p.anna, ref, "violence", "what happened")
    record_consent(rete, p.anna, ref)
    for turn in (high, False, high):
        clock.advance(minutes=5)
        assess(rete, p, ref, turn)
    clock.advance(minutes=5)
    referral = refer(rete, p.anna, ref)
    case_id = UUID(rete.cases.get(p.chiara, ref).id)
    return Twin(ref=ref, id=case_id, referrals=[UUID(referral.id)])


def twins(rete: Rete, p: SimpleNamespace, clock: TestClock) -> tuple[Twin, Twin]:
    start = clock.at
    high = tell(rete, p, clock, high=True)
    end, clock.at = clock.at, start
    low = tell(rete, p, clock, high=False)
    assert clock.at == end
    return high, low


# -- the attacker: the database and the KEK ----------------------------------------


def records_of(raw: RawDatabase, twin: Twin) -> list[Row]:
    """Every stored event and snapshot of the case and its referrals."""
    return [
        r for table in (None, raw.snapshots) for r in raw.rows(table) if r.stream in twin.streams
    ]


def readable_with_the_system_key(
    rete: Rete, rows: list[Row]
) -> list[tuple[str, int, dict[str, Any]]]:
    """What the system key opens of each record: its topic, version and outer fields.
    Its part sealed under the case key must no longer open (the key is destroyed)."""
    keys = rete.ctx.keys  # what the KEK unwraps: every data key still in the database
    read = []
    for row in rows:
        _, _, (fmt, state, sealed) = open_outer(keys, row)
        assert fmt == sealing_mapper.RECORD_FORMAT
        if sealed is not None:
            assert keys.opening_key(sealing.key_id_of(sealed)) is None, row.topic
        read.append((row.topic, row.version, state))
    return read


def shape(value: Any, names: set[str]) -> Any:
    """``value`` with what must differ between twins (ids, reference codes) taken out."""
    if isinstance(value, dict):
        return {k: shape(v, names) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [shape(v, names) for v in value]
    if isinstance(value, bytes):
        return "<sealed>"
    if isinstance(value, str) and (value in names or is_uuid(value)):
        return "<id>"
    return value


# Every way the flag could sit in clear: msgpack (the records' encoding), JSON.
IN_CLEAR = [
    f"\xa9{name}".encode("latin-1") + flag
    for name in derived_names()
    for flag in (b"\xc2", b"\xc3")
] + [
    f'"{name}"{sep}{flag}'.encode()
    for name in derived_names()
    for sep in (":", ": ")
    for flag in ("true", "false")
]


def at_rest(root: Path, raw: RawDatabase) -> list[tuple[str, bytes]]:
    """Every byte the test's system wrote: its files (SQLite's database and log, the
    ledger, var/), and on PostgreSQL every row of every table of its schema."""
    return files_under(root) + ([] if raw.sqlite else raw.everything())


# -- the tests -----------------------------------------------------------------------


def test_an_erased_case_leaves_no_derived_value_in_the_log_even_with_the_system_key(
    rete: Rete,
    people: SimpleNamespace,
    clock: TestClock,
    backend: dict[str, str],
    tmp_path: Path,
) -> None:
    p, raw = people, RawDatabase(backend)
    high, low = twins(rete, p, clock)
    refs = {high.ref, low.ref}
    # While they live, the flag tells them apart where it is meant to.
    shown = [rete.cases.get(p.chiara, t.ref).high_risk for t in (high, low)]
    assert shown == [True, False]
    assert rete.referrals.list(p.bea, "inbox").items, "the recipient's inbox shows them"

    clock.advance(minutes=5)
    for twin in (high, low):
        rete.cases.erase(p.chiara, twin.ref, WHY)

    read = {t.ref: readable_with_the_system_key(rete, records_of(raw, t)) for t in (high, low)}
    # Every event of the story was scanned, the assessments too.
    assessed = [v for topic, v, _ in read[high.ref] if topic.endswith("Case.RiskAssessed")]
    assert len(assessed) == 3

    # No record holds a derived field (nor a personal one) where the system key reads it.
    outside = [
        (topic, name)
        for twin in read.values()
        for topic, _, state in twin
        for name in state
        if name in derived_fields(resolve_topic(topic)) | personal_fields(resolve_topic(topic))
    ]
    assert outside == []
    # And nothing the system key reads tells the high twin from the low one.
    seen = {ref: sorted(repr(shape(r, refs)) for r in records) for ref, records in read.items()}
    assert seen[high.ref] == seen[low.ref]

    # Rete reads the flag as gone, as the rest of her data.
    for twin in (high, low):
        events = rete.ctx.store.events.get(twin.id)  # type: ignore[attr-defined]
        flags = [e.high_risk for e in events if isinstance(e, Case.RiskAssessed)]
        assert flags == [ERASED] * 3

    # No byte at rest spells it in clear: the ledger's records and leaves, the views,
    # every file and every table.
    spelled = [(where, s) for where, data in at_rest(tmp_path, raw) for s in IN_CLEAR if s in data]
    assert spelled == []


def test_the_flag_of_a_living_case_is_sealed_under_her_key_and_read_by_the_views(
    rete: Rete, people: SimpleNamespace, clock: TestClock, backend: dict[str, str]
) -> None:
    p, raw = people, RawDatabase(backend)
    ref = rete.cases.open(p.anna).reference_code
    assess(rete, p, ref, high=True)
    case_id = UUID(rete.cases.get(p.anna, ref).id)
    (row,) = [r for r in raw.rows() if r.stream == case_id and r.topic.endswith("RiskAssessed")]
    _, _, (_, state, sealed) = open_outer(rete.ctx.keys, row)
    assert "high_risk" not in state and state["class_version"] == 3
    key = rete.ctx.keys.opening_key(sealing.key_id_of(sealed))
    assert key is not None
    context = sealing.context("rete", "personal", str(row.stream), row.version, row.topic)
    assert event_codec.unpack(sealing.open_(key, sealed, context))["high_risk"] is True
    # Every service taking part sees it, even one that may not read the risk category.
    record_consent(rete, p.anna, ref)
    refer(rete, p.anna, ref)
    (box,) = [r for r in rete.referrals.list(p.bea, "inbox").items if r.case_reference == ref]
    assert box.high_risk is True
    assert rete.cases.get(p.anna, ref).high_risk is True


@pytest.fixture
def version_2(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """``with version_2():`` assessments are stored as before version 3: the flag
    in the outer part, under the system key (the mapper sealed personal fields
    only), and class version 2 in the record."""

    @contextlib.contextmanager
    def stored_the_old_way() -> Any:
        with monkeypatch.context() as patch:
            patch.setattr(sealing_mapper, "withheld_fields", personal_fields)
            patch.setattr(Case.RiskAssessed, "class_version", 2)
            yield

    return stored_the_old_way


def test_assessments_stored_before_the_flag_was_sealed_still_read_and_erase_everywhere_rete_reads(
    rete: Rete,
    people: SimpleNamespace,
    clock: TestClock,
    backend: dict[str, str],
    settings: Settings,
    version_2: Callable[[], contextlib.AbstractContextManager[None]],
) -> None:
    p, raw = people, RawDatabase(backend)
    ref = rete.cases.open(p.anna).reference_code
    with version_2():
        assess(rete, p, ref, high=True)
    assert rete.cases.get(p.anna, ref).high_risk is True  # projected from the outer part
    clock.advance(minutes=5)
    assess(rete, p, ref, high=False)  # and one stored as now
    record_consent(rete, p.anna, ref)
    refer(rete, p.anna, ref)
    case_id = UUID(rete.cases.get(p.anna, ref).id)
    old, new = [r for r in raw.rows() if r.stream == case_id and r.topic.endswith("RiskAssessed")]
    old_state = open_outer(rete.ctx.keys, old)[2][1]
    assert old_state["class_version"] == 2 and old_state["high_risk"] is True, "stored the old way"
    assert "high_risk" not in open_outer(rete.ctx.keys, new)[2][1]

    # Both read, in the aggregate and in the views, live and rebuilt from the log.
    events = [e for e in rete.ctx.store.events.get(case_id) if isinstance(e, Case.RiskAssessed)]  # type: ignore[attr-defined]
    assert [e.high_risk for e in events] == [True, False]
    before = (rete.cases.get(p.anna, ref), rete.cases.list(p.anna).items)
    assert before[0].high_risk is False
    flag = flag_columns(backend, case_id)
    assert flag[0] in (False, 0) and len(flag[1].split(",")) == 2  # two turns: high, low
    with (
        contextlib.closing(build_store(settings)) as store,
        open_views(settings, store.recorder, store.keys) as views,
    ):
        views.rebuild()
        assert views.check() == []
    after = (rete.cases.get(p.anna, ref), rete.cases.list(p.anna).items)
    assert after == before  # the turns (the case's version as each reader sees it) too
    assert flag_columns(backend, case_id) == flag

    # Erased: the old record's flag reads as erased wherever Rete reads it.
    rete.cases.erase(p.chiara, ref, WHY)
    events = [e for e in rete.ctx.store.events.get(case_id) if isinstance(e, Case.RiskAssessed)]  # type: ignore[attr-defined]
    assert [e.high_risk for e in events] == [ERASED, ERASED]
    assert rete.cases.get(p.chiara, ref).high_risk is None
    assert flag_columns(backend, case_id) == (None, None)
    with (
        contextlib.closing(build_store(settings)) as store,
        open_views(settings, store.recorder, store.keys) as views,
    ):
        views.rebuild()  # both records projected again, her key gone
        assert views.check() == []
    assert flag_columns(backend, case_id) == (None, None)
    assert rete.cases.get(p.chiara, ref).high_risk is None


def flag_columns(backend: dict[str, str], case_id: UUID) -> tuple[Any, Any]:
    """The case's row of the cases view, as the database holds it: its flag, its turns."""
    query = "SELECT high_risk, high_risk_turns FROM {} WHERE id = %s"
    with connect(backend) as conn:
        if is_sqlite(backend):
            cursor = conn.execute(
                query.format("rete_view_cases").replace("%s", "?"), (str(case_id),)
            )
        else:
            statement = sql.SQL(query).format(table_of(backend, "rete_view_cases"))
            cursor = conn.execute(statement, (str(case_id),))
        (row,) = cursor.fetchall()
    return row[0], row[1]


def test_no_published_statistic_reads_a_derived_field() -> None:
    """The observatory's facts hold no derived value, so no table it publishes moves
    with a case's flag, nor when an erasure drops it (OBSERVATORY.md: a fact is
    taken when recorded and erasure changes no count)."""
    counted = {f.name for fact in (CaseFact, ReferralFact) for f in dataclasses.fields(fact)}
    assert counted and not counted & derived_names()


def test_a_marker_of_the_flag_in_clear_is_found_by_the_scan(tmp_path: Path) -> None:
    """The scan is not blind: the flag packed as a record packs it is spelled."""
    packed = event_codec.pack({"high_risk": True, "other": uuid4().hex})
    assert any(s in packed for s in IN_CLEAR)
