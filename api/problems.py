"""Every error answers ``application/problem+json`` (RFC 9457) with a stable code.

Body: ``type`` (``urn:rete:problem:<code>``), ``title``, ``status``, ``detail``,
``code``, ``instance`` (``urn:uuid:<request id>``, the id also sent as
``X-Request-ID`` and logged; never the path), and for malformed bodies
``errors`` (field and reason, never the value sent). The type is a URN rather
than a web address: it is stable wherever the server runs and promises no page.

Domain errors map by family: ``NotFound`` 404, ``InvalidValue`` 400,
``NotPermitted`` 403, ``InvalidState`` (``Conflict`` included) 409,
``RuleViolation`` 422; ``precondition-failed`` (a stale ``If-Match``) 412, and
``outcome-unknown`` 503 with ``Retry-After`` (a write the server could not confirm:
retry with the same ``Idempotency-Key``; ``api.write_guard`` has the other
``idempotency-*`` codes). Framework errors keep their status with a fixed detail
(Litestar's own detail may echo the path, the query string or a header).

A full disk or database (``application.errors.StorageFull``, or any failure
``infrastructure.db.storage_full`` reads as one) is a 507 ``storage-full`` with
``Retry-After``: nothing was written, and the same request succeeds once space
is freed, with no restart.

A database that is away for now (stopped, restarting, unreachable, out of
connections, too slow for the request's budget: ``infrastructure.db.unavailable``)
is a 503 ``database-unreachable`` with ``Retry-After``, whichever layer it
surfaced in. Anything else is a 500 ``internal-error``; the log gets its type
and frames, never its message or local values.

``IntegrityFailure`` (``application.integrity``) is a 500 ``integrity-failure``:
stored data Rete wrote itself (a view row, a sealed part handed out with the
wrong row, a log record the ledger had hashed) failed its check, and the
operation was refused rather than served from it, never ``internal-error``;
``/health`` then answers 503 ``integrity-in-doubt``.

Every function here is total: an exception raised inside an exception handler
would escape to the server.
"""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, TypeVar

import msgspec
from litestar.connection import Request
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.response import Response

from api.request_log import note_error_code, request_id_of
from application.errors import NotFound, StorageFull
from application.idempotency import OutcomeUnknown
from application.integrity import IntegrityFailure
from application.preconditions import PreconditionFailed
from domain.errors import DomainError, InvalidState, InvalidValue, NotPermitted, RuleViolation
from infrastructure.db.storage_full import is_storage_full
from infrastructure.db.unavailable import RETRY_AFTER, why_away
from infrastructure.logging import get_logger

TYPE_PREFIX = "urn:rete:problem:"
INTERNAL_ERROR = "internal-error"

log = get_logger(__name__)

E = TypeVar("E", bound=Exception)


class Problem(ProblemDetailsException):
    """An error answer: raise it from the API layer, or let a handler build one."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        extra: dict[str, Any] = {"code": code}
        if errors:
            extra["errors"] = errors
        super().__init__(
            detail=detail,
            status_code=status,
            headers=headers,
            extra=extra,
            type_=TYPE_PREFIX + code,
            title=title,
        )
        self.code = code

    def to_response(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        request_id = request_id_of(request.scope)
        if request_id is not None:
            self.instance = f"urn:uuid:{request_id}"
        note_error_code(request.scope, self.code)
        return super().to_response(request)


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class ProblemBody(msgspec.Struct, frozen=True):
    """The shape of every error answer, for the OpenAPI document."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldError] | None = None


_DOCUMENTED = {
    400: "Malformed or out-of-range input",
    401: "Missing, invalid or expired token",
    403: "Your role or service may not do this",
    404: "No such thing, or not one your service may see",
    406: "This address answers only the media type it documents (ask for it in Accept)",
    409: "It does not fit the current state",
    413: "The body is larger than the server accepts",
    415: "The body is not JSON (send it as application/json, in UTF-8)",
    412: "If-Match: it has changed since that version (precondition-failed); nothing was written",
    422: "A rule of the network refuses it",
    503: "The database does not answer",
    507: "The server's storage is full: nothing was written, retry later",
}


