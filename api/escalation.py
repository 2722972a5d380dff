"""The server's escalation thread and the coordinators' worklist route.

Every ``RETE_ESCALATION_INTERVAL`` seconds the policy looks for referrals past
a deadline and escalates each deadline once (application/escalation.py); every
worker may run it: the referral's own version makes two escalations of the
same deadline conflict, and the loser finds it done the next time.
"""

from __future__ import annotations

import threading

from litestar import Controller, get
from litestar.config.app import AppConfig
from litestar.di import NamedDependency
from litestar.plugins import InitPluginProtocol

from api.problems import API_PROBLEMS
from api.routes._common import API_PREFIX, BEARER
from application.escalation import Escalations
from application.rete import Rete
from application.views import ReferralSummary
from domain.network import Actor
from infrastructure.logging import get_logger

log = get_logger(__name__)


class WorklistController(Controller):
    path = f"{API_PREFIX}/worklist"
    tags = ["referrals"]
    security = BEARER

    @get(
        "/",
        sync_to_thread=True,
        responses=API_PROBLEMS,
        summary="My service's escalated referrals, either side, most overdue first (coordinators)",
    )
    def worklist(
        self, rete: NamedDependency[Rete], actor: NamedDependency[Actor]
    ) -> list[ReferralSummary]:
        return Escalations(rete.ctx).worklist(actor)


class EscalationPlugin(InitPluginProtocol):
    def __init__(self, rete: Rete, interval: float) -> None:
        self._policy = Escalations(rete.ctx)
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(WorklistController)
        if self._interval > 0:
            app_config.on_startup.append(self._start)
            app_config.on_shutdown.insert(0, self._halt)  # before the event store closes
        return app_config

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rete-escalation", daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._policy.run()
            except Exception as e:  # the database may be down for a moment: keep going
                log.warning(
                    "the escalation policy could not run",
                    exception_type=f"{type(e).__module__}.{type(e).__qualname__}",
                )
