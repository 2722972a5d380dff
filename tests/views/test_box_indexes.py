"""The boxes' order is served by an index, on a new database and on one built before.

An inbox or outbox is a service's referrals by urgency, then by sending
(``ViewQueries.box``). Before issue 14 no index served that order: each page
sorted the whole box. The indexes are part of the referrals view's shape
(``Table.fingerprint``), so a database built with the earlier ones is rebuilt
from the log when the views are next opened: its rows come back the same, under
the new indexes, and the earlier ones are gone with the tables they were on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from views_support import live_rows, positions

from api.demo import load_demo
from application.rete import Rete
from infrastructure.views import Views
from infrastructure.views.db.base import ViewTx
from infrastructure.views.referrals_view import REFERRALS_VIEW
from infrastructure.views.schema import REFERRALS, TRACKING
from infrastructure.views.statements import TableSql

BOX_INDEXES = (
    "rete_view_referrals_by_recipient_service_urgency_rank_position",
    "rete_view_referrals_by_sender_service_urgency_rank_position",
)
# The referrals table's indexes before issue 14.
EARLIER = (("recipient_service", "active"), ("sender_service", "active"), ("case_id",))
EARLIER_INDEXES = (
    "rete_view_referrals_by_recipient_service_active",
    "rete_view_referrals_by_sender_service_active",
)


def index_exists(tx: ViewTx, name: str) -> bool:
    if tx.dialect.name == "sqlite":
        found = tx.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", (name,))
        return bool(found)
    found = tx.query("SELECT to_regclass(%s) IS NOT NULL", (tx.dialect.qualify(name),))
    return bool(found and found[0][0])


def indexes(views: Views) -> dict[str, bool]:
    with views.tables.read() as tx:
        return {n: index_exists(tx, n) for n in (*BOX_INDEXES, *EARLIER_INDEXES)}


def as_built_before(views: Views) -> None:
    """Make the database what the code before issue 14 left: the referrals table
    under its earlier indexes, and the view's shape as that code computed it."""
    earlier = replace(REFERRALS, indexes=EARLIER)
    shape = replace(
        REFERRALS_VIEW,
        tables=tuple(earlier if t is REFERRALS else t for t in REFERRALS_VIEW.tables),
    ).shape()
    with views.tables.write() as tx:
        for name in BOX_INDEXES:
            tx.command(f"DROP INDEX {tx.dialect.qualify(name)}")
        for statement in TableSql(earlier, earlier.name, tx.dialect).create_indexes():
            tx.command(statement)
        tx.command(
            f"UPDATE {tx.dialect.qualify(TRACKING)} SET shape = %s WHERE name = %s",
            (shape, REFERRALS_VIEW.name),
        )


def test_a_new_database_has_the_box_indexes(views: Views) -> None:
    assert indexes(views) == {
        **dict.fromkeys(BOX_INDEXES, True),
        **dict.fromkeys(EARLIER_INDEXES, False),
    }


def test_a_database_built_before_gets_them_by_a_rebuild_of_the_referrals_view(
    rete: Rete, views: Views, make_views: Callable[..., Views]
) -> None:
    load_demo(rete)
    views.catch_up()
    live = live_rows(views)
    assert live["rete_view_referrals"]
    as_built_before(views)
    assert indexes(views) == {
        **dict.fromkeys(BOX_INDEXES, False),
        **dict.fromkeys(EARLIER_INDEXES, True),
    }

    reopened = make_views(catch_up_before_reads=True)

    assert reopened.fresh == [REFERRALS_VIEW.name]  # only the view whose shape changed
    assert positions(reopened)[REFERRALS_VIEW.name] == 0
    reopened.catch_up()
    assert live_rows(reopened) == live
    assert indexes(reopened) == {
        **dict.fromkeys(BOX_INDEXES, True),
        **dict.fromkeys(EARLIER_INDEXES, False),
    }
    # And opened again, nothing is rebuilt.
    assert make_views().fresh == []
