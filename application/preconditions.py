"""``If-Match``: a write on a case or a referral made only if it is still at the
version its writer saw (API.md).

The version compared is the one the writer's service was shown (a case's
``ETag`` is the reader's, ``application.visible_version``; a referral's is its
own). It is read when the request starts; the write then expects the aggregate
at the raw version read with it, and the event store refuses an append that
does not follow that version (``check_expected``). So a change made between the
check and the append is a 412 too, never a silent overwrite.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from application.context import Context
from application.loading import Loader
from application.visible_version import visible_version
from domain.errors import DomainError
from domain.network import Actor


class PreconditionFailed(DomainError):
    code = "precondition-failed"
    title = "Changed since you read it"


@dataclass(frozen=True)
class Current:
    """An aggregate's version as the writer's service sees it, and its raw version."""

    aggregate_id: UUID
    seen: int
    raw: int


_expected: ContextVar[Mapping[UUID, int] | None] = ContextVar("rete_expected", default=None)


@contextmanager
def expecting(current: Current) -> Iterator[None]:
    """The writes made inside expect ``current``'s aggregate at its raw version."""
    token = _expected.set({current.aggregate_id: current.raw})
    try:
        yield
    finally:
        _expected.reset(token)


def check_expected(first_versions: Mapping[UUID, int]) -> None:
    """Called by the event store before an append, with the version of the first
    new event of each stream: refuses one that does not follow the expected version."""
    expected = _expected.get()
    if not expected:
        return
    for aggregate_id, raw in expected.items():
        first = first_versions.get(aggregate_id)
        if first is not None and first != raw + 1:
            raise PreconditionFailed(
                "it was changed after the version you sent in If-Match; nothing was "
                "written: read it again"
            )


class Preconditions:
    """The current versions ``If-Match`` is compared with."""

    def __init__(self, ctx: Context) -> None:
        self.load = Loader(ctx)

    def case(self, actor: Actor, case_ref: str) -> Current:
        rows, access = self.load.visible_rows(actor, case_ref)
        return Current(rows.case.id, visible_version(rows, access), rows.case.version)

    def referral(self, actor: Actor, referral_id: str) -> Current:
        row = self.load.visible_referral_row(actor, referral_id)
        return Current(row.id, row.version, row.version)
