"""Request bodies are JSON, of bounded depth, in UTF-8, or they are refused with a 4xx.

Litestar decodes a handler's ``data`` with ``Request.json()`` whatever the
``Content-Type`` says, and lets the decoder's ``RecursionError`` (deep nesting)
and ``UnicodeDecodeError`` (invalid UTF-8 inside a string) escape as 500s.
``JsonRequest`` is the app's request class (``Litestar(request_class=...)``):
before decoding it checks, in this order,

- the media type: ``application/json`` or a ``+json`` type, with no charset or
  UTF-8 (RFC 8259 JSON is UTF-8), else 415 ``unsupported-media-type``;
- the nesting depth: at most ``MAX_JSON_DEPTH`` arrays and objects inside one
  another, else 400 ``invalid-body``. msgspec has no depth limit of its own;
  every body Rete takes nests two levels, so the limit only ever refuses junk;
- the decoding itself, where invalid UTF-8 is a 400 ``invalid-body`` too.

A body the server does not read (a route without ``data``) is not checked:
nothing is done with it. The size limit is Litestar's ``request_max_body_size``.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.serialization import decode_json
from litestar.types import Empty

from api.problems import invalid_body, unsupported_media_type

MAX_JSON_DEPTH = 32

_JSON_TYPES = ("application/json",)
_JSON_SUFFIX = "+json"
_UTF8 = ("utf-8", "utf8")

# A JSON string: brackets inside it are text, not structure. An unterminated
# string does not match, so its brackets count: the body is malformed anyway.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN = frozenset(b"[{")
# Every byte but the four brackets, for ``bytes.translate`` to delete.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def is_json_media_type(media_type: str, options: dict[str, str]) -> bool:
    """Whether a parsed ``Content-Type`` (lower-cased type, parameters) announces JSON."""
    if media_type not in _JSON_TYPES and not (
        media_type.startswith("application/") and media_type.endswith(_JSON_SUFFIX)
    ):
        return False
    charset = options.get("charset")
    return charset is None or charset.strip().strip('"').lower() in _UTF8


def nests_deeper_than(limit: int, body: bytes) -> bool:
    """Whether arrays and objects in ``body`` nest more than ``limit`` deep
    (brackets inside strings do not count).

    Linear in the body's size: the regular expression and ``translate`` run in
    C, and the loop left in Python sees only brackets and stops as soon as they
    nest too deep.
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def check_json_body(body: bytes, media_type: str, options: dict[str, str]) -> None:
    """Refuse a body that is not JSON by its media type, or nests too deep."""
    if not is_json_media_type(media_type, options):
        raise unsupported_media_type()
    if nests_deeper_than(MAX_JSON_DEPTH, body):
        raise invalid_body(f"the body nests deeper than {MAX_JSON_DEPTH} levels")


class JsonRequest(Request[Any, Any, Any]):
    """Litestar's request, with the checks above before its JSON body is decoded."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:
            body = await self.body()
            if body:
                media_type, options = self.content_type
                check_json_body(body, media_type, options)
                try:
                    decoded = decode_json(
                        body, type_decoders=self.route_handler.resolve_type_decoders()
                    )
                except (UnicodeDecodeError, RecursionError):
                    raise invalid_body("the body is not valid JSON in UTF-8") from None
                self._json = self._connection_state.json = decoded
        return await super().json()
