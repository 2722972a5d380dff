"""schemathesis hooks: what a correct client does that no schema can say.

- ``Idempotency-Key``: a new key for each new request (API.md); schemathesis
  repeats generated values, and a key sent again with another body is rightly
  refused (422 ``idempotency-key-reused``).
- ``If-Match``: the ETag the client last read, or nothing; a made-up one is
  rightly 412.
- ``cursor``: the ``next_cursor`` of a previous page, opaque; a made-up one is
  rightly 400 ``invalid-cursor``.
- a consent's ``expires_at``: later than now, which no schema can say; one in
  the past is rightly 400 ``invalid-consent-terms``. It is left out instead.

Cases meant to break the schema are left as they are: the server refuses what
breaks the schema before it looks at a key, an ETag or a cursor.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

MAX_HEADER = 200


def _valid_header(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= MAX_HEADER


def _past(moment: Any) -> bool:
    if not isinstance(moment, str):
        return False
    try:
        when = datetime.fromisoformat(moment)
    except ValueError:
        return False
    if when.tzinfo is None:
        return False
    return when <= datetime.now(UTC) + timedelta(minutes=5)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return  # what it breaks is refused first (400, 401), a reused key or ETag after
    headers = case.headers
    if headers is None:
        return
    if _valid_header(headers.get("Idempotency-Key")):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if "If-Match" in headers and len(str(headers["If-Match"])) <= MAX_HEADER:
        del headers["If-Match"]
    body = case.body
    if isinstance(body, dict) and _past(body.get("expires_at")):
        del body["expires_at"]
    query = case.query
    if query is not None and _valid_header(query.get("cursor")):
        del query["cursor"]
