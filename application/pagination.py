"""Opaque cursors for lists: clients pass back what they were given, nothing else."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from domain.errors import InvalidValue

T = TypeVar("T")

MAX_LIMIT = 200
# No list is this long; a cursor past it was not given out, and the databases'
# integers would overflow on the way (a 500 rather than this 400).
MAX_OFFSET = 2**31 - 1


class InvalidLimit(InvalidValue):
    code = "invalid-limit"
    title = "The page size is out of range"


class InvalidCursor(InvalidValue):
    code = "invalid-cursor"
    title = "The cursor is not one this server gave out"


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


def offset_of(cursor: str | None, limit: int) -> int:
    """Where a page starts, from the cursor a client passed back (and a checked limit)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidLimit(f"limit must be between 1 and {MAX_LIMIT}")
    return _decode(cursor) if cursor else 0


def cursor_after(offset: int, limit: int, more: bool) -> str | None:
    """The cursor of the page after the one at ``offset``, if more follow."""
    return _encode(offset + limit) if more else None


def page(items: Sequence[T], cursor: str | None, limit: int) -> tuple[list[T], str | None]:
    """One page of a list held whole in memory."""
    start = offset_of(cursor, limit)
    chunk = list(items[start : start + limit])
    return chunk, cursor_after(start, limit, start + limit < len(items))
