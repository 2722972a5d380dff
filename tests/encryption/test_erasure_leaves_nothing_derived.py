"""Issue 10, finding 2: after an erasure, nothing derived from her personal data is
left in any view or any audit answer (``high_risk`` used to survive it).

Two twin cases are told through the application, step for step at the same
moments: notes in every category, a consent, a risk assessment, referrals taken
on, declined, withdrawn and left to escalate, a legal hold placed and lifted,
reads and an auditor's disclosure. They differ only in her data: their texts,
and the risk (one is assessed high, the other low). Then both are erased.

Every column of every view table (the tables from ``ALL_VIEWS``, the columns as
the database itself returns them, so a new view or column is covered without
touching this test), every field of every audit answer and every answer the
services get must then be the same for both twins, up to ids, reference codes
and log positions: whatever still told them apart would be derived from her
data. Before the erasure they do differ (the high-risk flag is meant to show
while the case lives), which shows the comparison sees such a value. And none of
the texts planted in either twin is found anywhere.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import msgspec
from encryption_support import is_uuid
from psycopg import sql
from support.clock import TestClock
from support.rawdb import connect, is_sqlite, table_of
from support.stories import RISK_ITEMS, record_consent, refer, refer_to_protect

from application.rete import Rete
from domain.events import derived_fields, derived_names, network_event_classes, personal_fields
from domain.referral import Move
from domain.vocabulary import Category
from infrastructure.views.projection import ALL_VIEWS

INSTRUMENT = "rete-screening-v1"
WHY = "her request (art. 17 GDPR)"
REVIEW = "DPO review of the network's mandatory reports"


@dataclass
class Twin:
    ref: str
    id: UUID
    referrals: list[str]
    texts: list[str]

    @property
    def ids(self) -> set[str]:
        return {str(self.id), *self.referrals}


def tell(rete: Rete, p: SimpleNamespace, clock: TestClock, high: bool) -> Twin:
    """One case, worked the same way whatever ``high`` says; only her data differ."""
    texts: list[str] = []

    def say(place: str) -> str:
        clock.advance(minutes=7)
        texts.append(f"MARKER-{place}-{uuid4().hex}")
        return texts[-1]

    ref = rete.cases.open(p.anna).reference_code
    for category in Category:
        rete.cases.add_note(p.anna, ref, category.value, say(f"note-{category.value}"))
    record_consent(rete, p.anna, ref)
    answers = {item: high for item in RISK_ITEMS}
    rete.cases.assess_risk(p.anna, ref, INSTRUMENT, answers, None, say("risk-justification"))
    taken = refer(rete, p.anna, ref, reason=say("reason-taken"))
    clock.advance(minutes=3)
    rete.referrals.move(p.bea, taken.id, Move.ACKNOWLEDGE)
    rete.referrals.move(p.bea, taken.id, Move.ACCEPT, say("accept-reason"))
    rete.cases.add_note(p.bea, ref, "violence", say("note-by-social-services"))
    declined = refer_to_protect(rete, p.chiara, ref, say("reason-vital"), say("justification"))
    rete.referrals.move(p.paolo, declined.id, Move.DECLINE, say("decline-reason"))
    withdrawn = refer(rete, p.anna, ref, reason=say("reason-withdrawn"))
    rete.referrals.move(p.anna, withdrawn.id, Move.WITHDRAW, say("withdraw-reason"))
    waiting = refer_to_protect(rete, p.chiara, ref, say("reason-waiting"), say("why-waiting"))
    rete.cases.place_legal_hold(p.chiara, ref, say("legal-hold"))
    clock.advance(minutes=3)
    rete.cases.lift_legal_hold(p.chiara, ref)
    case_id = UUID(rete.cases.get(p.chiara, ref).id)
    referrals = [str(r.id) for r in (taken, declined, withdrawn, waiting)]
    return Twin(ref, case_id, referrals, texts)


def read_everything(rete: Rete, p: SimpleNamespace, twin: Twin) -> dict[str, Any]:
    """What the services get of the case: the owner's case and list, each recipient's
    box and referral (reads logged like any other)."""
    mine = twin.ids
    return {
        "case": rete.cases.get(p.chiara, twin.ref),
        "listed": [c for c in rete.cases.list(p.chiara).items if c.reference_code == twin.ref],
        "inboxes": [
            r
            for who in (p.bea, p.paolo)
            for r in rete.referrals.list(who, "inbox").items
            if r.case_id in mine
        ],
        "outbox": [r for r in rete.referrals.list(p.anna, "outbox").items if r.case_id in mine],
        "taken": rete.referrals.get(p.bea, twin.referrals[0]),
        "waiting": rete.referrals.get(p.paolo, twin.referrals[3]),
    }


def audit_answers(rete: Rete, p: SimpleNamespace, twin: Twin) -> dict[str, Any]:
    """Every audit answer about the case: its replayed history and state, and its
    events in the whole log (its streams', and its access records')."""
    history = rete.audit.history(p.ugo, twin.ref)
    logged, after = [], 0
    while True:
        page = rete.audit.events(p.ugo, after, 500)
        logged += page.items
        if page.next_after is None:
            break
        after = page.next_after
    mine = twin.ids
    of_case = [e for e in logged if e.stream_id in mine or e.fields.get("case_id") in mine]
    return {"history": history, "log": of_case}


# -- the views, as the database holds them ---------------------------------------------


def view_tables() -> list[str]:
    return [t.name for v in ALL_VIEWS for t in v.tables]


def rows_of(backend: dict[str, str], twin: Twin) -> dict[str, list[dict[str, Any]]]:
    """Every row of every view table that names the case or one of its referrals,
    with every column the database returns for it."""
    found: dict[str, list[dict[str, Any]]] = {}
    with connect(backend) as conn:
        for name in view_tables():
            if is_sqlite(backend):
                cursor = conn.execute(f'SELECT * FROM "{name}"')
            else:
                cursor = conn.execute(sql.SQL("SELECT * FROM {}").format(table_of(backend, name)))
            columns = [d[0] for d in cursor.description]
            rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
            found[name] = [r for r in rows if twin.ids & {str(v) for v in r.values()}]
    return found


# -- comparing twins --------------------------------------------------------------------


def shape(value: Any, refs: set[str], key: str = "") -> Any:
    """A value with what must differ between twins taken out: ids, reference codes,
    positions in the log. Everything else (times too: the twins were told at the
    same moments) is kept as it is."""
    if "position" in key and value is not None:
        return "<position>"
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        return {k: shape(v, refs, str(k)) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [shape(v, refs, key) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return "<sealed>"
    if isinstance(value, UUID):
        return "<id>"
    if isinstance(value, str):
        if value in refs:
            return "<ref>"
        parts = value.split(",")
        if all(is_uuid(part) for part in parts):
            return ",".join("<id>" for _ in parts)
    return value


def shaped_rows(rows: dict[str, list[dict[str, Any]]], refs: set[str]) -> dict[str, list[str]]:
    return {
        name: sorted(repr(shape(row, refs)) for row in table_rows)
        for name, table_rows in rows.items()
    }


def cells(value: Any) -> Iterable[Any]:
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        for v in value.values():
            yield from cells(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from cells(v)
    else:
        yield value


def planted_in(value: Any, twins: Iterable[Twin]) -> list[str]:
    """The planted texts found in any cell of ``value`` (text, or bytes as stored)."""
    texts = [t for twin in twins for t in twin.texts]
    hits = []
    for cell in cells(value):
        if isinstance(cell, memoryview):
            cell = cell.tobytes()
        as_bytes = cell if isinstance(cell, bytes | bytearray) else str(cell).encode()
        hits += [t for t in texts if t.encode() in as_bytes]
    return hits


# -- the test ---------------------------------------------------------------------------


def test_an_erased_case_leaves_no_personal_or_derived_value_in_any_view_or_audit_answer(
    rete: Rete, people: SimpleNamespace, clock: TestClock, backend: dict[str, str]
) -> None:
    p = people
    start = clock.at
    high = tell(rete, p, clock, high=True)
    end = clock.at
    clock.at = start  # the twin, step for step at the same moments
    low = tell(rete, p, clock, high=False)
    assert clock.at == end
    twins = (high, low)
    refs = {high.ref, low.ref}

    clock.advance(hours=2)  # both emergencies are past their acknowledgement deadline
    assert rete.escalations.run() == 2
    for twin in twins:
        rete.cases.get(p.anna, twin.ref)
        rete.referrals.get(p.paolo, twin.referrals[3])
        rete.audit.disclose(p.ugo, twin.ref, REVIEW)

    # While the cases live, the flag tells them apart: the comparison below sees it.
    seen = {twin.ref: read_everything(rete, p, twin) for twin in twins}  # the views caught up
    assert (seen[high.ref]["case"].high_risk, seen[low.ref]["case"].high_risk) == (True, False)
    live = {twin.ref: shaped_rows(rows_of(backend, twin), refs) for twin in twins}
    assert live[high.ref] != live[low.ref]

    clock.advance(minutes=5)
    for twin in twins:
        rete.cases.erase(p.chiara, twin.ref, WHY)
    clock.advance(minutes=5)
    answers = {twin.ref: read_everything(rete, p, twin) for twin in twins}
    audited = {twin.ref: audit_answers(rete, p, twin) for twin in twins}
    views = {twin.ref: rows_of(backend, twin) for twin in twins}

    # Every view table holds rows of the case (the story fills them all: extend it
    # when a view is added), and every column of them is the same for both twins.
    assert [name for name, rows in views[high.ref].items() if not rows] == []
    shaped = {ref: shaped_rows(rows, refs) for ref, rows in views.items()}
    differ = [
        (name, a, b)
        for name in view_tables()
        for a, b in zip(shaped[high.ref][name], shaped[low.ref][name], strict=True)
        if a != b
    ]
    assert differ == []

    # Every audit answer and every answer a service gets, field by field.
    told = {
        what: (shape(got[high.ref][what], refs), shape(got[low.ref][what], refs))
        for got in (audited, answers)
        for what in got[high.ref]
    }
    assert [(what, a, b) for what, (a, b) in told.items() if a != b] == []

    # The flag reads as unknown, not as "false" (which would say something too).
    assert answers[high.ref]["case"].high_risk is None
    assert {r.high_risk for r in answers[high.ref]["inboxes"]} == {None}

    # And none of her texts is anywhere.
    assert planted_in([views, audited, answers], twins) == []


def test_each_derived_field_is_a_field_of_its_event_and_not_a_personal_one() -> None:
    for cls in network_event_classes():
        derived = derived_fields(cls)
        assert derived <= set(typing.get_type_hints(cls)), cls.__qualname__
        assert not derived & personal_fields(cls), cls.__qualname__
    # Read without her key, so never erased with it: each one is argued where declared.
    assert derived_names() == {"high_risk"}
