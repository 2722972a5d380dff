"""The announcements' Server-Sent Events stream, over the real outbox on both backends:
a police caseworker's desk hears of an emergency referral without any of her data,
and a stream cut mid-way resumes with ``Last-Event-ID`` exactly where it stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from notify_support import notifier_of
from planted import PLANTED, emergency
from sse_support import Served, serving

from application.rete import Rete
from domain.referral import Move
from infrastructure.settings import Settings

WAIT = 10.0  # seconds a test waits for what it expects (a loaded machine is slow)


@pytest.fixture
def served(settings_for: Callable[..., Settings], rete: Rete) -> Iterator[Served]:
    # Heartbeats every second: a test sees a quiet stream as quiet without waiting long.
    with serving(settings_for(RETE_STREAM_HEARTBEAT="1"), rete) as s:
        yield s


def test_an_emergency_referral_appears_on_a_police_caseworkers_stream_without_her_data(
    rete: Rete, people: SimpleNamespace, served: Served
) -> None:
    stream = served.stream("paolo")  # from now on
    referral_id = emergency(rete, people, planted=True)
    notifier_of(rete).step()

    event = stream.next_event(WAIT)

    assert event.event == "referral.received"
    announcement = event.announcement
    assert event.id == str(announcement["position"])
    assert announcement["referral_id"] == referral_id
    assert announcement["service"] == "pl-cesano"
    assert announcement["urgency"] == "emergency"
    assert announcement["link"] == f"/api/v1/referrals/{referral_id}"
    for planted in PLANTED:
        assert planted not in (event.data or "")


def test_a_stream_cut_mid_way_resumes_with_last_event_id_exactly(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, served: Served
) -> None:
    notifier = notifier_of(rete)
    first = [emergency(rete, people) for _ in range(5)]
    notifier.step()
    stream = served.stream("paolo", after=0)
    received = [stream.next_event(WAIT) for _ in range(2)]
    stream.close()  # the desk's connection drops after two of five

    # While it is away: two more referrals, and the CAV's answer to one it knows.
    later = [emergency(rete, people) for _ in range(2)]
    rete.referrals.move(police.paolo, first[0], Move.ACKNOWLEDGE)  # told to the CAV only
    notifier.step()

    again = served.stream("paolo", **{"Last-Event-ID": received[-1].id or ""})
    missed = again.events_until_quiet(WAIT)

    referrals = [e.announcement["referral_id"] for e in received + missed]
    assert referrals == first + later  # each once, in order, none lost
    positions = [int(e.id or 0) for e in received + missed]
    assert positions == sorted(set(positions))


@pytest.mark.long
def test_the_resume_point_a_heartbeat_gives_loses_nothing(
    rete: Rete, people: SimpleNamespace, police: SimpleNamespace, served: Served
) -> None:
    notifier = notifier_of(rete)
    referral_id = emergency(rete, people)
    notifier.step()
    stream = served.stream("paolo", after=0)
    assert stream.next_event(WAIT).announcement["referral_id"] == referral_id
    # The CAV hears of the police's move: the police's stream stays quiet, and its
    # heartbeats move its resume point past that announcement.
    rete.referrals.move(police.paolo, referral_id, Move.ACKNOWLEDGE)
    notifier.step()
    told_the_cav = served.get("chiara", "/api/v1/announcements?after=0").json()["next_after"]
    while (heartbeat := stream.next(WAIT)).id != str(told_the_cav):
        assert heartbeat.event is None
    stream.close()
    later = emergency(rete, people)
    notifier.step()

    again = served.stream("paolo", **{"Last-Event-ID": str(told_the_cav)})

    assert [e.announcement["referral_id"] for e in again.events_until_quiet(WAIT)] == [later]


def test_a_service_hears_only_its_own_announcements(
    rete: Rete, people: SimpleNamespace, served: Served
) -> None:
    cav = served.stream("chiara", after=0, Accept="text/html, text/event-stream;q=0.5")
    social = served.stream("bea", after=0)
    referral_id = emergency(rete, people)
    rete.referrals.move(people.paolo, referral_id, Move.ACKNOWLEDGE)
    notifier_of(rete).step()

    [acknowledged] = cav.events_until_quiet(WAIT)
    assert acknowledged.event == "referral.acknowledged"
    assert acknowledged.announcement["service"] == "cav-scirocco"
    assert social.events_until_quiet(WAIT) == []


@pytest.mark.long
def test_the_read_deadline_does_not_end_a_stream(
    settings_for: Callable[..., Settings], rete: Rete, people: SimpleNamespace
) -> None:
    settings = settings_for(RETE_STREAM_HEARTBEAT="1")
    with serving(settings, rete, read_timeout=1.0) as served:
        stream = served.stream("paolo")
        heartbeats = [stream.next(WAIT) for _ in range(3)]  # over 2 s, the deadline twice
        emergency(rete, people)
        notifier_of(rete).step()
        assert stream.next_event(WAIT).event == "referral.received"
    assert len(heartbeats) == 3


def test_a_stopping_server_ends_its_streams(
    rete: Rete, people: SimpleNamespace, served: Served
) -> None:
    stream = served.stream("paolo")
    stream.next(WAIT)  # it is open

    served.stop()

    assert stream.ended.wait(WAIT)
    assert not served.thread.is_alive()


def test_a_stream_ends_when_its_token_does(rete: Rete, served: Served) -> None:
    stream = served.stream("paolo", token=served.token("paolo", ttl=timedelta(seconds=2)))
    assert stream.ended.wait(WAIT)
    assert stream.error is None  # ended by the server, cleanly


def test_open_streams_hold_no_database_connection(
    settings_for: Callable[..., Settings], make_rete: Callable[..., Rete]
) -> None:
    # A pool of two connections, six desks listening: a request still gets one.
    settings = settings_for(RETE_DATABASE_POOL_SIZE="2", RETE_STREAM_HEARTBEAT="1")
    rete = make_rete(RETE_DATABASE_POOL_SIZE="2")
    with serving(settings, rete) as served:
        streams = [served.stream(who) for who in ("paolo", "anna", "chiara", "bea", "marta", "lia")]
        for stream in streams:
            stream.next(WAIT)
        assert served.get("anna", "/api/v1/cases").status_code == 200
        assert all(not s.ended.is_set() for s in streams)


def test_who_may_listen_and_what_they_may_send(served: Served) -> None:
    stream = "/api/v1/announcements/stream"
    asks = {"Accept": "text/event-stream"}
    # An analyst works no referral: refused, as the other referral routes refuse her.
    assert served.get("olga", stream, **asks).status_code == 403
    for bad in ("x1", "-1", "1.5", "9" * 20):
        refused = served.get("paolo", stream, **asks, **{"Last-Event-ID": bad})
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid-parameter"
    assert served.get("paolo", stream, **asks, Authorization="").status_code == 401
    # A client must ask for the stream by name: one taking anything gets a problem,
    # not a connection that never ends.
    for accept in ("*/*", "application/json", "text/event-stream;q=0", "text/event-stream; q=0.0"):
        not_asked = served.get("paolo", stream, Accept=accept)
        assert not_asked.status_code == 406
        assert not_asked.json()["code"] == "not-acceptable"


def test_a_client_without_a_stream_reads_page_by_page(
    rete: Rete, people: SimpleNamespace, served: Served
) -> None:
    referrals = [emergency(rete, people) for _ in range(3)]
    notifier_of(rete).step()

    first = served.get("paolo", "/api/v1/announcements?after=0&limit=2").json()
    rest = served.get("paolo", f"/api/v1/announcements?after={first['next_after']}").json()
    done = served.get("paolo", f"/api/v1/announcements?after={rest['next_after']}").json()

    pages = [first["announcements"], rest["announcements"], done["announcements"]]
    assert [len(p) for p in pages] == [2, 1, 0]
    assert [a["referral_id"] for a in pages[0] + pages[1]] == referrals
    assert done["next_after"] == rest["next_after"]
    for query in ("limit=100000", "limit=0", "after=-1", "after=abc"):
        refused = served.get("paolo", f"/api/v1/announcements?{query}")
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid-parameter"
