"""Malformed requests on every route: never a 5xx, every 4xx a problem (issue 10, done-when 5).

``fuzz.py`` makes the requests (every route of the app in turn, from its
OpenAPI document, broken in its path, query string, headers, body bytes, media
type and values). Each answer must be below 500, and every 4xx must be
``application/problem+json`` with the project's problem shape.

The default run sends ``DEFAULT_REQUESTS`` per backend, a few seconds. The full
run sends 10,000 per backend::

    .venv/bin/pytest -n 0 -m slow tests/api/test_http_fuzz.py

``RETE_FUZZ_REQUESTS=N`` changes the count of the default run and
``RETE_FUZZ_SEED=S`` the seed; a failure names its seed and request index.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from fuzz import Fuzzer, FuzzRequest, routes_of
from http_stories import POLICE_CONSENT
from support.http import anna_claims

from domain import vocabulary as v
from infrastructure.ledger.ledger import open_ledger

DEFAULT_REQUESTS = 600
FULL_REQUESTS = 10_000
SEED = 20261204

CASES = "/api/v1/cases"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "instance", "errors"}
CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
UUID_URN = re.compile(r"^urn:uuid:[0-9a-f-]{36}$")

PEOPLE = {
    "anna": ("cav-scirocco", ["caseworker"]),
    "chiara": ("cav-scirocco", ["coordinator"]),
    "paolo": ("pl-cesano", ["caseworker"]),
    "pietro": ("pl-cesano", ["coordinator"]),
    "lia": ("ic-alessandrini", ["caseworker"]),
    "bea": ("ss-cesano", ["caseworker"]),
    "ugo": ("garanzia-cesano", ["auditor"]),
    "olga": ("osservatorio", ["analyst"]),
}


def seed_network(api) -> dict[str, list[str]]:
    """A case with a note, a consent and a referral; another case at a school; a
    checkpoint of the ledger."""
    ref = api.post("anna", CASES).json()["reference_code"]
    api.post("anna", f"{CASES}/{ref}/notes", json={"category": "violence", "text": "the facts"})
    consent = api.post(
        "anna",
        f"{CASES}/{ref}/consents",
        json=POLICE_CONSENT,
    ).json()
    referral = api.post(
        "anna",
        f"{CASES}/{ref}/referrals",
        json={
            "recipient_service": "pl-cesano",
            "kind": "protection_measures",
            "urgency": "urgent",
            "reason": "he threatened her again",
            "scope": ["violence"],
            "legal_basis": "consent",
            "consent_id": consent["id"],
        },
    ).json()
    school = api.post("lia", CASES).json()["reference_code"]
    # A signed checkpoint, so the ledger's proofs answer more than "no-checkpoint".
    ledger = open_ledger(api.settings, api.rete.ctx.store.recorder)
    try:
        ledger.sign_checkpoint()
    finally:
        ledger.close()
    return {
        "case_ref": [ref, school],
        "referral_id": [referral["id"]],
        "consent_id": [consent["id"]],
        "path": ["openapi.json", "openapi.yaml", "swagger", "redoc", "elements", "scalar", "x"],
    }


def vocabulary(api) -> list[str]:
    words = [m.value for e in (v.Category, v.ReferralKind, v.Urgency, v.LegalBasis) for m in e]
    words += [m.value for m in v.ServiceKind] + [service for service, _ in PEOPLE.values()]
    for instrument in api.rete.ctx.instruments.values():
        words += [instrument.id, *(item.id for item in instrument.items)]
    return [*words, "low", "medium", "high"]


def body_fields(api, known: dict[str, list[str]]) -> dict[str, list[str]]:
    """What each body field of the API takes, so many bodies get past the schema."""
    categories = [m.value for m in v.Category]
    kinds = [m.value for m in v.ReferralKind]
    instruments = list(api.rete.ctx.instruments.values())
    texts = ["the facts", "he threatened her again", "ok\u200b", "暴力", "x" * 20_000, "\u200b"]
    return {
        "category": categories,
        "categories": categories,
        "scope": categories,
        "kind": kinds,
        "purposes": kinds,
        "urgency": [m.value for m in v.Urgency],
        "legal_basis": [m.value for m in v.LegalBasis],
        "recipient_kinds": [m.value for m in v.ServiceKind],
        "recipient_services": [service for service, _ in PEOPLE.values()],
        "recipient_service": [service for service, _ in PEOPLE.values()],
        "consent_id": known["consent_id"],
        "instrument_id": [i.id for i in instruments],
        "answers.keys": [item.id for i in instruments for item in i.items],
        "judgement": ["low", "medium", "high"],
        "text": texts,
        "reason": texts,
        "justification": texts,
        "statute": ["L. 69/2019 art. 1", ""],
    }


def forger(api):
    """Tokens that are almost right: valid signatures over odd claims, or odd signatures."""

    def forge(rng: random.Random) -> str:
        now = int(datetime.now(UTC).timestamp())
        claims = anna_claims(api.settings, now, now + 600)
        key = rng.choice(["sub", "service", "roles", "iss", "aud", "iat", "exp", "nbf", "x"])
        claims[key] = rng.choice(
            [None, "", "\u200b", 10**30, -1, now + 10**9, [], ["analyst"], ["x" * 60], "x" * 300]
        )
        secret = api.secret if rng.random() < 0.8 else b"another secret of 32 bytes......"
        algorithm = rng.choice(["HS256", "HS256", "HS384", "HS512"])
        # PyJWS signs any payload (PyJWT's encode would refuse odd claims).
        payload = json.dumps({k: v for k, v in claims.items() if v is not None}).encode()
        return "Bearer " + jwt.api_jws.encode(payload, secret, algorithm=algorithm)

    return forge


def problem_shape(response: httpx.Response) -> str | None:
    """What is wrong with a 4xx answer's shape, or None."""
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"content-type {response.headers.get('content-type')!r}"
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "not JSON"
    if not isinstance(body, dict) or not set(body) <= PROBLEM_KEYS:
        return f"keys {sorted(body) if isinstance(body, dict) else type(body)}"
    code = body.get("code")
    checks = {
        "status": body.get("status") == response.status_code,
        "code": isinstance(code, str) and bool(CODE.match(code)),
        "type": body.get("type") == f"urn:rete:problem:{code}",
        "title": isinstance(body.get("title"), str) and bool(body["title"]),
        "detail": isinstance(body.get("detail"), str),
        "instance": isinstance(body.get("instance"), str)
        and bool(UUID_URN.match(body["instance"]))
        and body["instance"] == f"urn:uuid:{response.headers.get('x-request-id')}",
        "errors": all(
            isinstance(e, dict) and set(e) == {"field", "message"} for e in body.get("errors", [])
        ),
    }
    wrong = [name for name, ok in checks.items() if not ok]
    return f"problem fields {wrong}" if wrong else None


