"""A referral left unanswered reaches both coordinators' worklists, by itself."""

from __future__ import annotations

import time

from http_stories import refer_to_social_services


def test_the_server_escalates_by_itself_and_both_coordinators_see_it(make_api, sqlite_env):
    api = make_api({**sqlite_env, "RETE_ESCALATION_INTERVAL": "0.05"})
    referral = refer_to_social_services(api, urgency="emergency")  # acknowledge within 1 h
    assert api.get("chiara", "/api/v1/worklist").json() == []
    api.clock.advance(hours=2)
    deadline = time.monotonic() + 10
    while not api.get("chiara", "/api/v1/worklist").json() and time.monotonic() < deadline:
        time.sleep(0.05)
    for coordinator in ("chiara", "bruna"):  # the sender's and the recipient's
        items = api.get(coordinator, "/api/v1/worklist").json()
        assert [(i["id"], i["overdue"]) for i in items] == [(referral, True)]
        assert "reason" not in items[0]  # a worklist is a list: nothing personal
    # The recipient's coordinator closes it; it leaves the worklists.
    assert api.post("bruna", f"/api/v1/referrals/{referral}/expire").status_code == 200
    assert api.get("chiara", "/api/v1/worklist").json() == []


def test_only_coordinators_have_a_worklist(api):
    response = api.get("anna", "/api/v1/worklist")
    assert response.status_code == 403
    assert response.json()["code"] == "coordinator-required"
