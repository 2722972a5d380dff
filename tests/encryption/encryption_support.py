"""Helpers of the acceptance tests of the encrypted event stream (issue 3).

Everything here works on the real database and the real crypto: the raw rows
are read and written with plain SQL, past the application (``support.rawdb``),
the way an attacker with access to the database (or a backup) would see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from support.clock import TestClock
from support.rawdb import Row
from support.stories import record_consent, refer, refer_to_protect

from application.rete import Rete
from domain.referral import Move
from domain.vocabulary import Category
from infrastructure import event_codec
from infrastructure.crypto import sealing

CATEGORIES = tuple(c.value for c in Category)

# -- markers ------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A unique string planted in one personal place. ``core`` is its random part:
    found in any ASCII-compatible encoding (UTF-8, msgpack, JSON, even escaped)."""

    place: str
    core: str = field(default_factory=lambda: uuid4().hex)

    @property
    def text(self) -> str:
        # Non-ASCII on purpose: UTF-8 and UTF-16 spell it differently from Latin-1.
        return f"MARKER-{self.place}-àé-{self.core}"

    def spellings(self) -> list[bytes]:
        return spellings(self.text, self.core)


def spellings(text: str, core: str | None = None) -> list[bytes]:
    """The ways a string can sit in a file or a row: UTF-8 (which is also how
    msgpack and JSON store it), UTF-16 both ways, and hex (PostgreSQL's text form
    of bytea)."""
    out = [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]
    with_core = [core] if core else []
    for part in with_core:
        out += [part.encode("ascii"), part.encode("utf-16-le"), part.encode("utf-16-be")]
    out.append(text.encode("utf-8").hex().encode("ascii"))
    return out


def found_in(haystacks: Iterable[tuple[str, bytes]], needles: dict[str, list[bytes]]) -> list[str]:
    """``where: what`` for every needle found in any haystack."""
    hits = []
    for where, data in haystacks:
        for what, spelled in needles.items():
            if any(s in data for s in spelled):
                hits.append(f"{where}: {what}")
    return hits


def files_under(root: Path) -> list[tuple[str, bytes]]:
    """Every file under ``root``, as bytes, named relative to it."""
    return [
        (str(p.relative_to(root)), p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()
    ]


# -- opening stored records by hand ---------------------------------------------


def place(row: Row | StoredEvent, layer: str) -> bytes:
    """The associated-data context of a record's layer ("record" or "personal")."""
    if isinstance(row, Row):
        oid, version, topic = row.stream, row.version, row.topic
    else:
        oid, version, topic = row.originator_id, row.originator_version, row.topic
    return sealing.context("rete", layer, str(oid), version, topic)


def open_outer(keys: Any, row: Row) -> tuple[bytes, bytes, list[Any]]:
    """Open a record's outer seal with the system key from ``keys``:
    (key id, key, [format, state, sealed personal blob or None])."""
    key_id = sealing.key_id_of(row.state)
    key = keys.opening_key(key_id)
    assert key is not None
    record = event_codec.unpack(sealing.open_(key, row.state, place(row, "record")))
    return key_id, key, record


def reseal_outer(key_id: bytes, key: bytes, row: Row, record: list[Any]) -> bytes:
    """A valid outer seal around ``record`` at ``row``'s place (as the system key's
    holder could make it)."""
    return sealing.seal(key_id, key, event_codec.pack(record), place(row, "record"))


# -- a case's story ---------------------------------------------------------------

INSTRUMENT = "rete-screening-v1"


@dataclass
class CaseStory:
    """One case told through the application, and every personal text planted in it."""

    ref: str
    id: UUID
    referrals: list[UUID]
    texts: list[str]


def tell_case(rete: Rete, p: SimpleNamespace, clock: TestClock, tag: str = "") -> CaseStory:
    """The CAV opens a case and works it with social services and the police:
    notes in several categories (one by social services), a consent, a risk
    assessment raised by judgement, a referral taken on, one declined, one
    withdrawn, a legal hold placed and lifted. Every personal text is unique."""
    texts: list[str] = []

    def say(place: str) -> str:
        clock.advance(minutes=7)  # every step at its own time
        texts.append(f"{tag}{place} {uuid4().hex}")
        return texts[-1]

    ref = rete.cases.open(p.anna).reference_code
    for category in ("identity", "violence", "health", "children", "safety"):
        rete.cases.add_note(p.anna, ref, category, say(f"note-{category}"))
    record_consent(rete, p.anna, ref)
    items = rete.ctx.instrument(INSTRUMENT).items
    answers = {item.id: item.id in {"escalation", "stalking"} for item in items}
    rete.cases.assess_risk(p.anna, ref, INSTRUMENT, answers, "high", say("risk-justification"))
    taken = refer(rete, p.anna, ref, reason=say("reason-taken"))
    clock.advance(minutes=3)
    rete.referrals.move(p.bea, taken.id, Move.ACKNOWLEDGE)
    rete.referrals.move(p.bea, taken.id, Move.ACCEPT, say("accept-reason"))
    rete.cases.add_note(p.bea, ref, "violence", say("note-by-social-services"))
    declined = refer_to_protect(
        rete, p.chiara, ref, say("reason-vital"), say("justification-vital")
    )
    rete.referrals.move(p.paolo, declined.id, Move.DECLINE, say("decline-reason"))
    withdrawn = refer(rete, p.anna, ref, reason=say("reason-withdrawn"))
    rete.referrals.move(p.anna, withdrawn.id, Move.WITHDRAW, say("withdraw-reason"))
    rete.cases.place_legal_hold(p.chiara, ref, say("legal-hold"))
    clock.advance(minutes=3)
    rete.cases.lift_legal_hold(p.chiara, ref)
    case_id = UUID(rete.cases.get(p.chiara, ref).id)
    return CaseStory(ref, case_id, [UUID(r.id) for r in (taken, declined, withdrawn)], texts)


def notifications(store: Any) -> list[Any]:
    return list(store.recorder.select_notifications(start=1, limit=1_000_000))


def every_event(store: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every event of the log, decrypted: (topic, its fields)."""
    return [(n.topic, dict(vars(store.mapper.to_domain_event(n)))) for n in notifications(store)]


def state_of(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def every_aggregate(store: Any) -> dict[UUID, dict[str, Any]]:
    """Every aggregate of the log, as it reads now."""
    ids = {UUID(str(n.originator_id)) for n in notifications(store)}
    return {i: state_of(store.get(Aggregate, i)) for i in ids}


def is_uuid(text: str) -> bool:
    """Whether ``text`` reads as a UUID (an id, not a value of hers)."""
    try:
        UUID(text)
    except ValueError:
        return False
    return True
