"""The application as one object: what the API and the command line talk to."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from application.access_log import AccessLog
from application.audit import Audit
from application.cases import Cases
from application.context import Context
from application.observatory.statistics import Observatory
from application.referrals import Referrals


class Rete:
    def __init__(self, ctx: Context, closing: Sequence[Callable[[], None]] = ()) -> None:
        self.ctx = ctx
        self.cases = Cases(ctx)
        self.referrals = Referrals(ctx)
        self.access_log = AccessLog(ctx)
        self.audit = Audit(ctx, self.access_log)
        self.observatory = Observatory(ctx)
        self._closing = list(closing)

    def close(self) -> None:
        """Release what was opened for it (the views' connections; the event store
        too when it was opened for it), in order; calling it again does nothing."""
        closing, self._closing = self._closing, []
        for close in closing:
            close()
