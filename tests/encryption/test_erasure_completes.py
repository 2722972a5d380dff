"""Issue 10, finding 1 and "done when" 2: an erasure is recorded at once, pending
while a copy of the destroyed case key can still be opened, and complete after
the documented step (``rete keys retire``). Then a copy of the database taken
while it was pending (SQLite: every file, the write-ahead log too, taken while a
real second connection held a read transaction; PostgreSQL: a ``pg_dump`` taken
before the erasure, and, on a cluster of the test's own, the whole data directory
copied after it: heap, indexes and write-ahead log),
tried with every KEK version still held, opens no key of the erased case; the
other case still reads; the ledger verifies.

The KEK file lives outside ``var/`` as in production (a development keyring
inside ``var/`` would be copied with it, and then nothing protects anything).
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from encryption_support import CaseStory, every_event, tell_case
from support.clock import TestClock
from support.http import Api
from support.people import people_of
from support.private_postgres import private_cluster
from support.rawdb import RawDatabase, is_sqlite, libpq_url

from api import cli
from application.rete import Rete
from infrastructure.bootstrap import build_rete, build_store
from infrastructure.crypto.kek import FileKeyring, KekError, UnwrapError, create_key_file
from infrastructure.crypto.keystore import wrapping_aad
from infrastructure.settings import Settings, load_settings

WHY = "her request (art. 17 GDPR)"
WRAPPED_SIZE = 61  # docs/ENCRYPTION.md, "Wrapped data keys"
NEAR = 512  # how far from a key id an attacker looks for its wrapped key


# -- the operator and the attacker ---------------------------------------------------


@pytest.fixture
def kek_path(tmp_path: Path) -> Path:
    path = tmp_path / "secrets" / "kek.json"
    create_key_file(path)
    return path


@pytest.fixture
def env(rete_env: dict[str, str], kek_path: Path) -> dict[str, str]:
    return {**rete_env, "RETE_KEK_FILE": str(kek_path), "RETE_KEY_CACHE_SECONDS": "0"}


def run(env: dict[str, str], *args: str) -> Result:
    """``rete ARGS`` as an operator runs it."""
    return CliRunner().invoke(cli.main, list(args), env=env)


def held_versions(kek_path: Path) -> FileKeyring:
    return FileKeyring.open(kek_path)


def candidates(data: bytes, key_ids: list[bytes], known: list[bytes]) -> set[bytes]:
    """What an attacker holding ``data`` would try as wrapped keys: every wrapped form
    the key ever had, wherever it appears, and every 61-byte window starting with
    the wrap format near any appearance of one of the key's ids (a row keeps them
    side by side)."""
    found = {w for w in known if w in data}
    for key_id in key_ids:
        start = data.find(key_id)
        while start != -1:
            low, high = max(0, start - NEAR), min(len(data), start + NEAR)
            for i in range(low, high - WRAPPED_SIZE + 1):
                if data[i] == 0x01:
                    found.add(data[i : i + WRAPPED_SIZE])
            start = data.find(key_id, start + 1)
    return found


def opened(
    keyring: FileKeyring, pieces: set[bytes], key_rows: list[tuple[bytes, str, int, int, bytes]]
) -> list[str]:
    """Which of ``pieces`` any held KEK version unwraps, as any of the key's ids."""
    hits = []
    for key_id, scope, *_ in key_rows:
        aad = wrapping_aad(key_id, scope)
        for piece in pieces:
            for version in keyring.versions():
                try:
                    keyring.unwrap(version, piece, aad)
                except (UnwrapError, KekError):
                    continue
                hits.append(f"key {key_id.hex()} under KEK version {version}")
    return hits


def files(root: Path, leave_out: Path | None = None) -> bytes:
    """Every file under ``root`` (but those under ``leave_out``), as one run of bytes."""
    return b"".join(
        p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and (leave_out is None or leave_out not in p.parents)
    )


@contextmanager
def reader_holding(backend: dict[str, str]) -> Iterator[None]:
    """A second, real connection holding a read transaction (a backup tool, the
    ``sqlite3`` shell, an export, ``pg_dump``) for as long as the block runs."""
    if not is_sqlite(backend):
        with psycopg.connect(libpq_url(backend["RETE_DATABASE_URL"])) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            table = f'"{backend["RETE_DATABASE_SCHEMA"]}".rete_data_keys'
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0  # type: ignore[index]
            yield
            conn.rollback()
        return
    conn = sqlite3.connect(backend["SQLITE_DBNAME"], isolation_level=None)
    try:
        conn.execute("BEGIN")
        assert conn.execute("SELECT COUNT(*) FROM rete_data_keys").fetchone()[0] > 0
        yield
        conn.execute("COMMIT")
    finally:
        conn.close()


def pg_dump(backend: dict[str, str]) -> bytes:
    url = libpq_url(backend["RETE_DATABASE_URL"])
    schema = backend["RETE_DATABASE_SCHEMA"]
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--schema", schema, url], check=True, capture_output=True
    )
    text = dump.stdout
    # bytea is dumped as hex (\x0102...): give the attacker the bytes back too.
    raw = [bytes.fromhex(h.decode()) for h in _hex_runs(text)]
    return text + b"\0".join(raw)


