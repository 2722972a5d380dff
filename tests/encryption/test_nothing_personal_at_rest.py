"""Issue 3, "done when" 1: nothing personal is at rest in plaintext.

A unique marker is planted in every personal place (a note in each of the eight
categories, a referral's reason and justification on each legal basis, the
reasons of its moves, a risk assessment's justification, a legal hold's
reason); the synthetic demo is loaded on the same database. Then every byte the
system wrote is scanned: every file under the test's folder (the SQLite
database with its WAL and shared-memory files, read as written, without a
checkpoint; the key file under ``var/``), and on PostgreSQL every row of every
table of the test's schema. The same markers are read back through the
application, so the test cannot pass by not writing them. The same story over
HTTP leaves no marker in the logs either.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import pytest
from encryption_support import CATEGORIES, Marker, files_under, found_in, spellings
from support.http import Api
from support.rawdb import RawDatabase, is_sqlite
from support.stories import record_consent, refer, refer_to_protect

from application.rete import Rete
from domain.case import Case
from domain.referral import Move, Referral
from infrastructure.logging import configure_logging

INSTRUMENT = "rete-screening-v1"
CASES = "/api/v1/cases"
REFERRALS = "/api/v1/referrals"

# Every personal place a story can write to.
PLACES = (
    *(f"note-{c}" for c in CATEGORIES),
    "risk-justification",
    "vital-reason",
    "vital-justification",
    "acknowledge-reason",
    "accept-reason",
    "consent-reason",
    "decline-reason",
    "withdrawn-referral-reason",
    "withdraw-reason",
    "legal-hold-reason",
    "mandatory-reason",
    "mandatory-justification",
)


@dataclass
class Planted:
    markers: dict[str, Marker] = field(default_factory=lambda: {p: Marker(p) for p in PLACES})
    case_ref: str = ""
    health_ref: str = ""
    referrals: dict[str, str] = field(default_factory=dict)

    def text(self, place: str) -> str:
        return self.markers[place].text

    def needles(self) -> dict[str, list[bytes]]:
        return {m.text: m.spellings() for m in self.markers.values()}


def no_answers(rete: Rete) -> dict[str, bool]:
    return {item.id: False for item in rete.ctx.instrument(INSTRUMENT).items}


def plant(rete: Rete, p: SimpleNamespace) -> Planted:
    """The whole story, through the application, one marker per personal place."""
    planted = Planted()
    t = planted.text
    ref = planted.case_ref = rete.cases.open(p.anna).reference_code
    for category in CATEGORIES:  # the CAV may hold every category
        rete.cases.add_note(p.anna, ref, category, t(f"note-{category}"))
    # Professional judgement raises the computed "low": it needs a justification.
    rete.cases.assess_risk(
        p.anna, ref, INSTRUMENT, no_answers(rete), "high", t("risk-justification")
    )
    vital = refer_to_protect(rete, p.chiara, ref, t("vital-reason"), t("vital-justification"))
    rete.referrals.move(p.paolo, vital.id, Move.ACKNOWLEDGE, t("acknowledge-reason"))
    rete.referrals.move(p.paolo, vital.id, Move.ACCEPT, t("accept-reason"))
    record_consent(rete, p.anna, ref)
    declined = refer(rete, p.anna, ref, reason=t("consent-reason"))
    rete.referrals.move(p.bea, declined.id, Move.DECLINE, t("decline-reason"))
    withdrawn = refer(rete, p.anna, ref, reason=t("withdrawn-referral-reason"))
    rete.referrals.move(p.anna, withdrawn.id, Move.WITHDRAW, t("withdraw-reason"))
    rete.cases.place_legal_hold(p.chiara, ref, t("legal-hold-reason"))

    # A mandatory report from the emergency room (a public official).
    href = planted.health_ref = rete.cases.open(p.marta).reference_code
    mandatory = rete.referrals.refer(
        p.marta,
        href,
        recipient_service="pl-cesano",
        kind="protection_measures",
        urgency="urgent",
        reason=t("mandatory-reason"),
        scope=["violence"],
        legal_basis="legal_obligation",
        statute="art. 365 c.p.",
        justification=t("mandatory-justification"),
    )
    planted.referrals = {
        "vital": vital.id,
        "declined": declined.id,
        "withdrawn": withdrawn.id,
        "mandatory": mandatory.id,
    }
    return planted


def personal_values(event: object) -> Iterator[object]:
    for name in getattr(type(event), "PERSONAL_FIELDS", ()):
        yield getattr(event, name)


def read_back(rete: Rete, p: SimpleNamespace, planted: Planted) -> set[str]:
    """Every personal text of the story, as the application reads it."""
    store = rete.ctx.store
    seen: set[str | None] = set()
    view = rete.cases.get(p.chiara, planted.case_ref)
    seen |= {e.text for e in view.entries}
    seen |= {a.justification for a in view.risk_assessments}
    for r in view.referrals:
        seen |= {r.reason, r.justification}
    mandatory = rete.referrals.get(p.paolo, planted.referrals["mandatory"])
    seen |= {mandatory.reason, mandatory.justification}
    case = store.get(Case, UUID(view.id))
    assert case.legal_hold is not None
    seen.add(case.legal_hold.reason)  # type: ignore[arg-type]
    for rid in planted.referrals.values():  # the reasons of the moves live in the events
        for event in store.events.get(UUID(rid)):  # type: ignore[attr-defined]
            if isinstance(event, Referral.Moved):
                seen.add(event.reason)  # type: ignore[arg-type]
    return {s for s in seen if isinstance(s, str)}


def at_rest(root: Path, raw: RawDatabase) -> list[tuple[str, bytes]]:
    """Every byte the system wrote for this test: the files under the test's
    folder (SQLite database, WAL, shared memory, var/), and on PostgreSQL every
    row of every table of the schema."""
    chunks = files_under(root)
    assert any(name.startswith("var") for name, _ in chunks), "the key file is scanned too"
    if not raw.sqlite:
        chunks += raw.everything()
    return chunks


def assert_scanned_the_wal(chunks: list[tuple[str, bytes]]) -> None:
    names = {name for name, _ in chunks}
    assert {"rete.sqlite", "rete.sqlite-wal"} <= names, names


@pytest.fixture
def story(rete: Rete, people: SimpleNamespace) -> Planted:
    return plant(rete, people)


def test_every_planted_marker_is_readable_through_the_application_and_nowhere_at_rest(
    backend: dict[str, str],
    rete: Rete,
    people: SimpleNamespace,
    story: Planted,
    raw: RawDatabase,
    tmp_path: Path,
) -> None:
    assert read_back(rete, people, story) == {m.text for m in story.markers.values()}

    # While the application is still open: the WAL and -shm as written.
    live = at_rest(tmp_path, raw)
    if is_sqlite(backend):
        assert_scanned_the_wal(live)
    assert found_in(live, story.needles()) == []

    rete.close()
    assert found_in(at_rest(tmp_path, raw), story.needles()) == []


def test_the_demo_on_the_same_database_leaves_none_of_its_personal_strings_at_rest(
    backend: dict[str, str],
    rete: Rete,
    story: Planted,
    raw: RawDatabase,
    tmp_path: Path,
) -> None:
    from api.demo import load_demo

    lines = load_demo(rete)
    assert len(lines) > 20

    # The demo's personal strings, as the application decrypts them from every event.
    store = rete.ctx.store
    demo_strings: set[str] = set()
    for notification in store.recorder.select_notifications(start=1, limit=100_000):  # type: ignore[attr-defined]
        event = store.mapper.to_domain_event(notification)  # type: ignore[attr-defined]
        for value in personal_values(event):
            texts = value.keys() if isinstance(value, dict) else [value]
            demo_strings |= {s for s in texts if isinstance(s, str) and len(s) >= 8}
    demo_strings -= {m.text for m in story.markers.values()}
    # An instrument's item ids name its published questions (an answer is personal,
    # the question is not); the views' schema names some of them ("escalation").
    demo_strings -= {item.id for i in rete.ctx.instruments.values() for item in i.items}
    assert len(demo_strings) > 40, "the demo wrote its notes, reasons and justifications"
    needles = {**story.needles(), **{s: spellings(s) for s in demo_strings}}

    live = at_rest(tmp_path, raw)
    if is_sqlite(backend):
        assert_scanned_the_wal(live)
    assert found_in(live, needles) == []
    rete.close()
    assert found_in(at_rest(tmp_path, raw), needles) == []


# -- over HTTP: the logs too ------------------------------------------------------


def http_story(http: Api, m: dict[str, Marker]) -> tuple[str, int]:
    """The same story over HTTP, plus refused requests carrying markers; returns the
    case reference and how many requests were made."""
    calls = 0

    def post(who: str, path: str, status: int, body: object = None) -> dict:
        nonlocal calls
        calls += 1
        return http.ok(http.post(who, path, json=body), status)

    ref = post("anna", CASES, 201)["reference_code"]
    for category in CATEGORIES:
        post("anna", f"{CASES}/{ref}/notes", 201, {"category": category, "text": m[category].text})
    items = ["escalation", "strangulation", "weapon", "death_threats", "separation", "stalking"]
    items += ["pregnancy", "children_threatened", "substance_abuse", "protection_order_breach"]
    post(
        "anna",
        f"{CASES}/{ref}/risk-assessments",
        201,
        {
            "instrument_id": INSTRUMENT,
            "answers": dict.fromkeys([*items, "her_fear"], False),
            "judgement": "high",
            "justification": m["risk"].text,
        },
    )
    vital = post(
        "chiara",
        f"{CASES}/{ref}/referrals",
        201,
        {
            "recipient_service": "pl-cesano",
            "kind": "protection_measures",
            "urgency": "emergency",
            "reason": m["vital-reason"].text,
            "scope": ["safety", "violence"],
            "legal_basis": "vital_interest",
            "justification": m["vital-justification"].text,
        },
    )
    post("paolo", f"{REFERRALS}/{vital['id']}/acknowledge", 200)
    post(
        "anna",
        f"{CASES}/{ref}/consents",
        201,
        {
            "recipient_kinds": ["social_services"],
            "purposes": ["social_support"],
            "categories": ["identity", "violence"],
        },
    )
    on_consent = {
        "recipient_service": "ss-cesano",
        "kind": "social_support",
        "urgency": "routine",
        "scope": ["identity", "violence"],
        "legal_basis": "consent",
    }
    declined = post(
        "anna", f"{CASES}/{ref}/referrals", 201, {**on_consent, "reason": m["consent"].text}
    )
    post("bea", f"{REFERRALS}/{declined['id']}/decline", 200, {"reason": m["decline"].text})
    withdrawn = post(
        "anna", f"{CASES}/{ref}/referrals", 201, {**on_consent, "reason": m["withdrawn"].text}
    )
    post("anna", f"{REFERRALS}/{withdrawn['id']}/withdraw", 200, {"reason": m["withdraw"].text})
    post("chiara", f"{CASES}/{ref}/legal-hold", 200, {"reason": m["hold"].text})
    href = post("marta", CASES, 201)["reference_code"]
    post(
        "marta",
        f"{CASES}/{href}/referrals",
        201,
        {
            "recipient_service": "pl-cesano",
            "kind": "protection_measures",
            "urgency": "urgent",
            "reason": m["mandatory-reason"].text,
            "scope": ["violence"],
            "legal_basis": "legal_obligation",
            "statute": "art. 365 c.p.",
            "justification": m["mandatory-justification"].text,
        },
    )

    # Refused requests carrying personal text: in a body, a query string, a path.
    refused = [
        http.post(
            "anna", f"{CASES}/{ref}/notes", json={"category": "gossip", "text": m["bad"].text}
        ),
        http.post("anna", f"{CASES}/{ref}/notes", json={"category": "x", "x": m["bad"].text}),
        http.post(
            "paolo", f"{CASES}/{ref}/notes", json={"category": "health", "text": m["bad"].text}
        ),
        http.get("anna", CASES, params={"cursor": m["query"].text}),
        http.get("anna", f"{CASES}/{m['path'].text}"),
        http.post("anna", f"{CASES}/{ref}/erasure", json={"reason": m["bad"].text}),
    ]
    assert all(400 <= r.status_code < 500 for r in refused), [r.status_code for r in refused]
    return ref, calls + len(refused)


HTTP_PLACES = (
    *CATEGORIES,
    "risk",
    "vital-reason",
    "vital-justification",
    "consent",
    "decline",
    "withdrawn",
    "withdraw",
    "hold",
    "mandatory-reason",
    "mandatory-justification",
    "bad",
    "query",
    "path",
)


def test_over_http_no_marker_reaches_the_logs_nor_the_disk(
    backend: dict[str, str],
    rete: Rete,
    make_http: Callable[[Rete], Api],
    raw: RawDatabase,
    tmp_path: Path,
) -> None:
    http = make_http(rete)
    stream = io.StringIO()
    configure_logging("json", stream)  # after create_app, which configured it as the app does
    try:
        m = {p: Marker(f"http-{p}") for p in HTTP_PLACES}
        ref, requests = http_story(http, m)
        case = http.ok(http.get("chiara", f"{CASES}/{ref}"))
    finally:
        logs = stream.getvalue()
        configure_logging("console")

    # The stored markers are readable over HTTP (so they were written)...
    shown = {e["text"] for e in case["entries"]} | {
        a["justification"] for a in case["risk_assessments"]
    }
    assert {m[c].text for c in CATEGORIES} | {m["risk"].text} == shown
    assert {r["reason"] for r in case["referrals"]} == {
        m["vital-reason"].text,
        m["consent"].text,
        m["withdrawn"].text,
    }
    hold = rete.ctx.store.get(Case, UUID(case["id"])).legal_hold  # type: ignore[attr-defined]
    assert hold is not None and hold.reason == m["hold"].text

    # ...the request log has one line per request, and no marker in any of them.
    assert logs.count('"event": "request"') >= requests + 1
    needles = {x.text: x.spellings() for x in m.values()}
    assert found_in([("log output", logs.encode("utf-8"))], needles) == []

    # Nor is any of them at rest.
    stored = {k: v for k, v in needles.items() if k not in {m["query"].text, m["path"].text}}
    live = at_rest(tmp_path, raw)
    if is_sqlite(backend):
        assert_scanned_the_wal(live)
    assert found_in(live, stored) == []


def test_the_scan_is_not_blind_a_marker_written_in_clear_is_found(
    backend: dict[str, str], rete: Rete, people: SimpleNamespace, raw: RawDatabase, tmp_path: Path
) -> None:
    """The control: the same scan finds a marker that a careless writer put in clear,
    in the WAL of a live SQLite database, in a PostgreSQL row, in UTF-16 or in a file."""
    rete.cases.open(people.anna)
    in_row, in_utf16, in_file = Marker("clear-row"), Marker("clear-utf16"), Marker("clear-file")
    with raw.connect() as conn:
        table = "careless" if raw.sqlite else f'"{raw.schema}".careless'
        conn.execute(f"CREATE TABLE {table} (note TEXT, blob {'BLOB' if raw.sqlite else 'BYTEA'})")
        param = "?" if raw.sqlite else "%s"
        conn.execute(
            f"INSERT INTO {table} VALUES ({param}, {param})",
            (in_row.text, in_utf16.text.encode("utf-16-le")),
        )
    (tmp_path / "var" / "careless.log").write_text(in_file.text, encoding="utf-8")

    needles = {m.text: m.spellings() for m in (in_row, in_utf16, in_file)}
    hits = found_in(at_rest(tmp_path, raw), needles)
    assert {hit.rsplit(": ", 1)[1] for hit in hits} == set(needles), hits
    if is_sqlite(backend):
        assert any(hit.startswith("rete.sqlite-wal:") for hit in hits), hits
