"""A full disk: every refused request is a 507 ``storage-full`` (never a 500),
``/health`` fails while the disk cannot take a write, and once space is freed the
same server answers again by itself, having lost nothing it acknowledged.

The disk is a real one: a tmpfs of a few megabytes mounted as ``var/``, holding the
SQLite database, filled up by a file beside it (``support.small_filesystem``;
mounting needs root, elsewhere the test is skipped). How each backend's driver
says "full" is read by ``infrastructure.db.storage_full``, checked below on a real
SQLite database forced full by ``max_page_count`` and on PostgreSQL's error class.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import psycopg
import pytest
from support.private_postgres import private_cluster
from support.small_filesystem import fill, free, small_filesystem

from api.problems import STORAGE_RETRY_AFTER_SECONDS
from application.errors import StorageFull
from infrastructure.db.storage_full import StorageFullSeen, is_storage_full
from infrastructure.disk_check import DiskCheck

# Enough writes to fill what SQLite still finds room for once the disk is full.
MOST_WRITES = 400


def note(api, case: str, text: str):
    return api.post(
        "anna", f"/api/v1/cases/{case}/notes", json={"category": "violence", "text": text}
    )


def texts_of(api, case: str) -> list[str]:
    return [e["text"] for e in api.ok(api.get("anna", f"/api/v1/cases/{case}"))["entries"]]


@pytest.fixture
def full_disk_env(tmp_path: Path):
    """``var/`` on a 4 MB tmpfs, the database in it; no background work."""
    with small_filesystem(tmp_path / "var", "4m") as var:
        yield {
            "RETE_DATABASE_URL": f"sqlite:///{var / 'rete.sqlite'}",
            "RETE_VAR_DIR": str(var),
            "RETE_CHECKPOINT_INTERVAL": "0",
            "RETE_ESCALATION_INTERVAL": "0",
        }


def test_a_full_disk_is_507_and_not_ready_until_space_is_freed_with_nothing_lost(
    make_api, full_disk_env, problem
) -> None:
    full_disk_story(make_api, full_disk_env, Path(full_disk_env["RETE_VAR_DIR"]), problem)


@pytest.mark.long
def test_a_full_postgresql_disk_is_507_and_not_ready_until_space_is_freed(
    make_api, tmp_path: Path, problem
) -> None:
    # The database server's data directory on a small disk (its WAL elsewhere):
    # PostgreSQL refuses each write "could not extend file" (53100) and runs on.
    with private_cluster(data_size="48m") as cluster:
        env = {
            "RETE_DATABASE_URL": cluster.url(),
            "RETE_VAR_DIR": str(tmp_path / "var"),
            "RETE_CHECKPOINT_INTERVAL": "0",
            "RETE_ESCALATION_INTERVAL": "0",
        }
        try:
            full_disk_story(make_api, env, cluster.data, problem)
        finally:
            free(cluster.data)


def full_disk_story(make_api, env: dict[str, str], disk: Path, problem) -> None:
    """Writes acknowledged, the disk filled, the refusals, the disk freed, the proof."""
    api = make_api(env)
    var = disk
    case = api.ok(api.post("anna", "/api/v1/cases"), 201)["reference_code"]
    acknowledged = [f"before {i}" for i in range(5)]
    for text in acknowledged:
        api.ok(note(api, case, text), 201)

    fill(var)
    refused: list[str] = []
    for i in range(MOST_WRITES):
        text = f"while full {i}"
        answer = note(api, case, text)
        if answer.status_code == 201:
            acknowledged.append(text)  # SQLite still found room: it counts
            continue
        body = problem(answer, 507, "storage-full")
        assert answer.headers["retry-after"] == str(STORAGE_RETRY_AFTER_SECONDS)
        assert "nothing was written" in body["detail"]
        refused.append(text)
        break
    assert refused, f"{MOST_WRITES} writes all found room on a full disk"
    # Reading a case records who read it: a write, refused the same way.
    problem(api.get("anna", f"/api/v1/cases/{case}"), 507, "storage-full")
    problem(api.client.get("/health"), 503, "storage-full")

    free(var)
    # The same server, not restarted: it writes again, is ready again, and every
    # acknowledged write is there once, the refused ones are not.
    api.ok(note(api, case, "after"), 201)
    acknowledged.append("after")
    assert api.client.get("/health").status_code == 200
    assert texts_of(api, case) == acknowledged
    restarted = make_api(env)
    assert texts_of(restarted, case) == acknowledged


def test_what_each_backend_says_when_full_reads_as_storage_full(tmp_path: Path) -> None:
    # SQLite forced full without a full disk: a database allowed so many pages.
    db = sqlite3.connect(tmp_path / "capped.sqlite")
    db.execute("CREATE TABLE t (x BLOB)")
    db.execute("PRAGMA max_page_count = 8")
    with pytest.raises(sqlite3.OperationalError) as full:
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (randomblob(4000))")
    db.close()
    assert is_storage_full(full.value)
    wrapped = RuntimeError("the library's own error")
    wrapped.__cause__ = full.value
    assert is_storage_full(wrapped)

    assert is_storage_full(psycopg.errors.DiskFull("could not extend file"))
    assert is_storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_storage_full(StorageFull(StorageFull.detail))
    assert not is_storage_full(sqlite3.OperationalError("database is locked"))
    assert not is_storage_full(psycopg.errors.UniqueViolation("duplicate key"))
    assert not is_storage_full(OSError(errno.EACCES, "Permission denied"))


def test_health_reports_a_disk_that_cannot_take_a_write(make_api, full_disk_env, problem) -> None:
    api = make_api(full_disk_env)
    var = Path(full_disk_env["RETE_VAR_DIR"])
    assert api.client.get("/health").status_code == 200
    fill(var)
    problem(api.client.get("/health"), 503, "storage-full")
    free(var)
    assert api.client.get("/health").status_code == 200


def test_the_disk_check_probes_only_directories_that_exist(tmp_path: Path) -> None:
    # A PostgreSQL deployment may have no var/ at all: nothing is written there.
    assert DiskCheck([tmp_path / "missing", tmp_path]).writable()
    assert list(tmp_path.iterdir()) == []  # the probe left nothing behind


def test_the_openapi_document_names_the_storage_full_answer(api) -> None:
    paths = api.client.get("/schema/openapi.json").json()["paths"]
    for route, method in (("/api/v1/cases/{case_ref}/notes", "post"), ("/api/v1/cases", "get")):
        assert "application/problem+json" in paths[route][method]["responses"]["507"]["content"]


def test_readiness_fails_while_the_database_refuses_writes_for_lack_of_space() -> None:
    # What the probe cannot see (PostgreSQL's own disk, a capped SQLite database):
    # the database's last refusal, until a write succeeds or the hold runs out.
    seen = StorageFullSeen()
    check = DiskCheck([], seen, hold_seconds=60)
    assert check.writable()
    seen.saw()
    assert not check.writable()
    assert DiskCheck([], seen, hold_seconds=0).writable()  # faded: let writes try again
    seen.cleared()
    assert check.writable()
