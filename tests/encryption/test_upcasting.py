"""Issue 3, scope: "Upcasting of old event versions keeps working", through the
same sealing mapper, on both backends.

What the mapper does (read in ``infrastructure/sealing_mapper.py``): it seals the
personal fields of the events of two aggregates only, ``Case`` and ``Referral``
(it knows which case each of their events belongs to); every other aggregate's
events are sealed whole under the system key. So:

* upcasting is shown on a small aggregate of this module (no personal fields),
  events and snapshots alike;
* and on a case event itself, whose class gains a ``class_version`` and an
  upcaster: its personal field is decrypted before the upcaster runs;
* an aggregate the mapper does not know that declares ``PERSONAL_FIELDS`` is
  refused loudly (nothing stored), never stored under the system key alone;
* an upcaster of a personal field on an *erased* case sees the ERASED marker.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from encryption_support import files_under, found_in, spellings, tell_case
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import _topic_cache, get_topic
from support.clock import TestClock
from support.rawdb import RawDatabase

from application.rete import Rete
from domain.case import Case
from domain.erased import ERASED, unless_erased
from infrastructure.bootstrap import build_store
from infrastructure.settings import Settings

THIS = sys.modules[__name__]


# -- a diary, as first written (version 1) ----------------------------------------------


class Diary(Aggregate):
    """Version 1: a title, and pages of text."""

    @event("Started")
    def __init__(self, title: str) -> None:
        self.title = title
        self.pages: list[str] = []

    @event("Written")
    def write(self, text: str) -> None:
        self.pages.append(text)


DiaryV1 = Diary
del Diary  # the library refuses to define a module's class twice under one name


# -- the same diary, later (version 2) ------------------------------------------------------


def _owner_unknown(state: dict[str, Any]) -> None:
    """Version 1 named no owner: neither its ``Started`` events nor its snapshots."""
    state["owner"] = "unknown"


class Diary(Aggregate):  # type: ignore[no-redef]
    """Version 2: every diary has an owner, and every page a mood."""

    class_version = 2

    class Started(Aggregate.Created):
        class_version = 2
        title: str
        owner: str

        upcast_v1_v2 = staticmethod(_owner_unknown)

    class Written(Aggregate.Event):
        class_version = 2
        text: str
        mood: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["text"] = state["text"].upper()
            state["mood"] = "unrecorded"

        def apply(self, diary: Diary) -> None:  # type: ignore[override]
            diary.pages.append(f"{self.text} ({self.mood})")

    def __init__(self, title: str, owner: str) -> None:
        self.title = title
        self.owner = owner
        self.pages: list[str] = []

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:  # snapshots of version 1
        _owner_unknown(state)
        state["pages"] = [f"{p.upper()} (unrecorded)" for p in state["pages"]]


DiaryV2 = Diary


def _forget_diary_topics() -> None:
    for topic in [t for t in _topic_cache if t.startswith(f"{__name__}:Diary")]:
        del _topic_cache[topic]


@pytest.fixture
def deploy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[type], None]]:
    """``deploy(DiaryV1)`` then ``deploy(DiaryV2)``: the class a stored topic resolves to."""

    def to(version: type) -> None:
        _forget_diary_topics()
        monkeypatch.setattr(THIS, "Diary", version)

    yield to
    _forget_diary_topics()


def fresh(settings: Settings) -> Any:
    return build_store(settings)


def test_events_and_snapshots_of_version_1_load_after_the_class_gains_version_2(
    deploy: Callable[[type], None], settings_for: Callable[..., Settings], raw: RawDatabase
) -> None:
    settings = settings_for()
    deploy(DiaryV1)
    old = fresh(settings)
    try:
        diary = DiaryV1("what happened")
        diary.write("first")
        diary.write("second")
        old.save(diary)
        with_snapshot = DiaryV1("kept short")
        with_snapshot.write("only page")
        old.save(with_snapshot)
        old.take_snapshot(with_snapshot.id)
        assert get_topic(DiaryV1) == f"{__name__}:Diary"
    finally:
        old.close()
    stored = raw.rows()
    assert [r.topic for r in stored if r.stream == diary.id] == [
        f"{__name__}:Diary.Started",
        f"{__name__}:Diary.Written",
        f"{__name__}:Diary.Written",
    ]
    assert [r.stream for r in raw.rows(raw.snapshots)] == [with_snapshot.id]

    deploy(DiaryV2)
    new = fresh(settings)
    try:
        loaded = new.get(Aggregate, diary.id)
        assert isinstance(loaded, DiaryV2)
        assert (loaded.title, loaded.owner) == ("what happened", "unknown")
        assert loaded.pages == ["FIRST (unrecorded)", "SECOND (unrecorded)"]
        from_snapshot = new.get(Aggregate, with_snapshot.id)
        assert (from_snapshot.owner, from_snapshot.pages) == ("unknown", ["ONLY PAGE (unrecorded)"])

        # Written now at version 2, read back as written: no upcaster runs on it.
        loaded.trigger_event(DiaryV2.Written, text="third", mood="calm")
        new.save(loaded)
        again = fresh(settings)
        try:
            assert again.get(Aggregate, diary.id).pages[-1] == "third (calm)"
        finally:
            again.close()
    finally:
        new.close()
    assert raw.rows()[: len(stored)] == stored  # nothing old was rewritten


# -- a case event gains a version --------------------------------------------------------------


def add_text_version(monkeypatch: pytest.MonkeyPatch, upcast: Callable[[dict], None]) -> None:
    """``Case.NoteAdded`` gains a version, with ``upcast`` from the one its notes were stored at."""
    stored = getattr(Case.NoteAdded, "class_version", 1)
    monkeypatch.setattr(Case.NoteAdded, "class_version", stored + 1, raising=False)
    upcaster = f"upcast_v{stored}_v{stored + 1}"
    monkeypatch.setattr(Case.NoteAdded, upcaster, staticmethod(upcast), raising=False)


def tidy(state: dict[str, Any]) -> None:
    # Version 2 keeps notes tidy. Her text may be the erased marker: pass it through.
    state["text"] = unless_erased(state["text"], lambda t: f"[v1] {t}")


@pytest.fixture
def story(
    monkeypatch: pytest.MonkeyPatch, rete: Rete, people: SimpleNamespace, clock: TestClock
) -> SimpleNamespace:
    """A case told at version 1; then ``Case.NoteAdded`` gains a version that ``tidy``s."""
    told = tell_case(rete, people, clock)
    add_text_version(monkeypatch, tidy)
    return told


def test_a_case_event_of_version_1_loads_with_its_personal_field_decrypted_then_upcast(
    story: SimpleNamespace,
    rete: Rete,
    people: SimpleNamespace,
    settings_for: Callable[..., Settings],
) -> None:
    notes = [t for t in story.texts if " note-" in t or t.startswith("note-")]

    store = fresh(settings_for())
    try:
        case = store.get(Case, story.id)
        assert [e.text for e in case.entries] == [f"[v1] {t}" for t in notes]
        rete.cases.add_note(people.anna, story.ref, "legal", "written at version 2")
        assert store.get(Case, story.id).entries[-1].text == "written at version 2"
    finally:
        store.close()


def test_an_upcaster_of_a_personal_field_reads_an_erased_case_without_crashing(
    story: SimpleNamespace,
    rete: Rete,
    people: SimpleNamespace,
    settings_for: Callable[..., Settings],
) -> None:
    rete.cases.erase(people.chiara, story.ref, "her request")

    store = fresh(settings_for())
    try:
        case = store.get(Case, story.id)
    finally:
        store.close()
    assert case.entries and all(e.text is ERASED for e in case.entries)


# -- an aggregate the mapper does not know, with personal fields --------------------------------


class Confidence(Aggregate):
    """Not a case, nor a referral: it names no case whose key could seal her words."""

    class Told(Aggregate.Created):
        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"words"})
        words: str

    class Retold(Aggregate.Event):
        PERSONAL_FIELDS: ClassVar[frozenset[str]] = frozenset({"words"})
        words: str

    def __init__(self, words: str) -> None:
        self.words = words


def test_an_aggregate_that_is_not_a_case_with_personal_fields_is_refused_and_nothing_stored(
    settings_for: Callable[..., Settings], raw: RawDatabase, tmp_path: Path
) -> None:
    store = fresh(settings_for())
    secret = f"MARKER-confidence-{uuid4().hex}"
    try:
        told = Confidence(words=secret)
        with pytest.raises((TypeError, ValueError), match="personal"):
            store.save(told)
        assert store.recorder.select_events(told.id) == []
    finally:
        store.close()
    assert [r for r in raw.rows() if r.stream == told.id] == []
    written = files_under(tmp_path) + ([] if raw.sqlite else raw.everything())
    assert found_in(written, {secret: spellings(secret)}) == []


def test_the_same_aggregate_without_personal_fields_is_sealed_whole_under_the_system_key(
    settings_for: Callable[..., Settings], raw: RawDatabase
) -> None:
    """The other side of the refusal: a non-case aggregate is stored, all of it sealed."""
    store = fresh(settings_for())
    words = f"MARKER-plain-{uuid4().hex}"
    try:
        diary = DiaryV2(title=words, owner="the test")
        store.save(diary)
        assert store.get(Aggregate, diary.id).title == words
    finally:
        store.close()
    (row,) = [r for r in raw.rows() if r.stream == UUID(str(diary.id))]
    assert not any(s in row.state for s in spellings(words))
