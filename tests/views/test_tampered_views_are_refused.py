"""Someone who can write to the database, but holds no KEK, alters the views (issue 10,
finding 4). Each alteration below made the API decrypt for the wrong reader, or
shorten an access log, before the views were authenticated. Now the next read that
meets the altered row is refused with the documented ``integrity-failure`` problem,
nothing personal is served, and ``/health`` reports the integrity in doubt.

The alterations are made with plain SQL past the application (``support.rawdb``),
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from support.http import Api
from support.people import people_of
from support.rawdb import connect, is_sqlite, table_of
from support.stories import record_consent, refer

from application.integrity import IntegrityFailure
from domain.vocabulary import Category
from infrastructure.bootstrap import build_store, key_operations
from infrastructure.views import open_views
from infrastructure.views.schema import ENTRIES, REFERRALS, Table

MARKER = "ZQXJ-TAMPER-MARKER"
CASES = "/api/v1/cases"

Problem = Callable[[httpx.Response, int, str], dict[str, Any]]


def execute(backend: dict[str, str], statement: str, params: Sequence[Any] = ()) -> int:
    """One statement on the test's database, written with ``{name}`` for each view
    table it names; returns how many rows it changed."""
    with connect(backend) as conn:
        if is_sqlite(backend):
            names = {n: n for n in _names(statement)}
            return int(conn.execute(statement.format(**names), params).rowcount)
        from psycopg import sql  # only PostgreSQL needs its identifiers quoted

        names = {n: table_of(backend, n) for n in _names(statement)}
        query = sql.SQL(statement.replace("?", "%s")).format(**names)
        return int(conn.execute(query, params).rowcount)


def _names(statement: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(statement) if f]


def refused(api: Api, problem: Problem, response: httpx.Response) -> None:
    """Refused as documented, with nothing personal in the answer, and /health degraded."""
    assert MARKER not in response.text
    problem(response, 500, "integrity-failure")
    answer = problem(api.client.get("/health"), 503, "integrity-in-doubt")
    assert "view-row-altered" in answer["detail"]
    assert all(MARKER not in alarm.detail for alarm in api.rete.integrity.alarms())


@pytest.fixture
def api(any_backend_api: Api) -> Api:
    return any_backend_api


def a_case(api: Api) -> str:
    """A CAV case with a note in several categories; its reference code."""
    people = people_of(api.rete)
    case = api.rete.cases.open(people.anna)
    ref = case.reference_code
    for category in ("identity", "health", "children"):
        api.rete.cases.add_note(people.anna, ref, category, f"{MARKER} {category} note")
    # The views hold it before the test alters them (an owner's own commands need not
    # wait for them: ``application.owners``).
    api.rete.ctx.views.catch_up()
    return str(ref)


def a_referred_case(api: Api) -> str:
    """``a_case`` referred to social services with her identity in scope."""
    ref = a_case(api)
    refer_her_identity(api, ref)
    return ref


def case_id_of(api: Api, ref: str) -> str:
    return str(api.rete.cases.load.case(ref).id)


def alter_one_row(backend: dict[str, str], statement: str, params: Sequence[Any] = ()) -> None:
    """``execute``, which must change exactly one row (the alteration took)."""
    assert execute(backend, statement, params) == 1


def give_to_the_school(api: Api, backend: dict[str, str], ref: str) -> None:
    """The case's row altered to name the school as its owner."""
    alter_one_row(
        backend,
        "UPDATE {rete_view_cases} SET owner_service = ? WHERE id = ?",
        ("ic-alessandrini", case_id_of(api, ref)),
    )


def copy_row(
    api: Api,
    backend: dict[str, str],
    table: Table,
    id_column: str,
    source: str,
    target: str,
    narrowed: str = "",
) -> None:
    """A row of case ``source`` (the one ``narrowed`` picks) copied into ``target``,
    under a new id: every other column, its seal and MAC included, as it was."""
    columns = table.column_names
    chosen = ", ".join("?" if c in (id_column, "case_id") else c for c in columns)
    name = "{" + table.name + "}"
    alter_one_row(
        backend,
        f"INSERT INTO {name} ({', '.join(columns)}) "
        f"SELECT {chosen} FROM {name} WHERE case_id = ? {narrowed}",
        (str(uuid4()), case_id_of(api, target), case_id_of(api, source)),
    )


