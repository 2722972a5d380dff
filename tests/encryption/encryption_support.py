"""Helpers of the acceptance tests of the encrypted event stream (issue 3).

Everything here works on the real database and the real crypto: the raw rows
are read and written with plain SQL, past the application, the way an attacker
with access to the database (or a backup) would see them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from uuid import UUID, uuid4

import httpx
import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from litestar.testing import TestClient
from psycopg import sql

from api.app import create_app
from api.auth import mint_token
from application.rete import Rete
from domain.referral import Move
from domain.vocabulary import Category
from infrastructure import event_codec
from infrastructure.crypto import sealing
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import Settings

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CATEGORIES = tuple(c.value for c in Category)

# Who acts in these stories: nickname -> (service, roles).
PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "anna": ("cav-scirocco", ("caseworker",)),
    "chiara": ("cav-scirocco", ("coordinator",)),
    "bea": ("ss-cesano", ("caseworker",)),
    "bruna": ("ss-cesano", ("coordinator",)),
    "paolo": ("pl-cesano", ("caseworker",)),
    "marta": ("asst-rhodense", ("caseworker",)),
    "mirella": ("asst-rhodense", ("coordinator",)),
}


class TestClock:
    """The tests' clock. At its next reading it may first run ``meanwhile``
    actions: every use case reads it once, between loading and saving."""

    __test__ = False

    def __init__(self, at: datetime = MONDAY) -> None:
        self.at = at
        self._meanwhile: list[Callable[[], object]] = []

    def now(self) -> datetime:
        if self._meanwhile:
            self._meanwhile.pop(0)()
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at

    def meanwhile(self, action: Callable[[], object]) -> None:
        self._meanwhile.append(action)


def settings_env(backend: dict[str, str], var_dir: Path, **extra: str) -> dict[str, str]:
    """The RETE_* variables for ``backend``: PostgreSQL's schema goes in the URL's query."""
    url = backend["RETE_DATABASE_URL"]
    schema = backend.get("RETE_DATABASE_SCHEMA")
    if schema and "schema=" not in url:
        url += ("&" if "?" in url else "?") + "schema=" + quote(schema)
    return {"RETE_DATABASE_URL": url, "RETE_VAR_DIR": str(var_dir), **extra}


def libpq_url(url: str) -> str:
    """A PostgreSQL URL as psycopg takes it: without our ``schema`` parameter (whether
    or not the ``backend`` fixture put it there)."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("schema="))
    return urlunsplit(parts._replace(query=query))


