"""Opaque cursors for lists: clients pass back what they were given, nothing else.

The case list and the boxes page by keyset: a cursor holds the sort key of the
last row a page held (integers the views chose, ``view_ports.Key``), and the
next page starts after it. Rows written meanwhile do not shift the pages, so a
walk through every page meets each row that was there when it began exactly
once, whatever others write (the sort keys do not change once written).

A cursor is MACed (HMAC-SHA256, under a secret only Rete's processes hold) over
its key and the list it was given for (the service, the list, its filters): a
client cannot forge one into a scan of its own choosing, nor carry one over to
another list; anything else is ``invalid-cursor``.

The access log is paged in memory (``page``): an offset into a list held whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Final, TypeVar

from domain.errors import InvalidValue

T = TypeVar("T")
Key = tuple[int, ...]

MAX_LIMIT = 200
# No list is this long; a cursor past it was not given out, and the databases'
# integers would overflow on the way (a 500 rather than this 400).
MAX_OFFSET = 2**31 - 1
# A key's integers fit the databases' 64-bit integers (a log position does).
_MAX_KEY: Final = 2**63 - 1
_TAG: Final = 16
_AGAIN: Final = "pass back the next_cursor of a previous page of the same list"


class InvalidLimit(InvalidValue):
    code = "invalid-limit"
    title = "The page size is out of range"


class InvalidCursor(InvalidValue):
    code = "invalid-cursor"
    title = "The cursor is not one this server gave out"


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidLimit(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


class Cursors:
    """Seals keys into cursors and opens them, for one list (``scope``) at a time."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _tag(self, scope: str, payload: bytes) -> bytes:
        message = hashlib.sha256(scope.encode()).digest() + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_TAG]

    def seal(self, scope: str, key: Key | None) -> str | None:
        """The cursor of the page after the row whose key is ``key`` (None: no more)."""
        if key is None:
            return None
        payload = json.dumps(list(key), separators=(",", ":")).encode()
        raw = self._tag(scope, payload) + payload
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def open(self, scope: str, cursor: str | None) -> Key | None:
        """The key a cursor given out for ``scope`` holds; None for the first page."""
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            raise InvalidCursor(_AGAIN) from None
        tag, payload = raw[:_TAG], raw[_TAG:]
        if not hmac.compare_digest(tag, self._tag(scope, payload)):
            raise InvalidCursor(_AGAIN)
        try:
            key = json.loads(payload)
        except ValueError:
            raise InvalidCursor(_AGAIN) from None
        # Only a cursor this server sealed gets here; its shape is checked all the same.
        if not isinstance(key, list) or not all(type(k) is int and 0 <= k <= _MAX_KEY for k in key):
            raise InvalidCursor(_AGAIN)
        return tuple(key)


# -- lists held whole in memory ---------------------------------------------------


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = raw.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("pass back the next_cursor of a previous page") from None
    if prefix != "o" or not 0 <= offset <= MAX_OFFSET:
        raise InvalidCursor("pass back the next_cursor of a previous page")
    return offset


def page(items: Sequence[T], cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    """One page of a list held whole in memory."""
    check_limit(limit)
    start = _decode(cursor) if cursor else 0
    chunk = list(items[start : start + limit])
    return chunk, _encode(start + limit) if start + limit < len(items) else None