def refer_her_identity(api: Api, ref: str) -> None:
    """The CAV refers the case to social services, her identity in scope, on consent."""
    people = people_of(api.rete)
    record_consent(api.rete, people.anna, ref)
    refer(api.rete, people.anna, ref, scope=["identity"], reason=f"{MARKER} reason")


def note_past_the_views(api: Api, ref: str) -> None:
    """A health note added to the case as another process writes it: to the log only."""
    case = api.rete.cases.load.case(ref)
    case.add_note(Category.HEALTH, f"{MARKER} later", people_of(api.rete).anna, api.clock.now())
    api.rete.ctx.store.save(case)


def test_a_case_given_to_another_owner_is_refused(api: Api, backend: Any, problem: Problem) -> None:
    # The reproduction: the school reads the CAV's children note.
    ref = a_case(api)
    assert api.get("lia", f"{CASES}/{ref}").status_code == 404
    give_to_the_school(api, backend, ref)
    refused(api, problem, api.get("lia", f"{CASES}/{ref}"))


def test_a_sealed_part_moved_onto_another_category_is_refused(
    api: Api, backend: Any, problem: Problem
) -> None:
    # The reproduction: social services, which may read her identity, read a health
    # note as an identity note (the seal binds the event, not the row's category).
    ref = a_referred_case(api)
    shown = api.ok(api.get("bea", f"{CASES}/{ref}"))
    assert f"{MARKER} health note" not in str(shown)
    alter_one_row(
        backend,
        "UPDATE {rete_view_entries} SET "
        + ", ".join(
            f"{c} = (SELECT h.{c} FROM {{rete_view_entries}} h WHERE h.case_id = ? "
            "AND h.category = 'health')"
            for c in ("sealed", "sealed_version", "sealed_topic")
        )
        + " WHERE case_id = ? AND category = 'identity'",
        (case_id_of(api, ref),) * 3 + (case_id_of(api, ref),),
    )
    refused(api, problem, api.get("bea", f"{CASES}/{ref}"))


def test_a_deleted_access_record_is_refused(api: Api, backend: Any, problem: Problem) -> None:
    # The reproduction: deleting a row silently shortened the access log.
    ref = a_case(api)
    for _ in range(3):
        api.ok(api.get("anna", f"{CASES}/{ref}"))
    log = api.ok(api.get("chiara", f"{CASES}/{ref}/access-log"))
    assert len(log["items"]) == 3
    for newest in (False, True):  # one in the middle, then the newest
        execute(
            backend,
            "DELETE FROM {rete_view_access} WHERE record_id = (SELECT record_id FROM "
            "{rete_view_access} WHERE case_id = ? ORDER BY position "
            + ("DESC " if newest else "")
            + "LIMIT 1 OFFSET 1)",
            (case_id_of(api, ref),),
        )
        refused(api, problem, api.get("chiara", f"{CASES}/{ref}/access-log"))


def test_a_referral_sent_to_another_recipient_is_refused(
    api: Api, backend: Any, problem: Problem
) -> None:
    ref = a_referred_case(api)
    assert api.get("lia", f"{CASES}/{ref}").status_code == 404
    alter_one_row(
        backend,
        "UPDATE {rete_view_referrals} SET recipient_service = ? WHERE case_id = ?",
        ("ic-alessandrini", case_id_of(api, ref)),
    )
    refused(api, problem, api.get("lia", f"{CASES}/{ref}"))


def test_a_row_copied_from_another_case_is_refused(
    api: Api, backend: Any, problem: Problem
) -> None:
    # Case A is referred to social services; case B is not. A copy of A's referral
    # row, given B's case id, would let social services read B.
    referred, other = a_case(api), a_case(api)
    refer_her_identity(api, referred)
    assert api.get("bea", f"{CASES}/{other}").status_code == 404
    copy_row(api, backend, REFERRALS, "id", referred, other)
    refused(api, problem, api.get("bea", f"{CASES}/{other}"))


def test_an_entry_copied_from_another_case_is_refused(
    api: Api, backend: Any, problem: Problem
) -> None:
    # The owner reads her own case B, which now holds a note copied from case A.
    source, target = a_case(api), a_case(api)
    copy_row(api, backend, ENTRIES, "entry_id", source, target, "AND category = 'health'")
    refused(api, problem, api.get("anna", f"{CASES}/{target}"))


