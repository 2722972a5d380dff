"""The running ledger notices a tampered log without ``rete ledger verify`` (issue 10,
finding 5): a record it already hashed that changed or vanished, and a version
reused. It then refuses to sign checkpoints, ``/health`` answers 503, and the
case's writes and reads answer the documented ``integrity-failure`` problem.

The server (``make_api``) and the signer (the ``ledger`` fixture, or ``rete ledger
checkpoint``) are opened separately, as two processes are on PostgreSQL: what the
signer finds, the server must see.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ledger_store_support import EventsTable, Row, flip
from support.http import Api
from support.problems import assert_problem as problem

from api.cli import main
from infrastructure.ledger.checkpoints import LedgerInconsistent
from infrastructure.ledger.ledger import Ledger

CASES = "/api/v1/cases"
NOTE = {"category": "violence", "text": "what she told us"}


@pytest.fixture
def http(make_api: Callable[..., Api], ledger_env: dict[str, str]) -> Api:
    return make_api(ledger_env)


def open_case(http: Api, notes: int = 3) -> str:
    """A case with ``notes`` notes, written through the API; returns its id."""
    case = http.ok(http.post("anna", f"{CASES}/"), 201)
    for _ in range(notes):
        http.ok(http.post("anna", f"{CASES}/{case['id']}/notes", json=NOTE), 201)
    return str(case["id"])


def rows_of(events: EventsTable, case_id: str) -> list[Row]:
    wanted = case_id.replace("-", "")
    return [row for row in events.rows() if row[1].replace("-", "") == wanted]


def without(events: EventsTable, row: Row) -> None:
    events.execute("DELETE FROM {t} WHERE {pos} = ?", (row[0],))


def checkpoint_cli(env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, ["ledger", "checkpoint"], env=env)


def health_503(http: Api) -> dict[str, Any]:
    """``/health`` once it reports the alarm (another process's alarm is read from the
    database, at most a second late)."""
    deadline = time.monotonic() + 10
    while True:
        answer = http.client.get("/health")
        if answer.status_code == 503 or time.monotonic() > deadline:
            return problem(answer, 503, "integrity-in-doubt")
        time.sleep(0.1)


def refused(http: Api, case_id: str) -> None:
    """The case's next write and read are refused as integrity failures."""
    problem(http.post("anna", f"{CASES}/{case_id}/notes", json=NOTE), 500, "integrity-failure")
    read = http.get("anna", f"{CASES}/{case_id}")
    assert read.status_code != 200
    problem(read, 500, "integrity-failure")


def found_at_the_next_step(http: Api, ledger: Ledger, case_id: str, why: str, kind: str) -> None:
    """The ledger's next step raises the alarm: it signs nothing, ``/health`` names
    ``kind``, and the case is no longer served."""
    ledger.catch_up()
    with pytest.raises(LedgerInconsistent, match=why):
        ledger.sign_checkpoint()
    assert kind in health_503(http)["detail"]
    refused(http, case_id)


def test_an_untampered_log_raises_no_alarm(http: Api, ledger: Ledger) -> None:
    case_id = open_case(http)
    ledger.sign_checkpoint()
    open_case(http)
    ledger.catch_up()
    ledger.sign_checkpoint()
    assert http.client.get("/health").status_code == 200
    http.ok(http.post("anna", f"{CASES}/{case_id}/notes", json=NOTE), 201)
    http.ok(http.get("anna", f"{CASES}/{case_id}"))


def test_a_flipped_byte_in_a_hashed_record_is_found_at_the_next_step(
    http: Api, ledger: Ledger, events: EventsTable
) -> None:
    case_id = open_case(http)
    ledger.sign_checkpoint()
    position, *_, state = rows_of(events, case_id)[1]
    events.execute("UPDATE {t} SET state = ? WHERE {pos} = ?", (flip(state, 100), position))

    ledger.catch_up()  # one follow step of the signer, nothing new to ledger

    with pytest.raises(LedgerInconsistent, match="altered"):
        ledger.sign_checkpoint()
    answer = health_503(http)
    assert "log-record-altered" in answer["detail"]
    refused(http, case_id)


def test_rete_ledger_checkpoint_refuses_to_sign_a_tampered_log(
    http: Api, ledger: Ledger, events: EventsTable, ledger_env: dict[str, str]
) -> None:
    case_id = open_case(http)
    ledger.sign_checkpoint()
    position, *_, state = rows_of(events, case_id)[0]
    events.execute("UPDATE {t} SET state = ? WHERE {pos} = ?", (flip(state, 7), position))

    result = checkpoint_cli(ledger_env)

    assert result.exit_code != 0
    assert "altered" in result.output and "no checkpoint" in result.output
    health_503(http)
    refused(http, case_id)


