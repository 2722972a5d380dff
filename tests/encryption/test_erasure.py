"""Issue 3, "done when" 4: after the erasure of one case, 0 of its personal fields
can be decrypted anywhere; 100% of the other case still decrypts; the erased
case's non-personal history replays; an erasure under legal hold is refused with
a problem type of its own.

Two cases are worked the same way (notes in several categories, one by the
recipient of a referral; a consent; a risk assessment raised by judgement;
referrals taken on, declined and withdrawn, with their reasons; a legal hold
placed and lifted). One is erased by the coordinator of the owner service, then
read back every way there is: the repository (every event of the case and of
its referrals), point-in-time replay at every version, the views, the HTTP API,
and by hand, opening every sealed personal blob with the key store.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import msgspec
import pytest
from encryption_support import CaseStory, open_outer, place, state_of, tell_case
from support.clock import TestClock
from support.http import Api
from support.people import people_of
from support.rawdb import RawDatabase, Row
from support.stories import refer

from application.rete import Rete
from domain.case import Case
from domain.entries import CaseStatus
from domain.erased import ERASED, Erased
from domain.errors import CaseErased, LegalHoldActive
from domain.events import withheld_fields
from domain.referral import Move, Referral
from infrastructure import event_codec
from infrastructure.bootstrap import build_keys
from infrastructure.crypto import sealing
from infrastructure.sealing_mapper import SnapshotErased
from infrastructure.settings import Settings

CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"
WHY = "her request (art. 17 GDPR)"


# -- reading a story back ----------------------------------------------------------


def streams(story: CaseStory) -> list[UUID]:
    return [story.id, *story.referrals]


def events_of(rete: Rete, story: CaseStory) -> list[Any]:
    store = rete.ctx.store
    return [e for s in streams(story) for e in store.events.get(s)]  # type: ignore[attr-defined]


def personal_fields(events: list[Any]) -> list[tuple[str, str, Any]]:
    """(event type, field, value) of every field of these events sealed under the
    case key: her data, and what is derived from it (the high-risk flag)."""
    return [
        (type(e).__qualname__, name, getattr(e, name))
        for e in events
        for name in sorted(withheld_fields(type(e)))
    ]


def non_personal(event: Any) -> tuple[str, dict[str, Any]]:
    hidden = withheld_fields(type(event))
    return type(event).__qualname__, {k: v for k, v in vars(event).items() if k not in hidden}


def case_facts(case: Case) -> dict[str, Any]:
    """Everything of a case but her data: states, services, actors, times."""
    facts = state_of(case)
    # Derived from her risk assessments, sealed with them: unknown once erased.
    facts.pop("high_risk")
    facts["entries"] = [replace(e, text=None) for e in case.entries]
    facts["assessments"] = [
        replace(a, answers={}, score=0, computed_level=None, level=None, justification=None)
        for a in case.assessments
    ]
    facts["legal_hold"] = replace(case.legal_hold, reason="") if case.legal_hold else None
    return facts


def case_personal(case: Case) -> list[Any]:
    values: list[Any] = [e.text for e in case.entries]
    for a in case.assessments:
        values += [a.answers, a.score, a.computed_level, a.level, a.justification]
    if case.legal_hold is not None:
        values.append(case.legal_hold.reason)
    return values


def referral_facts(referral: Referral) -> dict[str, Any]:
    return {k: v for k, v in state_of(referral).items() if k not in {"reason", "justification"}}


def history(rete: Rete, story: CaseStory, upto: dict[UUID, int] | None = None) -> dict:
    """Every stream of the story at every version: (non-personal facts, personal values)."""
    store = rete.ctx.store
    out: dict[tuple[UUID, int], tuple[dict[str, Any], list[Any]]] = {}
    for stream in streams(story):
        kind: Any = Case if stream == story.id else Referral
        last = (upto or {}).get(stream) or store.get(kind, stream).version
        for version in range(1, last + 1):
            agg = store.get(kind, stream, version=version)
            if kind is Case:
                out[(stream, version)] = (case_facts(agg), case_personal(agg))
            else:
                out[(stream, version)] = (referral_facts(agg), [agg.reason, agg.justification])
    return out


def sealed_personal(rete: Rete, raw: RawDatabase, story: CaseStory) -> list[tuple[Row, bytes]]:
    """Every row of the story that carries a personal blob, with that blob (opened
    from the outer seal with the system key)."""
    mine = set(streams(story))
    out = []
    for row in raw.rows():
        if row.stream in mine:
            _, _, record = open_outer(rete.ctx.keys, row)
            if record[2] is not None:
                out.append((row, record[2]))
    return out


def text_of(view: Any) -> str:
    return msgspec.json.encode(view).decode()


@pytest.fixture
def two(rete: Rete, people: SimpleNamespace, clock: TestClock) -> SimpleNamespace:
    return SimpleNamespace(
        erased=tell_case(rete, people, clock, tag="erased "),
        kept=tell_case(rete, people, clock, tag="kept "),
    )


# -- through the application -------------------------------------------------------------


def test_after_erasure_none_of_her_personal_fields_decrypts_anywhere_and_the_other_case_does(
    rete: Rete,
    make_rete: Callable[..., Rete],
    people: SimpleNamespace,
    two: SimpleNamespace,
    raw: RawDatabase,
    settings_for: Callable[..., Settings],
) -> None:
    erased, kept = two.erased, two.kept
    before = {s.id: history(rete, s) for s in (erased, kept)}
    events_before = {s.id: events_of(rete, s) for s in (erased, kept)}
    blobs_kept = sealed_personal(rete, raw, kept)
    versions = {k[0]: k[1] for k in sorted(before[erased.id])}
    assert len(personal_fields(events_before[erased.id])) >= 20

    view = rete.cases.erase(people.chiara, erased.ref, WHY)
    assert view.status == CaseStatus.ERASED

    for reader in (rete, make_rete()):  # this process, and a new one
        # The repository: every personal field of every event of the case and of its
        # referrals is the erased marker; 0 of them decrypts.
        after = events_of(reader, erased)
        fields = personal_fields(after)
        assert [f for f in fields if f[2] is not ERASED] == []
        assert {f[0] for f in fields} == {
            "Case.NoteAdded",
            "Case.RiskAssessed",
            "Case.LegalHoldPlaced",
            "Referral.Sent",
            "Referral.Moved",
        }
        # The non-personal history is intact, event by event, plus the erasure.
        store = reader.ctx.store
        for stream in streams(erased):
            was = [e for e in events_before[erased.id] if e.originator_id == stream]
            now = list(store.events.get(stream))  # type: ignore[attr-defined]
            assert [non_personal(e) for e in now[: len(was)]] == [non_personal(e) for e in was]
            added = [type(e) for e in now[len(was) :]]
            assert added == ([Case.ErasureRecorded] if stream == erased.id else [])
        erasure = reader.ctx.store.get(Case, erased.id).erasure
        assert erasure is not None and erasure.reason == WHY and erasure.erased_by == "chiara"

        # Point-in-time replay, at every version of every stream: the same facts as
        # before (states, services, kinds, urgency, times, actors), her data erased.
        replayed = history(reader, erased, upto=versions)
        for place_, (facts, _) in before[erased.id].items():
            assert replayed[place_][0] == facts, place_
            assert all(v is ERASED for v in replayed[place_][1]), place_
        assert any(personal for _, personal in replayed.values())

        # 100% of the other case still decrypts, at every version too.
        assert history(reader, kept) == before[kept.id]
        assert [vars(e) for e in events_of(reader, kept)] == [
            vars(e) for e in events_before[kept.id]
        ]
        assert not [f for f in personal_fields(events_of(reader, kept)) if f[2] is ERASED]

    # By hand: the key store opens none of the erased case's personal blobs (its key
    # is gone from every process, and from the database), and all of the other's.
    blobs_erased = sealed_personal(rete, raw, erased)
    kept_events = {(e.originator_id, e.originator_version): e for e in events_before[kept.id]}
    assert len(blobs_erased) == len([e for e in events_before[erased.id] if personal_of(e)])
    with build_keys(settings_for()) as fresh_keys:
        for keys in (rete.ctx.keys, fresh_keys):
            assert [row for row, blob in blobs_erased if keys.opening_key(key_of(blob))] == []
            for row, blob in blobs_kept:
                key = keys.opening_key(key_of(blob))
                assert key is not None
                opened = event_codec.unpack(sealing.open_(key, blob, place(row, "personal")))
                event = kept_events[(row.stream, row.version)]
                assert opened == {n: getattr(event, n) for n in withheld_fields(type(event))}
        assert fresh_keys.is_destroyed(f"case:{erased.id}")
        assert not fresh_keys.is_destroyed(f"case:{kept.id}")
    assert f"case:{erased.id}" not in {scope for _, scope, *_ in raw.key_rows()}
    assert f"case:{erased.id}" in raw.destroyed_scopes()


def personal_of(event: Any) -> bool:
    return bool(getattr(type(event), "PERSONAL_FIELDS", ()))


def key_of(blob: bytes) -> bytes:
    return sealing.key_id_of(blob)


def test_the_views_read_her_data_as_null_and_erased_and_the_other_case_in_full(
    rete: Rete, people: SimpleNamespace, two: SimpleNamespace
) -> None:
    erased, kept = two.erased, two.kept
    rete.cases.erase(people.chiara, erased.ref, WHY)

    view = rete.cases.get(people.chiara, erased.ref)
    assert view.status == "erased" and len(view.entries) == 6
    assert all(e.text is None and e.erased for e in view.entries)
    assert {e.category for e in view.entries} >= {"identity", "violence", "health", "children"}
    (assessment,) = view.risk_assessments
    assert assessment.erased and assessment.instrument_id == "rete-screening-v1"
    assert (assessment.answers, assessment.score, assessment.level) == (None, None, None)
    assert (assessment.computed_level, assessment.justification) == (None, None)
    assert len(view.referrals) == 3
    assert all(r.reason is None and r.justification is None and r.erased for r in view.referrals)
    assert {(r.recipient_service, r.status) for r in view.referrals} == {
        ("ss-cesano", "accepted"),
        ("pl-cesano", "declined"),
        ("ss-cesano", "withdrawn"),
    }
    taken = rete.referrals.get(people.bea, str(erased.referrals[0]))
    assert (taken.reason, taken.erased, taken.kind, taken.urgency) == (
        None,
        True,
        "social_support",
        "routine",
    )
    inbox = rete.referrals.list(people.bea, "inbox").items
    listed = [msgspec.json.encode(r).decode() for r in inbox]
    assert len(inbox) == 4
    assert all(r.erased == (r.case_id == str(erased.id)) for r in inbox)
    listed_cases = {c.reference_code: c.status for c in rete.cases.list(people.chiara).items}
    assert listed_cases[erased.ref] == "erased" and listed_cases[kept.ref] == "open"

    shown = text_of(view) + text_of(taken) + "".join(listed)
    assert [t for t in erased.texts if t in shown] == []

    # The other case, in full.
    other = rete.cases.get(people.chiara, kept.ref)
    other_text = text_of(other) + "".join(listed)
    visible = [t for t in kept.texts if "legal-hold" not in t and "-reason " not in t]
    assert [t for t in visible if t not in other_text] == []
    assert not any(e.erased for e in other.entries) and not other.risk_assessments[0].erased


def test_erasure_over_http_reads_as_erased_everywhere_in_the_api_and_twice_is_idempotent(
    rete: Rete,
    make_http: Callable[[Rete], Api],
    two: SimpleNamespace,
    raw: RawDatabase,
) -> None:
    erased, kept = two.erased, two.kept
    http = make_http(rete)
    assert http.post("anna", f"{CASES}/{erased.ref}/erasure", json={"reason": WHY}).json()[
        "code"
    ] == ("coordinator-required")
    assert http.post("bruna", f"{CASES}/{erased.ref}/erasure", json={"reason": WHY}).json()[
        "code"
    ] == ("not-owner-service")

    first = http.ok(http.post("chiara", f"{CASES}/{erased.ref}/erasure", json={"reason": WHY}))
    again = http.post("chiara", f"{CASES}/{erased.ref}/erasure", json={"reason": WHY})
    assert again.status_code == 200, again.text
    assert again.json() == first

    case = http.ok(http.get("chiara", f"{CASES}/{erased.ref}"))
    assert case["status"] == "erased"
    assert case["entries"] and all(e["text"] is None and e["erased"] for e in case["entries"])
    assert all(a["erased"] and a["justification"] is None for a in case["risk_assessments"])
    assert all(r["reason"] is None and r["erased"] for r in case["referrals"])
    taken = http.ok(http.get("bea", f"{REFERRALS}/{erased.referrals[0]}"))
    declined = http.ok(http.get("paolo", f"{REFERRALS}/{erased.referrals[1]}"))
    assert (taken["reason"], taken["erased"], taken["status"]) == (None, True, "accepted")
    assert (declined["reason"], declined["justification"], declined["erased"]) == (
        None,
        None,
        True,
    )
    inbox = http.ok(http.get("bea", REFERRALS, params={"box": "inbox"}))
    bodies = [first, case, taken, declined, inbox]
    answered = "".join(msgspec.json.encode(b).decode() for b in bodies)
    assert [t for t in erased.texts if t in answered] == []

    # The other case, over HTTP, in full; and nothing of the erased case's key is left.
    other = http.ok(http.get("chiara", f"{CASES}/{kept.ref}"))
    assert {e["text"] for e in other["entries"]} == {
        t for t in kept.texts if t.startswith("kept note-")
    }
    assert f"case:{erased.id}" not in {scope for _, scope, *_ in raw.key_rows()}
    assert f"case:{kept.id}" in {scope for _, scope, *_ in raw.key_rows()}
    assert f"case:{erased.id}" in raw.destroyed_scopes()


def test_an_erasure_under_legal_hold_is_refused_with_a_problem_type_of_its_own(
    rete: Rete, make_http: Callable[[Rete], Api], two: SimpleNamespace, raw: RawDatabase
) -> None:
    held = two.erased
    http = make_http(rete)
    http.ok(http.post("chiara", f"{CASES}/{held.ref}/legal-hold", json={"reason": "proceedings"}))

    refused = http.post("chiara", f"{CASES}/{held.ref}/erasure", json={"reason": WHY})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "urn:rete:problem:legal-hold"
    assert problem["code"] == "legal-hold" and problem["status"] == 409
    with pytest.raises(LegalHoldActive):
        rete.cases.erase(people_of(rete).chiara, held.ref, WHY)

    # Nothing was erased: her key is there and her notes read.
    assert f"case:{held.id}" in {scope for _, scope, *_ in raw.key_rows()}
    assert raw.destroyed_scopes() == set()
    case = http.ok(http.get("chiara", f"{CASES}/{held.ref}"))
    assert case["status"] == "open" and case["legal_hold"] is True
    assert not any(e["erased"] for e in case["entries"])
    assert {e["text"] for e in case["entries"]} >= {t for t in held.texts if " note-" in t}

    http.ok(http.delete("chiara", f"{CASES}/{held.ref}/legal-hold"))
    erased = http.ok(http.post("chiara", f"{CASES}/{held.ref}/erasure", json={"reason": WHY}))
    assert erased["status"] == "erased"


# -- snapshots ---------------------------------------------------------------------------


def test_an_erased_case_with_snapshots_reads_from_its_events(
    make_rete: Callable[..., Rete], clock: TestClock, raw: RawDatabase
) -> None:
    rete = make_rete(RETE_SNAPSHOT_INTERVAL="2")
    p = people_of(rete)
    erased = tell_case(rete, p, clock, tag="erased ")
    kept = tell_case(rete, p, clock, tag="kept ")
    snapshotted = {row.stream for row in raw.rows(raw.snapshots)}
    assert erased.id in snapshotted and set(erased.referrals) & snapshotted
    before = history(rete, erased)
    versions = {k[0]: k[1] for k in sorted(before)}

    rete.cases.erase(p.chiara, erased.ref, WHY)

    for reader in (rete, make_rete(RETE_SNAPSHOT_INTERVAL="2")):
        # Her newest snapshot no longer opens (all of it is hers)...
        snapshots = reader.ctx.store.snapshots  # type: ignore[attr-defined]
        with pytest.raises(SnapshotErased):
            list(snapshots.get(erased.id, desc=True, limit=1))
        # ...so the case is read from its events.
        case = reader.ctx.store.get(Case, erased.id)
        assert case.status == CaseStatus.ERASED
        assert case.entries and all(e.text is ERASED for e in case.entries)
        assert case.risk_level is ERASED
        replayed = history(reader, erased, upto=versions)
        assert {k: v[0] for k, v in replayed.items()} == {k: v[0] for k, v in before.items()}
        assert all(v is ERASED for _, personal in replayed.values() for v in personal)
        view = reader.cases.get(p.chiara, erased.ref)
        assert all(e.erased for e in view.entries) and all(r.erased for r in view.referrals)
        other = reader.ctx.store.get(Case, kept.id)
        assert [e.text for e in other.entries] == [t for t in kept.texts if " note-" in t]


# -- racing writes ------------------------------------------------------------------------


def one_more_referral(rete: Rete, p: SimpleNamespace, case_ref: str) -> Any:
    """Another referral of the case, not yet acknowledged (so still declinable)."""
    return refer(rete, p.anna, case_ref, reason="one more", scope=["identity"])


def note(rete: Rete, p: SimpleNamespace, story: CaseStory) -> None:
    rete.cases.add_note(p.anna, story.ref, "violence", "written while she was being erased")


def decline(rete: Rete, p: SimpleNamespace, story: CaseStory) -> None:
    rete.referrals.move(p.bea, str(story.referrals[0]), Move.DECLINE, "declined meanwhile")


@pytest.mark.parametrize("write", [note, decline], ids=["a note", "a referral move"])
@pytest.mark.parametrize("where", ["in the same process", "in another process"])
def test_a_write_racing_an_erasure_fails_with_case_erased_and_writes_nothing(
    write: Callable[..., None],
    where: str,
    make_rete: Callable[..., Rete],
    clock: TestClock,
    raw: RawDatabase,
) -> None:
    # The writer keeps no case key in memory (RETE_KEY_CACHE_SECONDS=0): the bound
    # within which another process's erasure reaches it is zero.
    writer = make_rete(RETE_KEY_CACHE_SECONDS="0")
    p = people_of(writer)
    story = tell_case(writer, p, clock)
    if write is decline:  # the referral taken on is declinable only before acceptance
        story.referrals[0] = UUID(one_more_referral(writer, p, story.ref).id)
    eraser = writer if where == "in the same process" else make_rete(TestClock(clock.at))
    before = raw.rows()

    # Loaded before the erasure, saved after her key was destroyed.
    clock.meanwhile(lambda: eraser.cases.erase(people_of(eraser).chiara, story.ref, WHY))
    with pytest.raises(CaseErased):
        write(writer, p, story)

    written = raw.rows()[len(before) :]
    assert [r.topic for r in written] == ["domain.case:Case.ErasureRecorded"]


def test_a_write_racing_an_erasure_over_http_answers_case_erased(
    rete: Rete, make_http: Callable[[Rete], Api], clock: TestClock, people: SimpleNamespace
) -> None:
    story = tell_case(rete, people, clock)
    http = make_http(rete)
    clock.meanwhile(lambda: rete.cases.erase(people.chiara, story.ref, WHY))
    answer = http.post(
        "anna", f"{CASES}/{story.ref}/notes", json={"category": "safety", "text": "meanwhile"}
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["type"] == "urn:rete:problem:case-erased"


@pytest.fixture
def cached_writer_race(
    make_rete: Callable[..., Rete], clock: TestClock, raw: RawDatabase
) -> SimpleNamespace:
    """Another worker, which keeps case keys in memory (5 s by default; an hour here,
    so that a slow machine cannot let it expire), has just used her key when a
    coordinator erases the case elsewhere, between its load and its save."""
    writer = make_rete(RETE_KEY_CACHE_SECONDS="3600")
    p = people_of(writer)
    story = tell_case(writer, p, clock)
    fresh = one_more_referral(writer, p, story.ref)
    eraser = make_rete(TestClock(clock.at))
    clock.meanwhile(lambda: eraser.cases.erase(people_of(eraser).chiara, story.ref, WHY))
    before = len(raw.rows())
    try:
        writer.referrals.move(p.bea, fresh.id, Move.DECLINE, "declined meanwhile, in clear?")
        outcome: BaseException | None = None
    except CaseErased as e:
        outcome = e
    return SimpleNamespace(
        outcome=outcome, referral=UUID(fresh.id), written=raw.rows()[before:], story=story
    )


def test_within_the_key_cache_bound_a_racing_write_elsewhere_leaves_nothing_readable(
    cached_writer_race: SimpleNamespace, make_rete: Callable[..., Rete]
) -> None:
    race = cached_writer_race
    reader = make_rete()
    moved = [
        e
        for e in reader.ctx.store.events.get(race.referral)  # type: ignore[attr-defined]
        if isinstance(e, Referral.Moved)
    ]
    if race.outcome is None:  # written, sealed under the destroyed key
        assert [e.reason for e in moved] == [ERASED]
    else:
        assert moved == []
    view = reader.referrals.get(people_of(reader).bea, str(race.referral))
    assert view.erased and view.reason is None


def test_within_the_key_cache_bound_a_racing_write_elsewhere_fails_with_case_erased(
    cached_writer_race: SimpleNamespace,
) -> None:
    assert isinstance(cached_writer_race.outcome, CaseErased)
    assert [r.topic for r in cached_writer_race.written] == ["domain.case:Case.ErasureRecorded"]


def test_a_process_still_holding_her_key_shows_the_case_as_erased(
    make_rete: Callable[..., Rete], clock: TestClock
) -> None:
    other = make_rete()  # default cache: it keeps her key for a few seconds
    p = people_of(other)
    story = tell_case(other, p, clock)
    assert not any(e.erased for e in other.cases.get(p.chiara, story.ref).entries)

    make_rete(TestClock(clock.at)).cases.erase(p.chiara, story.ref, WHY)

    view = other.cases.get(p.chiara, story.ref)
    assert view.status == "erased"
    assert all(e.text is None and e.erased for e in view.entries)
    assert all(a.erased and a.justification is None for a in view.risk_assessments)
    assert all(r.reason is None and r.erased for r in view.referrals)
    assert [t for t in story.texts if t in text_of(view)] == []


def test_erasing_twice_is_idempotent_and_the_keys_stay_destroyed(
    rete: Rete, people: SimpleNamespace, two: SimpleNamespace, raw: RawDatabase
) -> None:
    first = rete.cases.erase(people.chiara, two.erased.ref, WHY)
    events = len(raw.rows())
    second = rete.cases.erase(people.chiara, two.erased.ref, "asked again")
    assert second == first
    assert len(raw.rows()) == events  # no second erasure event
    assert rete.ctx.keys.destroy(f"case:{two.erased.id}") == 0
    assert f"case:{two.erased.id}" not in {scope for _, scope, *_ in raw.key_rows()}
    assert rete.ctx.store.get(Case, two.erased.id).erasure.reason == WHY  # type: ignore[union-attr]


# -- the contract the mapper relies on ---------------------------------------------------------


def event_classes() -> list[type]:
    return [
        v
        for owner in (Case, Referral)
        for v in vars(owner).values()
        if isinstance(v, type) and hasattr(v, "apply") and hasattr(v, "__annotations__")
    ]


def test_every_field_that_can_read_as_erased_is_sealed_under_the_case_key_and_only_those() -> None:
    checked = 0
    for cls in event_classes():
        hints = typing.get_type_hints(cls)
        can_be_erased = {n for n, h in hints.items() if Erased in typing.get_args(h)}
        assert set(withheld_fields(cls)) == can_be_erased, cls.__qualname__
        checked += bool(can_be_erased)
    assert checked == 5  # NoteAdded, RiskAssessed, LegalHoldPlaced, Sent, Moved
