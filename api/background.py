"""The server's background work (``Rete.background``), run while the app runs.

Started, in order, when the app starts; nudged after every request that may
have written (the ledger's signer then follows the log at once); stopped, in
the reverse order, before the application closes.
"""

from __future__ import annotations

import inspect
from typing import Any

from litestar import Request
from litestar.config.app import AppConfig
from litestar.plugins import InitPluginProtocol

from api.serving import Serving
from application.background import Background

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BackgroundPlugin(InitPluginProtocol):
    def __init__(self, serving: Serving) -> None:
        self._serving = serving
        self._work: list[Background] = []  # what was started: nudged, then stopped

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.insert(0, self._stop)  # before the application closes
        previous = app_config.after_response

        async def after_response(request: Request[Any, Any, Any]) -> None:
            if request.method not in _SAFE_METHODS:
                for work in self._work:
                    work.nudge()
            if previous is not None:
                outcome = previous(request)
                if inspect.isawaitable(outcome):
                    await outcome

        app_config.after_response = after_response
        return app_config

    def _start(self) -> None:
        self._serving.running = True
        self._work = list(self._serving.rete.background)
        for work in self._work:
            work.start()

    def _stop(self) -> None:
        for work in reversed(self._work):
            work.stop()
        self._work = []
        self._serving.running = False
