"""The application as one object: what the API and the command line talk to."""

from __future__ import annotations

from application.access_log import AccessLog
from application.audit import Audit
from application.cases import Cases
from application.context import Context
from application.referrals import Referrals


class Rete:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.cases = Cases(ctx)
        self.referrals = Referrals(ctx)
        self.access_log = AccessLog(ctx)
        self.audit = Audit(ctx, self.access_log)
