"""The API and the command line talk to ``Rete`` only, and every referral move has its route."""

from __future__ import annotations

import re
from pathlib import Path

from api import app
from api.routes.referrals import MOVE_ROUTES, moves
from domain.referral import Move

API = Path(app.__file__).parent


def test_nothing_in_api_reaches_past_rete_to_its_dependencies():
    reaching = [
        f"{path.relative_to(API.parent)}:{number}"
        for path in sorted(API.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.ctx\b|application\.context\b", line)
    ]
    assert reaching == []


def test_every_move_of_the_lifecycle_is_one_route_named_after_it():
    assert set(MOVE_ROUTES) == set(Move)
    routes = {
        route.path: {h.handler_name for h in route.route_handlers} - {"options_handler"}
        for route in moves.routes
    }
    assert routes == {f"/api/v1/referrals/{{referral_id:str}}/{m}": {m.value} for m in Move}
