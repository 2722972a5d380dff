"""Work a server runs beside its requests: following the ledger and signing its
checkpoints, escalating overdue referrals. The composition root builds it; the
API starts it with the server and stops it before the application closes."""

from __future__ import annotations

from typing import Protocol


class Background(Protocol):
    def start(self) -> None: ...

    def nudge(self) -> None:
        """Something was written: look now rather than at the next tick."""
        ...

    def stop(self) -> None: ...
