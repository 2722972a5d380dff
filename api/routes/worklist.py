"""``/api/v1/worklist``: the coordinators' worklist of escalated referrals.

The escalation itself runs in the server's background work (``Rete.background``,
built by the composition root over ``application/escalation.py``).
"""

from __future__ import annotations

from litestar import Controller

from api.routes._common import API_PREFIX, BEARER, App, Me, api_get
from application.views import ReferralSummary


class WorklistController(Controller):
    path = f"{API_PREFIX}/worklist"
    tags = ["referrals"]
    security = BEARER

    @api_get(
        "/",
        summary="My service's escalated referrals, either side, most overdue first (coordinators)",
    )
    def worklist(self, rete: App, actor: Me) -> list[ReferralSummary]:
        return rete.escalations.worklist(actor)