def _raw(text: str) -> bytes:
    """Header bytes: characters up to U+00FF as single bytes (so invalid UTF-8
    reaches the server), anything beyond as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


def learn(known: dict[str, list[str]], created: Any) -> None:
    """Remember what a request created, so later requests reach it (a case the
    fuzzer closed or erased answers every write with 409)."""
    if not isinstance(created, dict):
        return
    if "reference_code" in created:
        known["case_ref"].append(created["reference_code"])
    elif "recipient_service" in created and "status" in created:
        known["referral_id"].append(created["id"])
    elif "purposes" in created:
        known["consent_id"].append(created["id"])


def send(api, req: FuzzRequest) -> httpx.Response:
    headers = [(_raw(k), _raw(v)) for k, v in req.headers]
    return api.client.request(req.method, req.url, headers=headers, content=req.content)


def fuzz(api, count: int, seed: int) -> Counter[int]:
    """Send ``count`` requests; fail listing the first answers that break the rules."""
    known = seed_network(api)
    routes = routes_of(api.client.app)
    tokens = [api.token(who, service, *roles) for who, (service, roles) in PEOPLE.items()]
    fuzzer = Fuzzer(
        random.Random(seed),
        routes,
        known,
        vocabulary(api),
        tokens,
        forger(api),
        body_fields(api, known),
    )
    statuses: Counter[int] = Counter()
    covered: set[tuple[str, str]] = set()
    failures: list[str] = []
    for index in range(count):
        req = fuzzer.request(index)
        response = send(api, req)
        statuses[response.status_code] += 1
        if response.status_code == 201:
            learn(known, response.json())
        covered.add((req.route.method, req.route.template))
        wrong = None
        if response.status_code >= 500:
            wrong = "5xx"
        elif response.status_code >= 400 and req.method != "HEAD":
            wrong = problem_shape(response)
        if wrong and len(failures) < 20:
            failures.append(
                f"seed {seed} #{index} {req.method} {req.url[:120]} {req.what} -> "
                f"{response.status_code} {wrong}: {response.text[:200]}"
            )
    assert not failures, "\n".join(failures)
    assert covered == {(r.method, r.template) for r in routes}
    assert sum(statuses.values()) == count
    return statuses


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.long
def test_fuzzed_requests_on_every_route_get_no_5xx_and_only_problems(any_backend_api):
    count = int(os.environ.get("RETE_FUZZ_REQUESTS", DEFAULT_REQUESTS))
    seed = int(os.environ.get("RETE_FUZZ_SEED", SEED))
    fuzz(any_backend_api, count, seed)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_ten_thousand_fuzzed_requests_get_no_5xx_and_only_problems(any_backend_api):
    seed = int(os.environ.get("RETE_FUZZ_SEED", SEED))
    statuses = fuzz(any_backend_api, FULL_REQUESTS, seed)
    print(f"{sum(statuses.values())} requests: {dict(sorted(statuses.items()))}")
