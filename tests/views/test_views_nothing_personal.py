"""No plaintext at rest in the views: every personal field the stories write carries
a marker, and no cell of any view table holds it (nor, on SQLite, any byte of the
database files)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from hypothesis import given
from support.clock import TestClock
from views_story import STORY, Network, story_settings
from views_support import MARKER, a_case_with_everything, leave_a_referral_unanswered

from api.demo import load_demo
from application.rete import Rete
from domain.case import Case
from domain.referral import Referral
from infrastructure.views import Views
from infrastructure.views.schema import ALL_TABLES, TRACKING


def every_cell(views: Views) -> list[tuple[str, bytes]]:
    cells = []
    with views.tables.read() as tx:
        for name in [t.name for t in ALL_TABLES] + [TRACKING]:
            for number, row in enumerate(tx.query(f"SELECT * FROM {tx.dialect.qualify(name)}")):
                for value in row:
                    if value is not None:
                        data = value if isinstance(value, bytes) else str(value).encode()
                        cells.append((f"{name} row {number}", bytes(data)))
    return cells


def database_files(views_env: dict[str, str]) -> list[Path]:
    url = views_env["RETE_DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        return []
    path = Path(url.removeprefix("sqlite:///"))
    return [p for p in path.parent.glob(path.name + "*") if p.is_file()]


@story_settings(8)
@given(story=STORY)
def test_no_view_holds_a_personal_field_in_clear(
    rete: Rete,
    views: Views,
    clock: TestClock,
    views_env: dict[str, str],
    story: list[tuple[object, ...]],
) -> None:
    a_case_with_everything(rete)
    leave_a_referral_unanswered(rete, clock)
    Network(rete, clock, views).run(story)
    views.catch_up()

    cells = every_cell(views)
    assert any(name.startswith("rete_view_entries") for name, _ in cells)
    for where, data in cells:
        assert MARKER.encode() not in data, where
    for path in database_files(views_env):
        assert MARKER.encode() not in path.read_bytes(), path.name


def personal_texts(rete: Rete) -> set[str]:
    """Every personal text the store holds: notes, reasons, justifications."""
    texts: set[object] = set()
    for case_id in rete.ctx.store.ids_of(Case):
        case = rete.ctx.store.get(Case, case_id)
        texts |= {e.text for e in case.entries} | {a.justification for a in case.assessments}
        for referral_id in case.referrals:
            referral = rete.ctx.store.get(Referral, UUID(referral_id))
            texts |= {referral.reason, referral.justification}
    return {t for t in texts if isinstance(t, str)}


def test_the_demo_leaves_no_plaintext_in_the_views(rete: Rete, views: Views) -> None:
    load_demo(rete)
    views.catch_up()
    texts = personal_texts(rete)
    assert len(texts) > 20
    for where, data in every_cell(views):
        for text in texts:
            assert text.encode() not in data, where
