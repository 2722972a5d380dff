"""The server delivers by itself: on SQLite its in-process worker follows the log,
woken by the write, and the receiver's endpoint gets the signed webhook."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from support.http import Api
from webhook_receiver import Receiver, receiving

from application.notifications.announcement import KINDS


def test_the_server_posts_the_webhook_by_itself(
    make_api: Callable[..., Api], sqlite_env: dict[str, str]
) -> None:
    api = make_api(sqlite_env)
    with receiving(Receiver()) as receiver:
        made = api.ok(
            api.post(
                "bruna",
                "/api/v1/notifications/subscriptions",
                json={"url": receiver.url, "kinds": list(KINDS)},
            ),
            201,
        )
        receiver.secrets.append(made["secret"])
        referral = _refer_in_an_emergency(api)
        deadline = time.monotonic() + 30  # a bound for a loaded machine, not a speed
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)

    [payload] = receiver.payloads()
    assert payload["type"] == "referral.received"
    assert payload["data"]["referral_id"] == referral
    assert "safe place" not in receiver.raw()


def _refer_in_an_emergency(api: Api) -> Any:
    case = api.post("anna", "/api/v1/cases").json()["reference_code"]
    api.ok(
        api.post(
            "anna",
            f"/api/v1/cases/{case}/consents",
            json={
                "recipient_kinds": ["social_services"],
                "purposes": ["shelter"],
                "categories": ["identity"],
            },
        ),
        201,
    )
    referral = api.ok(
        api.post(
            "anna",
            f"/api/v1/cases/{case}/referrals",
            json={
                "recipient_service": "ss-cesano",
                "kind": "shelter",
                "urgency": "emergency",
                "reason": "she needs a safe place tonight",
                "scope": ["identity"],
                "legal_basis": "consent",
            },
        ),
        201,
    )
    return referral["id"]
