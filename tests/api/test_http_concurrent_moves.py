"""Two desks move the same referral at the same moment: one wins, the other gets 409."""

from __future__ import annotations

from uuid import UUID

from http_stories import refer_to_social_services

from domain.referral import Referral


def test_two_desks_acknowledging_at_once_one_wins_the_other_gets_409(
    any_backend_api, make_api, backend, tmp_path
) -> None:
    first = any_backend_api
    referral = refer_to_social_services(first, urgency="urgent")
    # A second server process on the same database, with the same people and tokens.
    second = make_api(
        {"RETE_DATABASE_URL": backend["RETE_DATABASE_URL"], "RETE_VAR_DIR": str(tmp_path / "var")}
    )
    # The first desk's clock lets the second desk act between loading and saving.
    answers: list[int] = []
    first.clock.meanwhile(
        lambda: answers.append(
            second.post("bea", f"/api/v1/referrals/{referral}/acknowledge").status_code
        )
    )
    losing = first.post("bruna", f"/api/v1/referrals/{referral}/acknowledge")
    assert answers == [200]
    assert losing.status_code == 409, losing.text
    assert losing.json()["code"] == "conflict"
    # Exactly one acknowledgement is stored: nothing lost, nothing twice.
    stored = first.rete.ctx.store.events.get(UUID(referral))
    moves = [e.move for e in stored if isinstance(e, Referral.Moved)]
    assert moves == ["acknowledge"]
