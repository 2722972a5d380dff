"""``/api/v1/announcements``: a person's own service's announcements, as a Server-Sent
Events stream for a desk application, or page by page for a client that cannot
hold a stream (docs/NOTIFICATIONS.md, "Server-Sent Events").

Each event's ``id`` is the announcement's position in the outbox, its ``event`` the
kind, its ``data`` the announcement as JSON. A client that reconnects sends the
last ``id`` it received as ``Last-Event-ID`` and gets exactly what came after it.
While nothing happens the stream sends a comment every
``RETE_STREAM_HEARTBEAT`` seconds (proxies close silent connections), with an
``id`` that moves the client's resume point past what its service was not sent.

Between two reads the stream holds no database connection: it waits on the
process's ``AnnouncementWatch``. The server's read deadline (``api/server.py``)
bounds the arrival of the request only, so it does not end a stream; a stopping
server closes it (``api/long_lived.py``); the client's going away ends it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Final

import anyio.to_thread
import jwt
import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.announcement_watch import AnnouncementWatch
from api.long_lived import mark_long_lived
from api.problems import API_PROBLEMS, Problem, documented
from api.routes._common import API_PREFIX, BEARER, App, Me, api_get
from application.notifications.announcement import Announcement
from application.notifications.reading import MAX_PAGE
from application.rete import Rete
from domain.network import Actor
from infrastructure.logging import get_logger

log = get_logger(__name__)

PAGE: Final = 100
# How soon a client reconnects after losing the stream (milliseconds, SSE "retry").
RECONNECT_MS: Final = 2000
# Where the app keeps its watch and the stream's timings (``stream_state``).
WATCH: Final = "announcement_watch"
HEARTBEAT: Final = "announcement_heartbeat"

_json = msgspec.json.Encoder()

# Positions are whole numbers from 0 (an outbox position fits in a signed 64-bit integer).
# Said as "above -1": Litestar leaves a bound of 0 out of the OpenAPI document.
MAX_POSITION: Final = 2**63 - 1
After = Annotated[
    int | None,
    QueryParameter(
        gt=-1,
        le=MAX_POSITION,
        description="Only announcements after this position (the last one you received).",
    ),
]
LastEventId = Annotated[
    int | None,
    HeaderParameter(
        name="Last-Event-ID",
        gt=-1,
        le=MAX_POSITION,
        description="The id of the last event received: the stream resumes after it.",
    ),
]
PageSize = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]


class AnnouncementPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of announcements; ask again with ``after=next_after``."""

    announcements: list[Announcement]
    next_after: int


def stream_state(rete: Rete, poll_seconds: float, heartbeat_seconds: float) -> dict[str, object]:
    """What the app keeps for its streams (``create_app`` puts it in the app's state)."""
    return {
        WATCH: AnnouncementWatch(rete.announcement_reader.latest_position, poll_seconds),
        HEARTBEAT: heartbeat_seconds,
    }


def _event(announcement: Announcement) -> ServerSentEventMessage:
    return ServerSentEventMessage(
        id=announcement.position,
        event=announcement.kind,
        data=_json.encode(announcement).decode(),
    )


def _keep_alive(position: int) -> ServerSentEventMessage:
    # A comment, and the id the client resumes after: no event is dispatched.
    return ServerSentEventMessage(comment="keep-alive", id=position, data=None)