def _hex_runs(text: bytes) -> Iterator[bytes]:
    for part in text.split(b"\\\\x")[1:] + text.split(b"\\x")[1:]:
        run_ = bytearray()
        for byte in part:
            if chr(byte) in "0123456789abcdef":
                run_.append(byte)
            else:
                break
        if len(run_) >= 2 * 16:
            yield bytes(run_[: len(run_) // 2 * 2])


# -- the test ------------------------------------------------------------------------


def only_the_kept_case_decrypts(settings: Settings, kept: CaseStory, erased: CaseStory) -> None:
    """Every event read through a new application: the kept case's texts, none of
    the erased one's."""
    store = build_store(settings)
    try:
        texts = repr(every_event(store))
    finally:
        store.close()
    assert all(t in texts for t in kept.texts)
    assert not any(t in texts for t in erased.texts)


def test_an_erasure_is_pending_until_retired_then_no_copy_held_with_any_kek_opens_it(
    make_rete: Callable[..., Rete],
    settings_for: Callable[..., Settings],
    make_api: Callable[..., Api],
    clock: TestClock,
    raw: RawDatabase,
    backend: dict[str, str],
    env: dict[str, str],
    kek_path: Path,
    tmp_path: Path,
) -> None:
    extra = {k: v for k, v in env.items() if k.startswith("RETE_KEK") or "CACHE" in k}
    rete = make_rete(**extra)
    p = people_of(rete)
    kept, erased = (tell_case(rete, p, clock, tag=f"case{i} ") for i in range(2))
    scope = f"case:{erased.id}"
    erased_rows = [r for r in raw.key_rows() if r[1] == scope]
    assert erased_rows, "the case had a key"
    key_ids = [r[0] for r in erased_rows]
    wrapped = [r[4] for r in erased_rows]
    sqlite = is_sqlite(backend)

    # The copies an attacker keeps: PostgreSQL, a backup taken before the erasure.
    backup = b"" if sqlite else pg_dump(backend)
    with reader_holding(backend):
        rete.cases.erase(p.chiara, erased.ref, WHY)
        # Recorded at once, and pending: what it waits for is said, not dropped.
        (erasure,) = rete.erasures.list(p.ugo).items
        assert erasure.case_id == str(erased.id) and erasure.status == "pending"
        assert erasure.completed_at is None
        assert erasure.waiting_for == (["log", "kek"] if sqlite else ["kek"])
        # SQLite: every file as it is now, the write-ahead log too, while the
        # reader holds its snapshot.
        if sqlite:
            backup = files(tmp_path, leave_out=kek_path.parent)

    # Finding 1, reproduced: those copies hold the wrapped key, and with the KEK as
    # it is now, they would open it.
    copies = {"backup": backup}
    pieces = {where: candidates(data, key_ids, wrapped) for where, data in copies.items()}
    assert any(set(wrapped) & found for found in pieces.values()), "the copies hold the key"
    assert opened(held_versions(kek_path), set().union(*pieces.values()), erased_rows)
    status = run(env, "keys", "status")
    assert status.exit_code == 0, status.output
    assert f"case {erased.id}: erased" in status.output and "pending: waits for" in status.output

    # The documented completion step.
    checkpoint = run(env, "ledger", "checkpoint")
    assert checkpoint.exit_code == 0, checkpoint.output
    retired = run(env, "keys", "retire")
    assert retired.exit_code == 0, retired.output
    assert "retired: v1" in retired.output and "1 complete, 0 pending" in retired.output

    # Complete, with its times, for the operator and for an auditor.
    status = run(env, "keys", "status")
    assert f"case {erased.id}: erased" in status.output and "complete 20" in status.output
    api = make_api(env, rete, clock)
    page = api.ok(api.get("ugo", "/api/v1/audit/erasures"))
    assert page["pending"] == 0 and page["complete"] == 1
    (item,) = page["items"]
    assert item["case_id"] == str(erased.id) and item["status"] == "complete"
    assert item["waiting_for"] == [] and item["completed_at"] and item["kek_retired_at"]
    assert set(item) >= {"erased_at", "log_folded_at"}
    refused = api.get("anna", "/api/v1/audit/erasures")
    assert refused.status_code == 403

    # Done when 2: no copy, with any KEK version still held, opens the erased key.
    keyring = held_versions(kek_path)
    assert 1 not in keyring.versions()
    for where, found in pieces.items():
        assert not opened(keyring, found, erased_rows), where
    if sqlite:
        # ...and the live files no longer hold it at all: the log was folded.
        live = files(tmp_path, leave_out=kek_path.parent)
        assert not [w for w in wrapped if w in live]

    # The other case still decrypts, through a new application; the erased one not.
    only_the_kept_case_decrypts(settings_for(**extra), kept, erased)
    # The ledger verifies.
    assert run(env, "ledger", "checkpoint").exit_code == 0
    verified = run(env, "ledger", "verify", "--jobs", "1")
    assert verified.exit_code == 0, verified.output


def test_a_reader_holding_a_snapshot_keeps_the_erasure_pending_until_it_lets_go(
    make_rete: Callable[..., Rete],
    clock: TestClock,
    backend: dict[str, str],
    kek_path: Path,
    tmp_path: Path,
    raw: RawDatabase,
) -> None:
    """SQLite: the log is folded again once the reader lets go, and then no file
    holds the wrapped key. PostgreSQL: the dead row stays in the heap whatever is
    folded, so only the KEK's retirement completes the erasure."""
    sqlite = is_sqlite(backend)
    rete = make_rete(RETE_KEK_FILE=str(kek_path))
    p = people_of(rete)
    story = tell_case(rete, p, clock)
    wrapped = [r[4] for r in raw.key_rows() if r[1] == f"case:{story.id}"]
    keys = rete.ctx.keys

    def on_disk() -> list[bytes]:
        return [w for w in wrapped if w in files(tmp_path, leave_out=kek_path.parent)]

    with reader_holding(backend):
        rete.cases.erase(p.chiara, story.ref, WHY)
        keys.complete_erasures(retire_kek=False)  # type: ignore[attr-defined]
        (erasure,) = rete.erasures.list(p.ugo).items
        assert erasure.status == "pending" and erasure.log_folded_at is None
        assert erasure.waiting_for == (["log", "kek"] if sqlite else ["kek"])
        if sqlite:
            assert on_disk(), "the reader's snapshot keeps the key in the files"
    # Retried, as the server's schedule does, once the reader let go.
    keys.complete_erasures(retire_kek=False)  # type: ignore[attr-defined]
    (erasure,) = rete.erasures.list(p.ugo).items
    assert erasure.status == "pending" and erasure.waiting_for == ["kek"]
    if sqlite:
        assert erasure.log_folded_at is not None and not on_disk()
    keys.complete_erasures()  # type: ignore[attr-defined]
    (erasure,) = rete.erasures.list(p.ugo).items
    assert erasure.status == "complete" and erasure.waiting_for == []
    assert erasure.completed_at is not None and erasure.completed_at >= erasure.erased_at


def test_a_copy_of_the_whole_postgresql_data_directory_opens_nothing_once_retired(
    clock: TestClock, tmp_path: Path, kek_path: Path
) -> None:
    """On a cluster of the test's own: the whole data directory (heap, indexes, WAL)
    copied right after the erasure, as a stolen disk or file-level backup."""
    with private_cluster() as cluster:
        schema = "rete"
        env = {
            "RETE_DATABASE_URL": f"{cluster.url()}?schema={schema}",
            "RETE_VAR_DIR": str(tmp_path / "var"),
            "RETE_CHECKPOINT_INTERVAL": "0",
            "RETE_KEK_FILE": str(kek_path),
            "RETE_KEY_CACHE_SECONDS": "0",
        }
        rete = build_rete(load_settings(env), clock=clock)
        try:
            p = people_of(rete)
            kept, erased = (tell_case(rete, p, clock, tag=f"case{i} ") for i in range(2))
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                key_rows = [
                    (bytes(k), s, int(g), int(v), bytes(w))
                    for k, s, g, v, w in conn.execute(
                        "SELECT key_id, scope, generation, kek_version, wrapped "
                        f"FROM {schema}.rete_data_keys WHERE scope = %s",
                        (f"case:{erased.id}",),
                    ).fetchall()
                ]
                rete.cases.erase(p.chiara, erased.ref, WHY)
                conn.execute("CHECKPOINT")  # the dead row written out to the heap file
            copy = files(cluster.data)
            key_ids, wrapped = [r[0] for r in key_rows], [r[4] for r in key_rows]
            found = candidates(copy, key_ids, wrapped)
            assert set(wrapped) & found, "the copy holds the erased key (finding 1)"
            assert opened(held_versions(kek_path), found, key_rows), "and it would open"

            retired = run(env, "keys", "retire")
            assert retired.exit_code == 0, retired.output
            assert "1 complete, 0 pending" in retired.output

            assert not opened(held_versions(kek_path), found, key_rows)
            only_the_kept_case_decrypts(load_settings(env), kept, erased)
        finally:
            rete.close()


def test_the_server_completes_a_pending_erasure_on_its_own_schedule(
    make_rete: Callable[..., Rete], clock: TestClock, kek_path: Path
) -> None:
    rete = make_rete(RETE_KEK_FILE=str(kek_path), RETE_KEY_RETIREMENT_INTERVAL="0.2")
    p = people_of(rete)
    story = tell_case(rete, p, clock)
    rete.cases.erase(p.chiara, story.ref, WHY)
    assert rete.erasures.list(p.ugo).pending == 1
    for work in rete.background:
        work.start()
    try:
        deadline = time.monotonic() + 15  # a bound for a busy machine, not a speed
        while rete.erasures.list(p.ugo).pending and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for work in reversed(rete.background):
            work.stop()
    (erasure,) = rete.erasures.list(p.ugo).items
    assert erasure.status == "complete", erasure
    assert held_versions(kek_path).versions() == (2,)