def documented(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route may answer."""
    return {
        status: ResponseSpec(
            data_container=ProblemBody,
            media_type="application/problem+json",
            description=_DOCUMENTED[status],
            generate_examples=False,
        )
        for status in statuses
    }


API_PROBLEMS = documented(400, 401, 403, 404, 409, 422)
# A route that reads a body may also refuse it whole.
BODY_PROBLEMS = documented(400, 401, 403, 404, 409, 413, 415, 422)
# Every write may also answer these (api.write_guard): a stale If-Match, and a
# write whose outcome could not be confirmed (retry with the same Idempotency-Key).
WRITE_PROBLEMS = documented(412, 503)
# Any route may find the storage full (a read records who read).
API_PROBLEMS = {**API_PROBLEMS, **documented(507)}
BODY_PROBLEMS = {**BODY_PROBLEMS, **documented(507)}


# Problem types the API answers itself, not from a domain error: code -> (status,
# title). With every ``DomainError``'s, they are the document's typed problems
# (``api.openapi_document``); an answer of a type not listed still fits the
# generic ``ProblemBody``.
API_PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "invalid-parameter": (400, "Invalid request parameter"),
    "invalid-body": (400, "Invalid request body"),
    "unknown-parameter": (400, "Unknown query parameter"),
    "bad-request": (400, "Bad Request"),
    "missing-token": (401, "Not authenticated"),
    "invalid-token": (401, "Not authenticated"),
    "expired-token": (401, "Not authenticated"),
    "token-lifetime-too-long": (401, "Not authenticated"),
    "unknown-actor": (401, "Not authenticated"),
    "unauthenticated": (401, "Unauthorized"),
    "forbidden": (403, "Forbidden"),
    "not-found": (404, "Not Found"),
    "not-acceptable": (406, "Not Acceptable"),
    "body-too-large": (413, "Request Entity Too Large"),
    "unsupported-media-type": (415, "Unsupported Media Type"),
    "database-unreachable": (503, "Service unavailable"),
    "identity-provider-unavailable": (503, "Identity provider unavailable"),
    StorageFull.code: (507, StorageFull.title),
}


def internal_error() -> Problem:
    return Problem(
        500,
        INTERNAL_ERROR,
        "Internal server error",
        "the server failed to answer; the request id identifies the failure in its logs",
    )


def _total(convert: Callable[[E], Problem]) -> Callable[[E], Problem]:
    """A converter that answers a bare 500 rather than raise."""

    def safe(exc: E) -> Problem:
        try:
            return convert(exc)
        except Exception:
            return internal_error()

    return safe


# -- domain errors -------------------------------------------------------------


def status_of(error: DomainError) -> int:
    if isinstance(error, IntegrityFailure):
        return 500
    if isinstance(error, OutcomeUnknown):
        return 503
    if isinstance(error, PreconditionFailed):
        return 412
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidValue):
        return 400
    if isinstance(error, NotPermitted):
        return 403
    if isinstance(error, InvalidState):
        return 409
    if isinstance(error, RuleViolation):
        return 422
    return 422


@_total
def from_domain_error(error: DomainError) -> Problem:
    # A refusal that passes with time says when to retry (outcome-unknown, in-progress).
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Problem(status_of(error), error.code, error.title, error.detail, headers=headers)


# -- framework errors ----------------------------------------------------------

_HTTP_CODES: Mapping[int, tuple[str, str]] = {
    400: ("bad-request", "the request could not be read"),
    401: ("unauthenticated", "authenticate with a Bearer token"),
    403: ("forbidden", "you may not do this"),
    404: ("not-found", "there is nothing at this address"),
    405: ("method-not-allowed", "this address does not answer this method"),
    406: ("not-acceptable", "this address answers JSON only"),
    413: ("body-too-large", "the request body is larger than the server accepts"),
    415: ("unsupported-media-type", "send the body as application/json"),
    429: ("too-many-requests", "slow down and retry later"),
}

# msgspec quotes offending values in single quotes (enum values, patterns): drop them.
_QUOTED = re.compile(r"'[^']*'")
_MAX_FIELD = 100
_MAX_MESSAGE = 200


def _field_errors(extra: object) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if not isinstance(extra, list):
        return errors
    for item in extra[:20]:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key", ""))
        message = _QUOTED.sub("'…'", str(item.get("message", "invalid")))
        errors.append(
            {
                "field": "(body)" if key in ("", "data") else key[:_MAX_FIELD],
                "message": message[:_MAX_MESSAGE],
            }
        )
    return errors


def _from_validation(exc: ValidationException) -> Problem:
    errors = _field_errors(exc.extra)
    sources = [e.get("source") for e in exc.extra or [] if isinstance(e, dict)]
    # Litestar lists no sources for a missing query parameter: only listed body
    # errors make it a body problem.
    if sources and all(source == "body" for source in sources):
        code, title, subject = "invalid-body", "Invalid request body", "the body does"
    else:
        code, title, subject = "invalid-parameter", "Invalid request parameter", "a parameter does"
    listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return Problem(400, code, title, f"{subject} not match the schema: {listed}", errors=errors)


@_total
def from_http_exception(exc: HTTPException) -> Problem:
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    if isinstance(exc.__cause__, SerializationException):
        return from_serialization_error(exc.__cause__)
    if exc.status_code == 500:
        return from_unexpected(exc)
    return _plain(exc.status_code, exc.headers)


def _plain(status: int, headers: Mapping[str, str] | None) -> Problem:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    code, detail = _HTTP_CODES.get(status, (f"http-{status}", phrase.lower()))
    kept = {k: v for k, v in (headers or {}).items() if k.lower() in ("allow", "www-authenticate")}
    return Problem(status, code, phrase, detail, headers=kept or None)


def invalid_body(detail: str) -> Problem:
    """A body that cannot be read as JSON at all (no field to name)."""
    return Problem(400, "invalid-body", "Invalid request body", detail)


def unsupported_media_type() -> Problem:
    return _plain(415, None)


@_total
def from_serialization_error(_: SerializationException) -> Problem:
    return invalid_body("the body is not valid JSON")


# -- everything else -----------------------------------------------------------


def _frames(exc: BaseException) -> list[str]:
    return [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__, limit=30)
    ]


# How long a client should wait before retrying on a full disk: an operator's time.
STORAGE_RETRY_AFTER_SECONDS = 60


@_total
def from_storage_full(exc: Exception) -> Problem:
    """507 ``storage-full``: the operator's log says so, once per refused request."""
    with contextlib.suppress(Exception):
        log.error(
            "storage full: nothing was written",
            error_code=StorageFull.code,
            exception_type=f"{type(exc).__module__}.{type(exc).__qualname__}",
        )
    return Problem(
        507,
        StorageFull.code,
        StorageFull.title,
        StorageFull.detail,
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
    )


def database_unreachable() -> Problem:
    """The database is away for now: retry after a moment (nothing is known written
    unless the answer said so; a write retried with its ``Idempotency-Key`` is safe)."""
    return Problem(
        503,
        "database-unreachable",
        "Service unavailable",
        "the database does not answer at the moment; retry shortly",
        headers={"Retry-After": str(RETRY_AFTER)},
    )


@_total
def from_unexpected(exc: Exception) -> Problem:
    """Log what failed and where, not what it was working on."""
    if is_storage_full(exc):  # a driver's error no layer below translated
        return from_storage_full(exc)
    away = why_away(exc)
    if away is not None:
        with contextlib.suppress(Exception):
            log.warning(
                "database unavailable",
                error_code="database-unreachable",
                reason=away.value,
                exception_type=f"{type(exc).__module__}.{type(exc).__qualname__}",
            )
        return database_unreachable()
    with contextlib.suppress(Exception):
        log.error(
            "unhandled exception",
            error_code=INTERNAL_ERROR,
            exception_type=f"{type(exc).__module__}.{type(exc).__qualname__}",
            frames=_frames(exc),
        )
    return internal_error()


def problem_details_plugin() -> ProblemDetailsPlugin:
    """Registers the converters above as the app's exception handlers."""
    mapping: dict[type[Any], Callable[[Any], ProblemDetailsException]] = {
        DomainError: from_domain_error,
        StorageFull: from_storage_full,
        HTTPException: from_http_exception,
        SerializationException: from_serialization_error,
        Exception: from_unexpected,
    }
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=mapping))
