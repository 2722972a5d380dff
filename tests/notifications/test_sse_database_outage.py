"""The database stops under open event streams (a private PostgreSQL cluster): the
streams end, a desk reconnecting meanwhile is answered 503 ``database-unreachable``,
and once the database is back it resumes with ``Last-Event-ID`` missing nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from notify_support import notifier_of, rete_on_a_private_cluster
from sse_support import STREAM, serving
from support.clock import TestClock
from support.people import people_of
from support.private_postgres import PrivateCluster, private_postgres  # noqa: F401
from support.stories import refer_to_protect

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WAIT = 30.0


def test_streams_end_while_the_database_is_away_and_resume_after(
    private_postgres: PrivateCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings, rete = rete_on_a_private_cluster(
        private_postgres,
        tmp_path / "var",
        TestClock(),
        RETE_REQUEST_TIMEOUT="2",
        RETE_STREAM_HEARTBEAT="1",
    )
    try:
        people = people_of(rete)
        with serving(settings, rete) as served:
            stream = served.stream("paolo")
            case = rete.cases.open(people.anna)
            first = refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
            notifier_of(rete).step()
            received = stream.next_event(WAIT)
            assert received.announcement["referral_id"] == first.id

            private_postgres.stop()
            assert stream.ended.wait(WAIT)  # it ended rather than hang
            away = served.get("paolo", STREAM, Accept="text/event-stream")
            assert away.status_code == 503
            assert away.json()["code"] == "database-unreachable"

            private_postgres.start()
            private_postgres.wait_accepting()
            deadline = time.monotonic() + WAIT
            while served.get("anna", "/api/v1/cases").status_code != 200:  # reconnecting
                assert time.monotonic() < deadline, "the database did not come back"
                time.sleep(0.5)
            second = refer_to_protect(rete, people.chiara, case.reference_code, "threat", "danger")
            notifier_of(rete).step()
            again = served.stream("paolo", **{"Last-Event-ID": received.id or ""})
            missed = again.events_until_quiet(WAIT)
            assert [e.announcement["referral_id"] for e in missed] == [second.id]
    finally:
        rete.close()
