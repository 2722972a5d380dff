"""Shared test machinery: the two persistence backends, and one family of fixtures
over them for every test package (the application built as the server builds it,
its clock, its people, its HTTP API; the helpers are in ``support``). Hypothesis
profiles are registered here (``support.hypothesis_profiles``).

Every behaviour is tested on SQLite and on PostgreSQL. The ``backend`` fixture
yields the environment (a ``dict[str, str]``) that configures an
``eventsourcing`` application for one backend, plus the project's own
``RETE_DATABASE_URL`` / ``RETE_DATABASE_SCHEMA`` keys.

PostgreSQL
    Tests marked ``postgres`` need a real server. The default URL is
    ``postgresql://<os user>@127.0.0.1:5432/test`` (then the ``postgres`` user
    as a fallback); ``RETE_TEST_POSTGRES_URL`` overrides it. When the server is
    not reachable those tests are skipped, except under ``CI=true``, where they
    fail, and where any skipped ``postgres`` test turns the session into a
    failure.

Environment variable names read by ``eventsourcing`` 9.5.6 (checked in
``eventsourcing/postgres.py`` and ``eventsourcing/sqlite.py``):
    PERSISTENCE_MODULE ("eventsourcing.sqlite" / "eventsourcing.postgres"),
    SQLITE_DBNAME, SQLITE_LOCK_TIMEOUT,
    POSTGRES_DBNAME, POSTGRES_HOST, POSTGRES_PORT (default 5432), POSTGRES_USER,
    POSTGRES_PASSWORD (required, may be empty), POSTGRES_SCHEMA (default
    "public"; the library does not create it), POSTGRES_CONNECT_TIMEOUT,
    POSTGRES_POOL_SIZE, POSTGRES_MAX_OVERFLOW, POSTGRES_MAX_WAITING,
    POSTGRES_CONN_MAX_AGE, POSTGRES_PRE_PING, POSTGRES_LOCK_TIMEOUT,
    POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT, POSTGRES_GET_PASSWORD_TOPIC,
    POSTGRES_ENABLE_DB_FUNCTIONS, CREATE_TABLE, and SINGLE_ROW_TRACKING (no
    prefix). Each may also be given prefixed with the application's name in
    upper case (``NOTES_POSTGRES_SCHEMA``), which wins over the plain key.
    ``Application.construct_env`` layers: class ``env`` < ``os.environ`` < the
    ``env`` argument, so the dict from ``backend`` wins over the shell.
"""

from __future__ import annotations

import functools
import getpass
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from support.clock import TestClock
from support.closing import closing_all
from support.http import Api
from support.hypothesis_profiles import register_profiles
from support.people import people_of
from support.problems import assert_problem

from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.db import Database, open_database
from infrastructure.settings import Settings, load_settings

register_profiles()

# The suite's PostgreSQL budget (issue 11): a few connections per xdist worker (a
# peak of 16 measured with two workers, 22 with three, the Makefile's default). Every
# application a test builds (several, for tests of workers or desks racing) holds one
# pool of this many connections; the servers the tests start inherit it through the
# environment. A test about pool sizes sets its own.
TEST_POOL_SIZE = "2"
os.environ.setdefault("RETE_DATABASE_POOL_SIZE", TEST_POOL_SIZE)

POSTGRES_URL_ENV = "RETE_TEST_POSTGRES_URL"
POSTGRES_MARKER = "postgres"
LONG_MARKER = "long"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# --------------------------------------------------------------------------
# Is PostgreSQL there?


@dataclass(frozen=True)
class PostgresProbe:
    """Outcome of the one connection attempt made per test session: the URL's
    parts that worked (libpq's defaults where it names none), or the error."""

    url: str
    error: str | None = None
    user: str = field(default_factory=getpass.getuser)
    host: str = "127.0.0.1"
    port: str = "5432"
    dbname: str = "test"
    password: str = ""

    @property
    def available(self) -> bool:
        return self.error is None

    @property
    def unavailable_reason(self) -> str:
        return f"PostgreSQL not reachable at {self.url}: {self.error}"