def test_a_deleted_row_is_found_at_the_next_step(
    http: Api, ledger: Ledger, events: EventsTable
) -> None:
    case_id = open_case(http)
    open_case(http)  # the deleted row is not the last of the log
    ledger.sign_checkpoint()
    without(events, rows_of(events, case_id)[2])

    found_at_the_next_step(http, ledger, case_id, "vanished", "log-record-vanished")


def test_a_case_whose_last_event_was_deleted_takes_no_note_at_the_same_version(
    http: Api, ledger: Ledger, events: EventsTable
) -> None:
    case_id = open_case(http)
    ledger.catch_up()  # hashed, not yet signed
    last = rows_of(events, case_id)[-1]
    without(events, last)

    # The write itself sees the version the ledger hashed is gone: it is refused,
    # and the log is left as the tamperer left it.
    problem(http.post("anna", f"{CASES}/{case_id}/notes", json=NOTE), 500, "integrity-failure")
    assert [row[2] for row in rows_of(events, case_id)] == list(range(1, last[2]))
    assert "log-record-vanished" in health_503(http)["detail"]
    with pytest.raises(LedgerInconsistent):
        ledger.sign_checkpoint()
    refused(http, case_id)


def test_a_version_stored_again_at_a_new_position_is_found_by_the_follower(
    http: Api, ledger: Ledger, events: EventsTable
) -> None:
    """The row a tamperer deleted comes back later in the log (a replay): the
    follower, ledgering it, sees a version of the stream it hashed already."""
    case_id = open_case(http)
    open_case(http)
    ledger.catch_up()
    position, oid, version, topic, state = rows_of(events, case_id)[1]
    without(events, (position, oid, version, topic, state))
    events.execute(
        "INSERT INTO {t} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        (oid, version, topic, state),
    )

    found_at_the_next_step(http, ledger, case_id, "reused", "log-version-reused")


def test_a_tampered_record_loaded_by_a_write_is_an_integrity_failure(
    http: Api, ledger: Ledger, events: EventsTable
) -> None:
    """Before any ledger step: the write that loads the altered record is refused as
    an integrity failure (never ``internal-error``), and raises the alarm."""
    case_id = open_case(http)
    position, *_, state = rows_of(events, case_id)[1]
    events.execute("UPDATE {t} SET state = ? WHERE {pos} = ?", (flip(state, 100), position))

    problem(http.post("anna", f"{CASES}/{case_id}/notes", json=NOTE), 500, "integrity-failure")
    assert "log-record-altered" in health_503(http)["detail"]
    problem(http.get("anna", f"{CASES}/{case_id}"), 500, "integrity-failure")


def test_the_servers_own_ledger_thread_notices_by_itself(
    make_api: Callable[..., Api], ledger_env: dict[str, str], ledger: Ledger, events: EventsTable
) -> None:
    """No test call drives the ledger: the server's background thread follows the log
    (every second) and re-reads what it hashed."""
    http = make_api({**ledger_env, "RETE_CHECKPOINT_INTERVAL": "3600"})
    case_id = open_case(http)
    deadline = time.monotonic() + 10
    while ledger.store.head().size < len(rows_of(events, case_id)):
        assert time.monotonic() < deadline, "the server's ledger thread did not follow"
        time.sleep(0.1)
    position, *_, state = rows_of(events, case_id)[-1]
    events.execute("UPDATE {t} SET state = ? WHERE {pos} = ?", (flip(state, 3), position))

    assert "log-record-altered" in health_503(http)["detail"]
    refused(http, case_id)


def test_rete_ledger_alarms_lists_them_until_an_operator_clears_them(
    http: Api, ledger: Ledger, events: EventsTable, ledger_env: dict[str, str]
) -> None:
    def alarms(*args: str) -> Result:
        return CliRunner().invoke(main, ["ledger", "alarms", *args], env=ledger_env)

    case_id = open_case(http)
    ledger.catch_up()
    assert (alarms().exit_code, alarms().output) == (0, "No integrity alarm stands.\n")
    without(events, rows_of(events, case_id)[-1])
    ledger.catch_up()

    listed = alarms()
    assert listed.exit_code == 1
    assert "log-record-vanished" in listed.output
    assert alarms("--clear").exit_code == 0
    assert alarms().exit_code == 0
