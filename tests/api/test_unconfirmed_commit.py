"""A write whose commit the database did not acknowledge is never answered as "not
written" (issue 11, finding 3).

The fault is injected in the drivers (``support.lost_ack``): the events are
committed and the connection drops before the acknowledgement arrives. On
PostgreSQL the storage library then inserts them again and meets its own rows.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from support.lost_ack import commit_acknowledgement_lost

from infrastructure.store import ReteEventStore

CASES = "/api/v1/cases"
NOTE = {"category": "violence", "text": "he came back last night"}


def texts(api: Any, ref: str) -> list[str]:
    return [e["text"] for e in api.get("anna", f"{CASES}/{ref}").json()["entries"]]


def test_a_note_committed_without_acknowledgement_is_answered_as_written(any_backend_api) -> None:
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    with commit_acknowledgement_lost() as lost:
        answer = api.post("anna", f"{CASES}/{ref}/notes", json=NOTE)
    assert lost == [1]
    assert answer.status_code == 201, answer.text
    assert answer.json()["text"] == NOTE["text"]
    assert texts(api, ref) == [NOTE["text"]]


def test_a_case_opened_without_acknowledgement_is_one_case(any_backend_api) -> None:
    api = any_backend_api
    before = api.get("anna", CASES).json()["items"]
    with commit_acknowledgement_lost() as lost:
        answer = api.post("anna", CASES, headers={"Idempotency-Key": "open-1"})
    assert lost == [1]
    assert answer.status_code == 201, answer.text
    retry = api.post("anna", CASES, headers={"Idempotency-Key": "open-1"})
    assert retry.json()["id"] == answer.json()["id"]
    assert len(api.get("anna", CASES).json()["items"]) == len(before) + 1


def test_an_outcome_that_cannot_be_read_is_503_outcome_unknown_and_the_retry_finds_out(
    any_backend_api, problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log cannot be read either just after the lost acknowledgement: the answer
    is 503 outcome-unknown (retry with the same key), and the retry, once the
    database answers, says the write was applied instead of writing it again."""
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    recorder = api.rete.ctx.store.recorder  # type: ignore[attr-defined]
    assert isinstance(api.rete.ctx.store, ReteEventStore)
    reading = recorder.select_events

    headers = {"Idempotency-Key": "note-away"}
    with commit_acknowledgement_lost() as lost:

        def unreadable(*args: Any, **kwargs: Any) -> Any:
            if lost:  # once the acknowledgement is lost, the database is away
                raise OperationalError("the database is away")
            return reading(*args, **kwargs)

        monkeypatch.setattr(recorder, "select_events", unreadable)
        answer = api.post("anna", f"{CASES}/{ref}/notes", json=NOTE, headers=headers)
        monkeypatch.setattr(recorder, "select_events", reading)
    assert lost == [1]
    body = problem(answer, 503, "outcome-unknown")
    assert "Idempotency-Key" in body["detail"]
    assert answer.headers["retry-after"]

    retry = api.post("anna", f"{CASES}/{ref}/notes", json=NOTE, headers=headers)
    problem(retry, 409, "already-applied")
    assert texts(api, ref) == [NOTE["text"]]