_PARTS = ("user", "host", "port", "dbname", "password")


def _candidate_urls() -> list[str]:
    override = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if override:
        return [override]
    users = dict.fromkeys([getpass.getuser(), "postgres"])  # ordered, no duplicates
    return [f"postgresql://{quote(user)}@127.0.0.1:5432/test" for user in users]


@functools.cache
def postgres_probe() -> PostgresProbe:
    """Try each candidate URL once per session; remember the first that works."""
    first_failure: PostgresProbe | None = None
    for url in _candidate_urls():
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            error = " ".join(str(exc).split()) or type(exc).__name__
            first_failure = first_failure or PostgresProbe(url=url, error=error)
            continue
        named = conninfo_to_dict(url)
        parts = {k: str(named[k]) for k in _PARTS if named.get(k)}
        return PostgresProbe(url=url, **parts)
    assert first_failure is not None
    return first_failure


def require_postgres() -> PostgresProbe:
    """Skip (locally) or fail (under CI=true) when PostgreSQL is not reachable."""
    probe = postgres_probe()
    if not probe.available:
        if running_in_ci():
            pytest.fail(probe.unavailable_reason, pytrace=False)
        pytest.skip(probe.unavailable_reason)
    return probe


@pytest.fixture(scope="session")
def postgres() -> PostgresProbe:
    """The reachable PostgreSQL server (skips or fails the test otherwise)."""
    return require_postgres()


# --------------------------------------------------------------------------
# Hooks: every test marked `postgres` goes through the same check, whether or
# not it uses the fixtures; under CI a skipped postgres test fails the session.


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(POSTGRES_MARKER) is not None:
        require_postgres()


_skipped_postgres_tests: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and POSTGRES_MARKER in report.keywords:
        _skipped_postgres_tests.append(report.nodeid)


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


# Tests that wait on purpose for seconds (outages, SIGKILLs, slow clients, a
# schemathesis run, a filled log) are spread evenly over the first four fifths of
# the run. xdist hands the list out roughly in order: spread, each long test waits
# while the other workers compute; bunched at the start, they wait all at once
# and the cores idle; left where they fall, one of them can end the run alone.
# The others keep their order (a module's tests stay together).
SPREAD_OVER = 0.8


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A module marked long as a whole stays one block: its module-scoped fixtures
    # (a filled log, a server) are built once.
    blocks: dict[str, list[pytest.Item]] = {}
    rest: list[pytest.Item] = []
    for item in items:
        if item.get_closest_marker(LONG_MARKER) is None:
            rest.append(item)
        elif _marks_the_module(item):
            blocks.setdefault(item.nodeid.split("::")[0], []).append(item)
        else:
            blocks[item.nodeid] = [item]
    if not blocks:
        return
    every = max(1, int(len(rest) * SPREAD_OVER / len(blocks)))
    items[:] = []
    for index, block in enumerate(blocks.values()):
        items += rest[index * every : (index + 1) * every]
        items += block
    items += rest[len(blocks) * every :]