def test_untouched_views_are_served_and_health_stays_ok(api: Api) -> None:
    # A moment given in another time zone is stored as the same instant: its MAC holds.
    ref = a_case(api)
    people = people_of(api.rete)
    rome = timezone(timedelta(hours=2))
    expires = (api.clock.now() + timedelta(days=30)).astimezone(rome)
    record_consent(api.rete, people.anna, ref, expires_at=expires)
    refer(api.rete, people.anna, ref, scope=["identity"], reason=f"{MARKER} reason")
    assert f"{MARKER} reason" in str(api.ok(api.get("bea", f"{CASES}/{ref}")))
    shown = api.ok(api.get("anna", f"{CASES}/{ref}"))
    assert f"{MARKER} health note" in str(shown)
    api.ok(api.get("chiara", f"{CASES}/{ref}/access-log"))
    api.ok(api.client.get("/health"))


def test_an_altered_row_is_not_made_valid_by_the_next_event_on_it(
    api: Api, backend: Any, problem: Problem
) -> None:
    # The projection changes the case's row on the case's next event: it must not sign
    # the altered row again, which would make the alteration valid.
    ref = a_case(api)
    give_to_the_school(api, backend, ref)
    note_past_the_views(api, ref)
    # The views follow the log before anyone reads (as `rete views run` does).
    with contextlib.suppress(IntegrityFailure):
        api.rete.ctx.views.catch_up()
    refused(api, problem, api.get("lia", f"{CASES}/{ref}"))
    # And it stays refused: the views do not move past it until they are rebuilt.
    problem(api.get("lia", f"{CASES}/{ref}"), 500, "integrity-failure")


def test_the_views_stay_valid_after_the_kek_rotates(api: Api) -> None:
    # The MAC key derives from a data key the KEK wraps: a new KEK version rewraps it,
    # and a process started afterwards checks the same rows without a rebuild.
    ref = a_case(api)
    with key_operations(api.settings) as (kek, keys):
        kek.rotate()
        assert keys.rewrap_all(kek) > 0
    with (
        contextlib.closing(build_store(api.settings)) as store,
        open_views(api.settings, store.recorder, store.keys, catch_up_before_reads=True) as views,
    ):
        assert views.fresh == []
        rows = views.queries.case(UUID(case_id_of(api, ref)))
        assert rows is not None and len(rows.entries) == 3
    api.ok(api.client.get("/health"))


def test_a_deleted_consent_is_refused(api: Api, backend: Any, problem: Problem) -> None:
    # A referral on a consent lets its recipient read until the consent ends. With
    # the consent's row deleted, its end would be gone, and what was written after
    # it served: a deletion that grants access.
    ref = a_case(api)
    people = people_of(api.rete)
    expires = api.clock.now() + timedelta(days=1)
    record_consent(api.rete, people.anna, ref, expires_at=expires)
    refer(api.rete, people.anna, ref, scope=["identity"], reason=f"{MARKER} reason")
    api.clock.advance(hours=48)
    api.rete.cases.add_note(people.anna, ref, "identity", f"{MARKER} after it expired")
    assert "after it expired" not in api.get("bea", f"{CASES}/{ref}").text
    alter_one_row(
        backend, "DELETE FROM {rete_view_consents} WHERE case_id = ?", (case_id_of(api, ref),)
    )
    refused(api, problem, api.get("bea", f"{CASES}/{ref}"))


def test_a_rebuild_repairs_altered_views(api: Api, backend: Any) -> None:
    # The repair the alarm asks for: `rete views rebuild`, even when the views have
    # stopped at the altered row.
    ref = a_case(api)
    give_to_the_school(api, backend, ref)
    note_past_the_views(api, ref)
    with (
        contextlib.closing(build_store(api.settings)) as store,
        open_views(api.settings, store.recorder, store.keys) as views,
    ):
        views.rebuild()
        assert views.check() == []
    assert api.get("lia", f"{CASES}/{ref}").status_code == 404
    assert f"{MARKER} later" in api.ok(api.get("anna", f"{CASES}/{ref}")).__repr__()
