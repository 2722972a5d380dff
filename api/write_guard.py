"""``Idempotency-Key`` and ``If-Match`` on every write route: one mechanism, put
around each handler by ``api_post`` / ``api_delete`` (``api.routes._common``).

``Idempotency-Key`` (optional, 1 to 200 characters): the first request with a
key does the work and its answer is kept; a retry with the same key, method,
address and body gets that answer again (with ``Idempotent-Replayed: true``) and
nothing is done twice, whichever worker answers and across restarts; the same key
with another request is 422 ``idempotency-key-reused``. The rules, and what a
retry of a request that never answered gets, are ``application.idempotency``'s.
A key is the caller's own (its service and user), kept ``RETE_IDEMPOTENCY_HOURS``.

``If-Match`` (optional) on a write to a case or a referral: the ``ETag`` its
writer last read. When the case (as that writer's service sees it) or the
referral has changed since, 412 ``precondition-failed`` and nothing is written
(``application.preconditions``). ``*`` matches any version.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Annotated, Any, get_type_hints

from litestar import Request
from litestar.enums import MediaType
from litestar.params import HeaderParameter
from litestar.response import Response
from litestar.serialization import encode_json

from application.idempotency import Announced, Answer, OutcomeUnknown, Reserved, idempotent_write
from application.preconditions import Current, PreconditionFailed, expecting
from application.rete import Rete
from domain.network import Actor
from infrastructure.logging import get_logger

log = get_logger(__name__)

Handler = Callable[..., Any]

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description=(
            "A key of your choosing, new for each write: a retry with the same key and "
            "body gets the first answer, and nothing is done twice (kept 24 h by default)."
        ),
    ),
]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        max_length=200,
        description="The ETag you last read: 412 if it has changed since, and nothing is written.",
    ),
]

# The headers of an answer that are kept and replayed with it.
_KEPT = ("etag", "location")
_REPLAYED = "Idempotent-Replayed"


def guard(fn: Handler, status_code: int, etag: Callable[[int], str]) -> Handler:
    """``fn`` taking ``Idempotency-Key`` and, on a case's or a referral's address,
    ``If-Match``; its answer always a ``Response`` (the bytes replayed are the
    bytes sent)."""
    signature = inspect.signature(fn)
    names = set(signature.parameters)
    subject = (
        "case_ref" if "case_ref" in names else "referral_id" if "referral_id" in names else None
    )
    hints = get_type_hints(fn, include_extras=True)
    added: dict[str, Any] = {"idempotency_key": IdempotencyKey}
    if subject is not None:
        added["if_match"] = IfMatch
    wants_request = "request" not in names
    if wants_request:
        added["request"] = Request[Any, Any, Any]
    parameters = list(signature.parameters.values()) + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=None)
        for name, kind in added.items()
    ]
    returned = hints.get("return")
    if (
        not (isinstance(returned, type) and issubclass(returned, Response))
        and getattr(returned, "__origin__", None) is not Response
    ):
        returned = Response[returned]  # type: ignore[valid-type]

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Response[Any]:
        key: str | None = kwargs.pop("idempotency_key", None)
        if_match: str | None = kwargs.pop("if_match", None)
        request: Request[Any, Any, Any] = (
            kwargs.pop("request") if wants_request else kwargs["request"]
        )
        rete: Rete = kwargs["rete"]
        actor: Actor = kwargs["actor"]

        def run() -> Response[Any]:
            with ExitStack() as stack:
                if if_match is not None and subject is not None:
                    current = _current(rete, actor, subject, str(kwargs[subject]))
                    _require_match(if_match, etag(current.seen))
                    stack.enter_context(expecting(current))
                return _answered(fn(*args, **kwargs), status_code)

        if key is None or rete.idempotency is None:
            return run()
        return _idempotent(rete, actor, key, request, kwargs.get("data"), run)

    guarded.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=returned
    )
    guarded.__annotations__ = {**hints, **added, "return": returned}
    del guarded.__wrapped__  # Litestar reads the signature above, not fn's
    return guarded


def _current(rete: Rete, actor: Actor, subject: str, ref: str) -> Current:
    if subject == "case_ref":
        return rete.preconditions.case(actor, ref)
    return rete.preconditions.referral(actor, ref)


def _require_match(if_match: str, current: str) -> None:
    sent = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in sent and current not in sent:
        raise PreconditionFailed(
            "it has changed since the version you sent in If-Match; nothing was written: "
            "read it again"
        )


def _answered(result: Any, status_code: int) -> Response[Any]:
    """The handler's answer as bytes, with the headers worth keeping."""
    if isinstance(result, Response):
        content, status = result.content, result.status_code or status_code
        headers = {k: v for k, v in dict(result.headers).items() if k.lower() in _KEPT}
    else:
        content, status, headers = result, status_code, {}
    return Response(
        content=encode_json(content), status_code=status, headers=headers, media_type=MediaType.JSON
    )


def _fingerprint(request: Request[Any, Any, Any], data: object) -> str:
    body = encode_json(data) if data is not None else b""
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()


def _idempotent(
    rete: Rete,
    actor: Actor,
    key: str,
    request: Request[Any, Any, Any],
    data: object,
    run: Callable[[], Response[Any]],
) -> Response[Any]:
    store = rete.idempotency
    assert store is not None
    owner = f"{actor.service.id}/{actor.user_id}"
    reservation = store.reserve(owner, key, _fingerprint(request, data))
    if isinstance(reservation, Answer):
        return _replayed(reservation)
    token = reservation.token if isinstance(reservation, Reserved) else ""

    def announce(events: Sequence[Announced]) -> None:
        store.announce(owner, key, token, events)

    with idempotent_write(announce) as write:
        try:
            response = run()
        except BaseException as e:
            # Announced and not confirmed stored: the next retry reads the log.
            unknown = bool(write.announced) or isinstance(e, OutcomeUnknown)
            try:
                store.release(owner, key, token, unknown=unknown)
            except Exception:
                log.warning("idempotency key not released", error_code="idempotency-release")
            raise
    answer = Answer(
        response.status_code or 200,  # set by _answered
        tuple((k, v) for k, v in dict(response.headers).items() if k.lower() in _KEPT),
        bytes(response.content),
    )
    try:
        store.record(owner, key, token, answer)
    except Exception:
        # The write is done and this answer is true: give it. A retry finds the
        # announced events in the log (409 already-applied), never a second write.
        log.warning("idempotent answer not recorded", error_code="idempotency-record")
    return response


def _replayed(answer: Answer) -> Response[Any]:
    return Response(
        content=answer.body,
        status_code=answer.status,
        headers={**dict(answer.headers), _REPLAYED: "true"},
        media_type=MediaType.JSON,
    )