def _marks_the_module(item: pytest.Item) -> bool:
    marks = getattr(getattr(item, "module", None), "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    return any(mark.name == LONG_MARKER for mark in marks)


# The catalog tables that each test's schema adds rows to, and leaves dead rows in
# when it is dropped (about 1,500 a schema, a few hundred schemas a run). On a
# server that runs no autovacuum (this machine's has it off) they pile up run after
# run, and every catalog lookup, so every CREATE and DROP of every test, slows
# down with them: ten times, measured, after a day of runs. The session that
# finds them piled up clears them first (a plain VACUUM: it blocks no one).
_CHURNED_CATALOGS = (
    "pg_attribute",
    "pg_attrdef",
    "pg_class",
    "pg_constraint",
    "pg_depend",
    "pg_index",
    "pg_namespace",
    "pg_sequence",
    "pg_shdepend",
    "pg_type",
)
_DEAD_ROWS_WORTH_A_VACUUM = 100_000


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_xdist_worker(session.config) and postgres_probe().available:
        _vacuum_catalogs_if_piled_up(postgres_probe().url)


def _vacuum_catalogs_if_piled_up(url: str) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        found = conn.execute(
            "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_sys_tables "
            "WHERE schemaname = 'pg_catalog' AND relname = ANY(%s)",
            (list(_CHURNED_CATALOGS),),
        ).fetchone()
        if found is not None and found[0] >= _DEAD_ROWS_WORTH_A_VACUUM:
            # Without the rights to (not the server's superuser nor the database's
            # owner), PostgreSQL skips each table with a warning: nothing breaks.
            names = sql.SQL(", ").join(sql.Identifier("pg_catalog", t) for t in _CHURNED_CATALOGS)
            conn.execute(sql.SQL("VACUUM {}").format(names))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _is_xdist_worker(session.config) and postgres_probe().available:
        _vacuum_catalogs_if_piled_up(postgres_probe().url)
    if (
        running_in_ci()
        and _skipped_postgres_tests
        and not _is_xdist_worker(session.config)
        and exitstatus == pytest.ExitCode.OK
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if running_in_ci() and _skipped_postgres_tests and not _is_xdist_worker(config):
        terminalreporter.section("postgres tests skipped under CI=true", sep="=", red=True)
        for nodeid in _skipped_postgres_tests:
            terminalreporter.line(f"SKIPPED (counts as failure under CI): {nodeid}", red=True)
        terminalreporter.line(
            f"{len(_skipped_postgres_tests)} postgres test(s) skipped: session fails.", red=True
        )


# --------------------------------------------------------------------------
# The backend fixture.


def _postgres_url(probe: PostgresProbe) -> str:
    auth = quote(probe.user)
    if probe.password:
        auth += ":" + quote(probe.password)
    return f"postgresql://{auth}@{probe.host}:{probe.port}/{probe.dbname}"


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@contextmanager
def backend_env(kind: str, directory: Path) -> Iterator[dict[str, str]]:
    """Environment for an eventsourcing application on one backend.

    SQLite: a fresh database file in ``directory``.
    PostgreSQL: a fresh schema in the ``test`` database, dropped afterwards.
    Two applications built on the same dict share the same storage.
    """
    if kind == "sqlite":
        path = directory / "rete.sqlite"
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "RETE_DATABASE_URL": f"sqlite:///{path}",
        }
        return

    probe = require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(probe.url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": probe.dbname,
            "POSTGRES_HOST": probe.host,
            "POSTGRES_PORT": probe.port,
            "POSTGRES_USER": probe.user,
            "POSTGRES_PASSWORD": probe.password,
            "POSTGRES_SCHEMA": schema,
            # Rete's own URL names the schema; psycopg takes the plain one.
            "RETE_DATABASE_URL": f"{_postgres_url(probe)}?schema={schema}",
            "RETE_DATABASE_SCHEMA": schema,
            "POSTGRES_URL": _postgres_url(probe),
        }
    finally:
        _drop_schema(probe.url, schema)


def _drop_schema(url: str, schema: str) -> None:
    """Drop a test's schema. A background thread of the test's application that is
    still finishing its last statement (the server's workers stop asynchronously) can
    make PostgreSQL pick the drop as a deadlock's victim: the other side then goes
    on, so the drop is tried again."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        # A test that leaves a transaction open would block the drop for ever.
        conn.execute("SET lock_timeout = '10s'")
        for attempt in range(3):
            try:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
                return
            except psycopg.errors.DeadlockDetected:
                if attempt == 2:
                    raise
                time.sleep(0.2)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for an eventsourcing application on one backend (``backend_env``),
    fresh for each test."""
    with backend_env(request.param, tmp_path) as env:
        yield env


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The same, shared by the tests of one module: for storage that is costly to fill
    and that the tests leave as they found it (each test restores what it alters)."""
    with backend_env(request.param, tmp_path_factory.mktemp("module-backend")) as env:
        yield env


@pytest.fixture
def make_database(backend: dict[str, str]) -> Iterator[Callable[[int], Database]]:
    """``make_database(connections)``: the test's database through the one database
    layer, with a pool of that many connections; all closed at the end."""
    opened: list[Database] = []

    def make(connections: int) -> Database:
        opened.append(open_database(backend["RETE_DATABASE_URL"], connections))
        return opened[-1]

    yield make
    for database in reversed(opened):
        database.close()


# --------------------------------------------------------------------------
# The application on the test's backend, built from settings as the server
# builds it: one family of fixtures for every package (a package's conftest may
# override one, as the views' builds ``rete`` over a store the test holds).


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def rete_env(backend: dict[str, str], var_dir: Path) -> dict[str, str]:
    """The RETE_* variables for the backend (PostgreSQL's schema is in the URL), with
    no periodic checkpoints: a test signs when it means to."""
    return {
        "RETE_DATABASE_URL": backend["RETE_DATABASE_URL"],
        "RETE_VAR_DIR": str(var_dir),
        "RETE_CHECKPOINT_INTERVAL": "0",
        "RETE_DATABASE_POOL_SIZE": os.environ["RETE_DATABASE_POOL_SIZE"],
    }


@pytest.fixture
def settings_for(rete_env: dict[str, str]) -> Callable[..., Settings]:
    """Settings on this test's backend, with extra RETE_* variables."""
    return lambda **extra: load_settings({**rete_env, **extra})


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for()


@pytest.fixture
def make_rete(
    settings_for: Callable[..., Settings], clock: TestClock
) -> Iterator[Callable[..., Rete]]:
    """``make_rete(clock_=None, store=None, **RETE_vars)``: another application on the
    same database (a restarted process, or a second worker); all closed at the end."""

    def make(clock_: TestClock | None = None, store: Any = None, **extra: str) -> Rete:
        return build_rete(settings_for(**extra), clock=clock_ or clock, store=store)

    with closing_all(make) as made:
        yield made


@pytest.fixture
def rete(make_rete: Callable[..., Rete]) -> Rete:
    return make_rete()


@pytest.fixture
def people(rete: Rete) -> SimpleNamespace:
    """The people of the network, as the application's actors: ``people.anna``."""
    return people_of(rete)


# --------------------------------------------------------------------------
# The HTTP API.


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """``make_api(env, rete=None, clock=None)``: the API with the settings of ``env``,
    over ``rete`` or over an application of its own (closed at the end)."""
    opened: list[tuple[Api, Rete | None]] = []

    def make(env: dict[str, str], rete: Rete | None = None, clock: TestClock | None = None) -> Api:
        settings = load_settings(env)
        clock = clock or TestClock()
        owned = rete is None
        rete = rete or build_rete(settings, clock=clock)
        api = Api.open(settings, rete, clock)
        opened.append((api, rete if owned else None))
        return api

    yield make
    for api, owned in reversed(opened):
        api.close()
        if owned is not None:
            owned.close()


@pytest.fixture
def sqlite_env(tmp_path: Path, var_dir: Path) -> dict[str, str]:
    return {
        "RETE_DATABASE_URL": f"sqlite:///{tmp_path / 'rete.sqlite'}",
        "RETE_VAR_DIR": str(var_dir),
    }


@pytest.fixture
def api(make_api: Callable[..., Api], sqlite_env: dict[str, str]) -> Api:
    """The API on a fresh SQLite database."""
    return make_api(sqlite_env)


@pytest.fixture
def any_backend_api(rete_env: dict[str, str], make_api: Callable[..., Api]) -> Api:
    """The API on SQLite, then on PostgreSQL (the ``backend`` fixture's parameters).

    ``rete_env`` first: pytest sets fixtures up in this order and tears them down
    in reverse, so every API (and its background threads) is closed before the
    backend's database is dropped."""
    return make_api(rete_env)


@pytest.fixture
def problem() -> Callable[[httpx.Response, int, str], dict[str, Any]]:
    """``problem(response, status, code)`` checks an error answer and returns its body."""
    return assert_problem
