"""Over HTTP: a write sent again with one ``Idempotency-Key`` has one effect, and
every retry gets the first answer, whichever worker answers and across a restart
(issue 11, finding 8; done-when 4).

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from support.http import Api

from application.rete import Rete
from domain.case import Case
from infrastructure.bootstrap import build_rete
from infrastructure.settings import Settings

CASES = "/api/v1/cases"
RETRIES = 100
NOTE = {"category": "violence", "text": "he came back last night"}


@pytest.fixture
def workers(settings: Settings, clock: Any) -> Iterator[Callable[[], tuple[Api, Rete]]]:
    """``start()``: one more server process on the same database, and its application
    (``stop`` stops both: with a ``start`` after it, a restart)."""
    with ExitStack() as stack:

        def start() -> tuple[Api, Rete]:
            rete = build_rete(settings, clock=clock)
            stack.callback(rete.close)
            api = Api.open(settings, rete, clock)
            stack.callback(lambda: stop(api, rete))
            return api, rete

        yield start


def stop(api: Api, rete: Rete) -> None:
    """Stop a worker (once: the fixture stops every one still running at the end)."""
    if not getattr(api, "stopped", False):
        api.stopped = True  # type: ignore[attr-defined]
        api.close()
        rete.close()


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def retried(apis: list[Api], path: str, count: int, **kwargs: Any) -> list[Any]:
    """``count`` sends of one request, spread over ``apis`` in turn."""
    return [apis[i % len(apis)].post("anna", path, **kwargs) for i in range(count)]


def cases_in(rete: Rete) -> int:
    return len(rete.ctx.store.ids_of(Case))


def test_a_hundred_retries_of_one_opening_over_two_workers_and_a_restart_open_one_case(
    workers,
) -> None:
    first, first_rete = workers()
    second, _ = workers()
    before = cases_in(first_rete)
    answers = retried([first, second], CASES, RETRIES // 2, headers=key("open-7f3a"))
    stop(first, first_rete)  # a restart: the first worker comes back as a new process
    restarted, restarted_rete = workers()
    answers += retried([restarted, second], CASES, RETRIES - len(answers), headers=key("open-7f3a"))

    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1  # the first answer, byte for byte
    assert len({a.headers["etag"] for a in answers}) == 1
    assert "idempotent-replayed" not in answers[0].headers
    assert all(a.headers["idempotent-replayed"] == "true" for a in answers[1:])
    assert cases_in(restarted_rete) == before + 1


def test_a_hundred_retries_of_one_note_over_two_workers_and_a_restart_add_one_note(
    workers,
) -> None:
    first, first_rete = workers()
    second, _ = workers()
    ref = first.post("anna", CASES).json()["reference_code"]
    notes = f"{CASES}/{ref}/notes"
    answers = retried([first, second], notes, RETRIES // 2, json=NOTE, headers=key("note-1"))
    stop(first, first_rete)
    restarted, _ = workers()
    answers += retried(
        [second, restarted], notes, RETRIES - len(answers), json=NOTE, headers=key("note-1")
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    entries = restarted.get("anna", f"{CASES}/{ref}").json()["entries"]
    assert [e["text"] for e in entries] == [NOTE["text"]]


def test_concurrent_duplicates_of_one_key_have_one_effect(workers) -> None:
    first, rete = workers()
    second, _ = workers()
    before = cases_in(rete)
    headers = {**first.headers("anna"), **key("open-at-once")}
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(api: Api) -> None:
        try:
            for _ in range(5):
                statuses.append(api.client.post(CASES, headers=headers).status_code)
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=send, args=(api,)) for api in (first, second) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Each is the first answer, or "still running, retry": never a second case.
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert cases_in(rete) == before + 1


def test_one_key_with_another_body_is_refused_and_writes_nothing(any_backend_api, problem) -> None:
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    notes = f"{CASES}/{ref}/notes"
    assert api.post("anna", notes, json=NOTE, headers=key("k-1")).status_code == 201
    other = {"category": "violence", "text": "something else"}
    problem(api.post("anna", notes, json=other, headers=key("k-1")), 422, "idempotency-key-reused")
    # Another address with the key is another request too.
    problem(api.post("anna", CASES, headers=key("k-1")), 422, "idempotency-key-reused")
    entries = api.get("anna", f"{CASES}/{ref}").json()["entries"]
    assert [e["text"] for e in entries] == [NOTE["text"]]


def test_a_key_is_its_callers_own(any_backend_api) -> None:
    api = any_backend_api
    before = cases_in(api.rete)
    anna = api.post("anna", CASES, headers=key("shared-word"))
    lia = api.post("lia", CASES, headers=key("shared-word"))
    assert (anna.status_code, lia.status_code) == (201, 201)
    assert anna.json()["id"] != lia.json()["id"]
    assert cases_in(api.rete) == before + 2


def test_a_refused_write_keeps_no_answer_and_a_retry_runs_again(any_backend_api, problem) -> None:
    api = any_backend_api
    ref = api.post("anna", CASES).json()["reference_code"]
    notes = f"{CASES}/{ref}/notes"
    bad = {"category": "violence", "text": "   "}
    refused = api.post("anna", notes, json=bad, headers=key("k-2"))
    assert refused.status_code in (400, 422), refused.text
    # Nothing was written: the key is free for the same request again.
    again = api.post("anna", notes, json=bad, headers=key("k-2"))
    assert again.json()["code"] == refused.json()["code"]
    assert api.post("anna", notes, json=NOTE, headers=key("k-3")).status_code == 201


def test_without_a_key_every_send_is_a_write(any_backend_api) -> None:
    api = any_backend_api
    before = cases_in(api.rete)
    assert api.post("anna", CASES).status_code == 201
    assert api.post("anna", CASES).status_code == 201
    assert cases_in(api.rete) == before + 2
