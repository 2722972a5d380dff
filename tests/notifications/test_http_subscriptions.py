"""A service's coordinator manages its webhook subscriptions through the API; each
change is an event of the subscription; the secret is shown once."""

from __future__ import annotations

from typing import Any

from support.http import Api

from domain.subscription import Subscription

HOOKS = "/api/v1/notifications/subscriptions"
ENDPOINT = {"url": "https://desk.cav.example/hooks/rete", "kinds": ["referral.received"]}


def test_a_coordinator_subscribes_rotates_and_removes_and_each_change_is_an_event(
    any_backend_api: Api,
) -> None:
    api = any_backend_api
    made = api.ok(api.post("chiara", HOOKS, json=ENDPOINT), 201)
    assert made["secret"].startswith("whsec_")
    [listed] = api.ok(api.get("chiara", HOOKS))
    assert listed["id"] == made["id"] and listed["kinds"] == ["referral.received"]
    assert "secret" not in listed and made["secret"] not in str(listed)

    changed = {
        "url": "https://desk.cav.example/v2",
        "kinds": ["deadline.missed", "referral.received"],
    }
    api.ok(api.post("chiara", f"{HOOKS}/{made['id']}", json=changed))
    rotated = api.ok(api.post("chiara", f"{HOOKS}/{made['id']}/rotate", json={"overlap_hours": 2}))
    assert rotated["secret"] != made["secret"]
    [listed] = api.ok(api.get("chiara", HOOKS))
    assert listed["url"] == changed["url"] and listed["previous_secret_until"] is not None

    assert api.ok(api.delete("chiara", f"{HOOKS}/{made['id']}"))["id"] == made["id"]
    assert api.ok(api.get("chiara", HOOKS)) == []

    # In the log: created, changed, rotated, removed; the secret only sealed.
    subscription = api.rete.ctx.store.get(Subscription, _uuid(made["id"]))
    assert subscription.version == 4 and subscription.removed
    assert made["secret"].encode() not in subscription.secret_sealed


def test_only_the_services_coordinator_manages_its_subscriptions(api: Api, problem: Any) -> None:
    made = api.ok(api.post("chiara", HOOKS, json=ENDPOINT), 201)
    problem(api.post("anna", HOOKS, json=ENDPOINT), 403, "coordinator-required")
    problem(api.get("anna", "/api/v1/notifications/dead-letters"), 403, "coordinator-required")
    # Another service's coordinator: not even said to exist.
    problem(api.delete("bruna", f"{HOOKS}/{made['id']}"), 404, "not-found")
    problem(api.post("bruna", f"{HOOKS}/{made['id']}/rotate"), 404, "not-found")
    assert api.ok(api.get("bruna", HOOKS)) == []


def test_a_bad_endpoint_or_kind_is_refused(api: Api, problem: Any) -> None:
    problem(
        api.post("chiara", HOOKS, json={**ENDPOINT, "url": "ftp://x.example"}), 400, "invalid-body"
    )
    problem(
        api.post("chiara", HOOKS, json={**ENDPOINT, "kinds": ["referral.gossip"]}),
        400,
        "invalid-body",
    )
    problem(api.post("chiara", HOOKS, json={**ENDPOINT, "kinds": []}), 400, "invalid-body")


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


def test_the_domain_refuses_what_the_api_would_not_send(rete: Any, people: Any) -> None:
    import pytest

    from domain.subscription import InvalidEndpoint, UnknownAnnouncementKind

    with pytest.raises(InvalidEndpoint):
        rete.notifications.subscribe(people.chiara, "ftp://x.example", ["referral.received"])
    with pytest.raises(UnknownAnnouncementKind):
        rete.notifications.subscribe(people.chiara, ENDPOINT["url"], ["referral.gossip"])


def test_an_endpoint_the_document_allows_is_taken_and_one_it_refuses_is_refused(
    any_backend_api: Api, problem: Any
) -> None:
    """The URL pattern is printable ASCII in the document and in the domain alike
    (a generated client sends nothing the server refuses), and a replay of dead
    letters by ids that name none replays nothing, NUL included (PostgreSQL's text
    holds none: it was a 500)."""
    api = any_backend_api
    odd = "https://desk.cav.example/hooks/~x?a=[1]&b=%C3%A8#top"
    assert api.ok(api.post("chiara", HOOKS, json={**ENDPOINT, "url": odd}), 201)["url"] == odd
    for bad in ("https://desk.cav.example/\u0085", "https://desk.cav.example/a b"):
        problem(api.post("chiara", HOOKS, json={**ENDPOINT, "url": bad}), 400, "invalid-body")
    replay = "/api/v1/notifications/dead-letters/replay"
    for ids in (["ann_\u0000x"], ["\U0001f600", "ann_1_referral.received_pl-cesano"]):
        assert api.ok(api.post("chiara", replay, json={"announcement_ids": ids})) == {"replayed": 0}
