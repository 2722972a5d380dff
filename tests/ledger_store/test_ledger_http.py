"""``/api/v1/ledger``: the checkpoint for anyone signed in, proofs for auditors only,
verified by the client against the checkpoint with the public key."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from ledger_store_support import EventsTable, flip, write_cases
from support.http import Api
from support.problems import assert_problem as problem

from infrastructure.ledger.ledger import Ledger
from infrastructure.ledger.merkle import decode_leaf, leaf_hash
from infrastructure.ledger.note import Verifier, open_checkpoint
from infrastructure.ledger.proofs import verify_consistency, verify_inclusion

LEDGER = "/api/v1/ledger"


class Http(Api):
    """The shared API client; a ledger read takes its query as keywords."""

    def get(self, who: str | None, path: str, **params: Any) -> httpx.Response:
        return super().get(who, path, params=params)


@pytest.fixture
def make_http(make_api: Callable[..., Api], ledger_env: dict[str, str]) -> Callable[..., Http]:
    def make(**extra: str) -> Http:
        api = make_api({**ledger_env, **extra})
        return Http(api.client, api.settings, api.rete, api.clock, api.secret)

    return make


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_proofs_for_an_auditor_verify_against_the_signed_checkpoints(
    make_http: Callable[..., Http], ledger: Ledger
) -> None:
    http = make_http()
    problem(http.get("anna", f"{LEDGER}/checkpoint"), 404, "no-checkpoint")
    problem(http.get("ugo", f"{LEDGER}/proofs/inclusion", index=0, size=1), 404, "no-checkpoint")
    write_cases(http.rete, 2, 30)
    first = ledger.sign_checkpoint().checkpoint  # as `rete ledger checkpoint` would
    write_cases(http.rete, 2, 45, start=2)
    ledger.sign_checkpoint()

    key = http.get("anna", f"{LEDGER}/public-key")
    assert key.headers["content-type"].startswith("text/plain")
    verifier = Verifier.from_key_string(key.text.strip())
    answer = http.get("anna", f"{LEDGER}/checkpoint")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    latest = open_checkpoint(answer.content, [verifier], verifier.name)
    assert latest.size == 154

    for index in (0, 61, 62, 153):
        body = http.get("ugo", f"{LEDGER}/proofs/inclusion", index=index, size=latest.size).json()
        leaf = body["leaf"]
        assert leaf_hash(b64(leaf["data"])) == b64(leaf["hash"])
        fields = decode_leaf(b64(leaf["data"]))
        assert (fields.position, str(fields.stream_id), fields.topic) == (
            leaf["position"],
            leaf["stream_id"],
            leaf["topic"],
        )
        proof = [b64(h) for h in body["proof"]]
        verify_inclusion(b64(leaf["hash"]), index, latest.size, proof, latest.root)

    body = http.get("ugo", f"{LEDGER}/proofs/consistency", first=first.size, second=154).json()
    proof = [b64(h) for h in body["proof"]]
    verify_consistency(first.size, 154, proof, first.root, latest.root)
    assert b64(body["first_root"]) == first.root and b64(body["second_root"]) == latest.root


def test_proofs_are_for_auditors_and_signed_sizes_only(
    make_http: Callable[..., Http], ledger: Ledger
) -> None:
    http = make_http()
    write_cases(http.rete, 1, 19)
    ledger.sign_checkpoint()
    write_cases(http.rete, 1, 9, start=1)  # ledgered later, not yet signed
    ledger.catch_up()
    inclusion, consistency = f"{LEDGER}/proofs/inclusion", f"{LEDGER}/proofs/consistency"
    for who in ("anna", "chiara"):
        problem(http.get(who, inclusion, index=0, size=20), 403, "role-not-allowed")
        problem(http.get(who, consistency, first=1, second=20), 403, "role-not-allowed")
    assert http.get(None, inclusion, index=0, size=20).status_code == 401
    assert http.get(None, f"{LEDGER}/checkpoint").status_code == 401
    problem(http.get("ugo", inclusion, index=0, size=21), 400, "tree-size-beyond-checkpoint")
    problem(http.get("ugo", inclusion, index=0, size=0), 400, "tree-size-beyond-checkpoint")
    problem(http.get("ugo", inclusion, index=20, size=20), 400, "leaf-index-out-of-range")
    problem(http.get("ugo", inclusion, index=-1, size=20), 400, "leaf-index-out-of-range")
    problem(http.get("ugo", consistency, first=5, second=25), 400, "tree-size-beyond-checkpoint")
    problem(http.get("ugo", consistency, first=0, second=20), 400, "invalid-tree-sizes")
    problem(http.get("ugo", consistency, first=15, second=10), 400, "invalid-tree-sizes")
    malformed = http.client.get(
        f"{inclusion}?index=x&size=20", headers=http.get("ugo", "/health").request.headers
    )
    problem(malformed, 400, "invalid-parameter")
    assert http.get("ugo", inclusion, size=20).status_code == 400  # index missing
    assert http.get("ugo", consistency, first=20, second=20).json()["proof"] == []


def test_a_record_altered_after_it_was_ledgered_is_reported_not_proven(
    make_http: Callable[..., Http], ledger: Ledger, events: EventsTable
) -> None:
    http = make_http()
    write_cases(http.rete, 1, 9)
    ledger.sign_checkpoint()
    rows = events.rows()
    rows[4] = (*rows[4][:4], flip(rows[4][4], 1))
    events.replace_all(rows)
    problem(
        http.get("ugo", f"{LEDGER}/proofs/inclusion", index=4, size=10),
        409,
        "ledger-record-altered",
    )
    assert http.get("ugo", f"{LEDGER}/proofs/inclusion", index=5, size=10).status_code == 200


def test_the_server_signs_checkpoints_by_itself_as_the_log_grows(
    make_http: Callable[..., Http], events: EventsTable
) -> None:
    http = make_http(RETE_CHECKPOINT_INTERVAL="0.2")
    anna_opens = http.client.post(
        "/api/v1/cases", headers=http.get("anna", "/health").request.headers
    )
    assert anna_opens.status_code == 201, anna_opens.text
    deadline = time.monotonic() + 10
    while (answer := http.get("anna", f"{LEDGER}/checkpoint")).status_code == 404:
        assert time.monotonic() < deadline, "no checkpoint signed"
        time.sleep(0.05)
    key = Verifier.from_key_string(http.get("anna", f"{LEDGER}/public-key").text.strip())
    assert open_checkpoint(answer.content, [key], key.name).size == events.count()
