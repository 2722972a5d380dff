"""``/api/v1/observatory``: aggregate statistics for the observatory's analysts.

Only the ``analyst`` role gets them; they hold no case, no id and no text, and
every count that could point to a person is suppressed (docs/OBSERVATORY.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller
from litestar.params import FromQuery
from litestar.response import Response
from msgspec import Meta

from api.routes._common import API_PREFIX, BEARER, App, Me, api_get
from application.observatory.publication import Stats
from application.observatory.statistics import FIRST_YEAR, LAST_YEAR

Year = FromQuery[Annotated[int, Meta(ge=FIRST_YEAR, le=LAST_YEAR)] | None]
Format = FromQuery[Literal["json", "csv"]]
CSV = "text/csv; charset=utf-8"

DESCRIPTION = (
    "Counts of cases and referrals by month (with `year`) or by year (without), and "
    "the median hours to acknowledge and to answer, by urgency, put together from the "
    "publications of months that have ended (each made once, never recomputed; a "
    "month due is published first). A count from 1 to 4 "
    "is suppressed, and so are enough other cells that none can be worked out from "
    "the totals: a suppressed cell reads `null` with `suppressed: true`."
)


def _csv(text: str, year: int | None) -> Response[str]:
    name = f"rete-observatory-{year if year is not None else 'all-years'}.csv"
    return Response(
        text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


class ObservatoryController(Controller):
    path = f"{API_PREFIX}/observatory"
    tags = ["observatory"]
    security = BEARER

    @api_get(
        "/stats",
        summary="Analysts: aggregate statistics, small counts suppressed",
        description=DESCRIPTION + " `format=csv` answers the same as CSV.",
    )
    def stats(
        self, rete: App, actor: Me, year: Year = None, format: Format = "json"
    ) -> Response[Stats] | Response[str]:
        if format == "csv":
            return _csv(rete.observatory.stats_csv(actor, year), year)
        return Response(rete.observatory.stats(actor, year))

    @api_get(
        "/stats.csv",
        media_type=CSV,
        summary="Analysts: the same statistics as CSV, one section per table",
        description=DESCRIPTION,
    )
    def stats_csv(self, rete: App, actor: Me, year: Year = None) -> Response[str]:
        return _csv(rete.observatory.stats_csv(actor, year), year)