def is_sqlite(backend: dict[str, str]) -> bool:
    return backend["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"


def people_of(rete: Rete) -> SimpleNamespace:
    return SimpleNamespace(
        **{name: rete.ctx.identify(name, sid, roles) for name, (sid, roles) in PEOPLE.items()}
    )


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


# -- the raw database -----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One stored record as the database holds it."""

    table: str
    key: tuple[Any, ...]  # how to find it again: (originator id as stored, version)
    stream: UUID
    version: int
    topic: str
    state: bytes

    def stored(self) -> StoredEvent:
        return StoredEvent(self.stream, self.version, self.topic, self.state)

    def names_it(self, message: str) -> bool:
        return str(self.stream) in message and f"v{self.version}" in message


class RawDatabase:
    """Plain SQL on the test's database: the events and snapshots tables, and
    every table of the test's PostgreSQL schema."""

    def __init__(self, backend: dict[str, str]) -> None:
        self.backend = backend
        self.sqlite = is_sqlite(backend)
        self.events = "stored_events" if self.sqlite else "rete_events"
        self.snapshots = "stored_snapshots" if self.sqlite else "rete_snapshots"
        self.schema = backend.get("RETE_DATABASE_SCHEMA", "")
        # Notification order: SQLite's rowid, PostgreSQL's notification_id.
        self._order = "rowid" if self.sqlite else "notification_id"

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(self.backend["SQLITE_DBNAME"], isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()
        else:
            with psycopg.connect(
                libpq_url(self.backend["RETE_DATABASE_URL"]), autocommit=True
            ) as conn:
                yield conn

    def _table(self, name: str) -> Any:
        return name if self.sqlite else sql.Identifier(self.schema, name)

    def _run(self, conn: Any, template: str, params: tuple[Any, ...] = (), **tables: str) -> Any:
        if self.sqlite:
            return conn.execute(template.format(**tables).replace("%s", "?"), params)
        statement = sql.SQL(template).format(**{k: self._table(v) for k, v in tables.items()})
        return conn.execute(statement, params)

    def rows(self, table: str | None = None) -> list[Row]:
        table = table or self.events
        order = self._order if table == self.events else "originator_id, originator_version"
        with self.connect() as conn:
            fetched = self._run(
                conn,
                "SELECT originator_id, originator_version, topic, state FROM {t} ORDER BY " + order,
                t=table,
            ).fetchall()
        return [
            Row(table, (oid, version), UUID(str(oid)), int(version), topic, bytes(state))
            for oid, version, topic, state in fetched
        ]

    def put(self, row: Row, *, state: bytes | None = None, topic: str | None = None) -> None:
        """Overwrite one row's state and/or topic in place."""
        with self.connect() as conn:
            self._run(
                conn,
                "UPDATE {t} SET state = %s, topic = %s "
                "WHERE originator_id = %s AND originator_version = %s",
                (
                    row.state if state is None else state,
                    row.topic if topic is None else topic,
                    *row.key,
                ),
                t=row.table,
            )

    @contextmanager
    def altered(
        self, row: Row, *, state: bytes | None = None, topic: str | None = None
    ) -> Iterator[None]:
        """The row altered for the duration of the block, then restored."""
        self.put(row, state=state, topic=topic)
        try:
            yield
        finally:
            self.put(row)

    def digest(self, table: str | None = None) -> tuple[int, str]:
        """(row count, SHA-256 of every column of every row): the events in notification
        order (their notification id included), snapshots by stream and version."""
        table = table or self.events
        columns = "originator_id, originator_version, topic, state"
        if table == self.events:
            query = f"SELECT {self._order}, {columns} FROM {{t}} ORDER BY {self._order}"
        else:
            query = f"SELECT {columns} FROM {{t}} ORDER BY originator_id, originator_version"
        with self.connect() as conn:
            fetched = self._run(conn, query, t=table).fetchall()
        h = hashlib.sha256()
        for row in fetched:
            for value in row:
                data = (
                    bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                )
                h.update(len(data).to_bytes(8, "big") + data)
        return len(fetched), h.hexdigest()

    def key_rows(self) -> list[tuple[bytes, str, int, int, bytes]]:
        """rete_data_keys: (key_id, scope, generation, kek_version, wrapped)."""
        with self.connect() as conn:
            fetched = self._run(
                conn,
                "SELECT key_id, scope, generation, kek_version, wrapped FROM {t} "
                "ORDER BY scope, generation",
                t="rete_data_keys",
            ).fetchall()
        return [(bytes(k), s, int(g), int(v), bytes(w)) for k, s, g, v, w in fetched]

    def destroyed_scopes(self) -> set[str]:
        with self.connect() as conn:
            fetched = self._run(conn, "SELECT scope FROM {t}", t="rete_destroyed_scopes")
            return {scope for (scope,) in fetched.fetchall()}

    def everything(self) -> list[tuple[str, bytes]]:
        """PostgreSQL: every row of every table of the test's schema, as its text form
        and each column raw (bytea as bytes)."""
        assert not self.sqlite, "on SQLite, scan the files"
        chunks: list[tuple[str, bytes]] = []
        with self.connect() as conn:
            tables = [
                name
                for (name,) in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                    (self.schema,),
                ).fetchall()
            ]
            assert {"rete_events", "rete_snapshots", "rete_data_keys"} <= set(tables), tables
            for name in tables:
                query = sql.SQL("SELECT row_to_json(t)::text, t::text, t.* FROM {} t").format(
                    sql.Identifier(self.schema, name)
                )
                for number, row in enumerate(conn.execute(query).fetchall()):
                    for value in row:
                        if value is None:
                            continue
                        data = (
                            bytes(value)
                            if isinstance(value, bytes | memoryview)
                            else str(value).encode("utf-8")
                        )
                        chunks.append((f"{name} row {number}", data))
        return chunks


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


# -- HTTP -------------------------------------------------------------------------


@dataclass
class Http:
    """The API on an application the test built, with tokens minted like ``rete token``."""

    client: TestClient[Any]
    settings: Settings
    secret: bytes
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, rete: Rete) -> Http:
        client = TestClient(create_app(settings, rete))
        client.__enter__()
        return cls(client, settings, load_or_create_dev_secret(settings.jwt_secret_file).key)

    def close(self) -> None:
        self.client.__exit__(None, None, None)

    def headers(self, who: str) -> dict[str, str]:
        if who not in self.tokens:
            service, roles = PEOPLE[who]
            self.tokens[who] = mint_token(
                self.secret,
                self.settings.jwt_issuer,
                self.settings.jwt_audience,
                who,
                service,
                roles,
                timedelta(hours=1),
            )
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers(who), **kwargs)

    def post(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers(who), **kwargs)

    def delete(self, who: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self.headers(who), **kwargs)

    def ok(self, response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()


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
    rete.cases.record_consent(
        p.anna,
        ref,
        recipient_kinds=["social_services"],
        recipient_services=[],
        purposes=["social_support"],
        categories_=["identity", "violence"],
        expires_at=None,
    )
    items = rete.ctx.instrument(INSTRUMENT).items
    answers = {item.id: item.id in {"escalation", "stalking"} for item in items}
    rete.cases.assess_risk(p.anna, ref, INSTRUMENT, answers, "high", say("risk-justification"))
    on_consent = dict(
        recipient_service="ss-cesano",
        kind="social_support",
        urgency="routine",
        scope=["identity", "violence"],
        legal_basis="consent",
    )
    taken = rete.referrals.refer(p.anna, ref, reason=say("reason-taken"), **on_consent)
    clock.advance(minutes=3)
    rete.referrals.move(p.bea, taken.id, Move.ACKNOWLEDGE)
    rete.referrals.move(p.bea, taken.id, Move.ACCEPT, say("accept-reason"))
    rete.cases.add_note(p.bea, ref, "violence", say("note-by-social-services"))
    declined = rete.referrals.refer(
        p.chiara,
        ref,
        recipient_service="pl-cesano",
        kind="protection_measures",
        urgency="emergency",
        reason=say("reason-vital"),
        scope=["safety", "violence"],
        legal_basis="vital_interest",
        justification=say("justification-vital"),
    )
    rete.referrals.move(p.paolo, declined.id, Move.DECLINE, say("decline-reason"))
    withdrawn = rete.referrals.refer(p.anna, ref, reason=say("reason-withdrawn"), **on_consent)
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