async def announcement_events(
    rete: Rete,
    actor: Actor,
    position: int,
    watch: AnnouncementWatch,
    heartbeat: float,
    lifetime: float | None = None,
    first: tuple[int, Sequence[Announcement]] | None = None,
) -> AsyncIterator[ServerSentEventMessage]:
    """The events after ``position``, then each new one as it is announced, until
    ``lifetime`` seconds have passed (the token's; None: until the client leaves).
    ``first``: the first page, already read (with the watch's latest position
    read before it)."""
    # The client's resume point from the start, and how soon to retry a lost stream.
    yield ServerSentEventMessage(id=position, retry=RECONNECT_MS, comment="rete", data=None)
    loop = asyncio.get_running_loop()
    ends_at = None if lifetime is None else loop.time() + lifetime
    quiet_since = loop.time()
    while ends_at is None or loop.time() < ends_at:
        if first is not None:
            (seen, page), first = first, None
        else:
            seen = watch.latest
            try:
                page = await _read(rete, actor, position)
            except Exception as e:
                # The database away, say: the stream ends and the client, reconnecting
                # with its Last-Event-ID, is answered 503 until the server can read.
                log.warning("announcement_stream_ended", error=type(e).__name__)
                return
        for announcement in page:
            yield _event(announcement)
            position = announcement.position
            quiet_since = loop.time()
        if len(page) == PAGE:
            continue  # more are waiting
        # All of its service's announcements up to ``seen`` are sent (see the watch).
        position = max(position, seen)
        remaining = quiet_since + heartbeat - loop.time()
        if remaining <= 0:
            yield _keep_alive(position)
            quiet_since = loop.time()
            remaining = heartbeat
        if ends_at is not None:
            remaining = min(remaining, ends_at - loop.time())
        await watch.beyond(seen, max(remaining, 0.0))


async def _read(rete: Rete, actor: Actor, position: int) -> Sequence[Announcement]:
    return await anyio.to_thread.run_sync(
        lambda: rete.announcement_reader.after(actor, position, PAGE)
    )


def asks_for_a_stream(accept: str) -> bool:
    """Whether ``Accept`` names ``text/event-stream`` (with a weight above 0). A client
    must ask for the stream by name: one that accepts anything (``*/*``) is not
    necessarily ready to hold a connection that never ends."""
    for item in accept.split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        if media == "text/event-stream" and _weight(params) > 0:
            return True
    return False


def _weight(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def token_lifetime(request: Request[Actor, object, State]) -> float | None:
    """Seconds until the request's token expires: a stream does not outlive the token
    it was opened with (the middleware verified the token; only its ``exp`` is read)."""
    token = request.headers.get("authorization", "").partition(" ")[2]
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
        return float(claims["exp"]) - time.time()
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


class AnnouncementsController(Controller):
    path = f"{API_PREFIX}/announcements"
    tags = ["announcements"]
    security = BEARER

    @get(
        "/stream",
        sync_to_thread=True,
        media_type="text/event-stream",
        responses={**API_PROBLEMS, **documented(406)},
        summary="My service's announcements as they happen (Server-Sent Events)",
        description=(
            "Send `Accept: text/event-stream` (as `EventSource` does). Each event: `id` the "
            "announcement's position, `event` its kind, `data` the announcement (JSON). "
            "Reconnect with `Last-Event-ID` to resume exactly; without it (nor `after`) the "
            "stream starts with what is announced from now on. A comment every "
            "`RETE_STREAM_HEARTBEAT` seconds keeps it open; it ends when the token expires."
        ),
    )
    def stream(
        self,
        request: Request[Actor, object, State],
        rete: App,
        actor: Me,
        after: After = None,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        if not asks_for_a_stream(request.headers.get("accept", "")):
            raise Problem(
                406,
                "not-acceptable",
                "Not Acceptable",
                "this address answers an event stream: send Accept: text/event-stream",
            )
        resume = last_event_id if last_event_id is not None else after
        position = rete.announcement_reader.start(actor, resume)
        state = request.app.state
        watch: AnnouncementWatch = state[WATCH]
        # The first page read here: a database that does not answer is a 503 now,
        # not a stream that opens and ends.
        seen = watch.latest
        page = rete.announcement_reader.after(actor, position, PAGE)
        mark_long_lived(request.scope)
        events = announcement_events(
            rete,
            actor,
            position,
            watch,
            state[HEARTBEAT],
            token_lifetime(request),
            first=(seen, page),
        )
        return ServerSentEvent(events, headers={"Cache-Control": "no-store"})

    @api_get("/", summary="My service's announcements after a position, a page at a time")
    def page(
        self, rete: App, actor: Me, after: After = None, limit: PageSize = PAGE
    ) -> AnnouncementPage:
        position = after or 0
        found = list(rete.announcement_reader.after(actor, position, limit))
        return AnnouncementPage(
            announcements=found, next_after=found[-1].position if found else position
        )
