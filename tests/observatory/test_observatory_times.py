"""The time tables: medians with their counts, when (and only when) it is safe."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from statistics import median

from application.observatory.answers import answer
from application.observatory.facts import ReferralFact
from application.observatory.monthly import by_month
from application.observatory.publication import TimeTable
from domain.referral import ReferralStatus as S
from domain.vocabulary import ReferralKind, Urgency

BASE = ReferralFact(
    sent_at=datetime(2026, 4, 7, tzinfo=UTC),
    kind=ReferralKind.SOCIAL_SUPPORT,
    sender_kind="cav",
    recipient_kind="social_services",
    urgency=Urgency.ROUTINE,
    outcome=S.COMPLETED,
    hours_to_acknowledge=1.0,
    hours_to_answer=2.0,
)


def busy_year() -> list[ReferralFact]:
    """Forty routine and ten urgent referrals, all completed: every count is large."""
    routine = [
        replace(BASE, hours_to_acknowledge=float(i), hours_to_answer=float(2 * i))
        for i in range(1, 41)
    ]
    urgent = [
        replace(BASE, urgency=Urgency.URGENT, hours_to_acknowledge=0.5 * i, hours_to_answer=i)
        for i in range(1, 11)
    ]
    return routine + urgent


def by_row(table: TimeTable) -> dict[str, tuple[int | None, float | None, bool]]:
    return {
        r.key: (r.total.count, r.total.median_hours, r.total.suppressed)
        for r in [*table.rows, table.total]
    }


def test_a_busy_year_shows_its_medians_and_counts() -> None:
    facts = busy_year()
    stats = answer(by_month(facts, []), 2026)
    acknowledge, answered = stats.times
    assert by_row(acknowledge) == {
        "emergency": (0, None, False),
        "urgent": (10, 2.8, False),
        "routine": (40, 20.5, False),
        "total": (50, round(median(f.hours_to_acknowledge or 0 for f in facts), 1), False),
    }
    assert by_row(answered)["routine"] == (40, 41.0, False)


def test_a_count_that_leaves_out_a_few_referrals_is_hidden() -> None:
    """Five more referrals withdrawn before anyone acknowledged them, three urgent and
    two routine: 3 and 2 urgent and routine referrals never acknowledged would be
    shown by difference, so those two counts are hidden; their total is not."""
    withdrawn = replace(BASE, outcome=S.WITHDRAWN, hours_to_acknowledge=None, hours_to_answer=None)
    facts = [
        *busy_year(),
        *[replace(withdrawn, urgency=Urgency.URGENT)] * 3,
        *[withdrawn] * 2,
    ]
    stats = answer(by_month(facts, []), 2026)
    urgency = next(t for t in stats.tables if t.name == "referrals_by_urgency")
    assert [r.total.value for r in urgency.rows] == [0, 13, 42]
    acknowledge = by_row(stats.times[0])
    assert acknowledge["urgent"] == acknowledge["routine"] == (None, None, True)
    assert acknowledge["emergency"] == (0, None, False)
    assert acknowledge["total"][:1] == (50,) and acknowledge["total"][2] is False


def test_a_year_whose_outcomes_are_partly_hidden_hides_all_its_times() -> None:
    """Two expired and two suspended referrals: their counts are hidden, in different
    ways of mattering to the times (an expired one was never answered, a suspended
    one may have been), so the year's times could narrow them: all hidden."""
    facts = busy_year()
    facts[:4] = [
        replace(f, outcome=o, hours_to_answer=None)
        for f, o in zip(facts[:4], [S.EXPIRED, S.EXPIRED, S.SUSPENDED, S.SUSPENDED], strict=True)
    ]
    made = by_month(facts, [])
    for year in (None, 2026):
        for table in answer(made, year).times:
            cells = [c for r in [*table.rows, table.total] for c in [*r.cells, r.total]]
            assert all(c.suppressed or c.count == 0 for c in cells)
            assert any(c.suppressed for c in cells)
