"""Written texts must say something a person can read.

A note, a reason or a justification the network asks for is a record someone
will read later: a coordinator deciding, an auditor checking a disclosure. A
text made only of characters no screen shows (spaces of any width, zero-width
and format characters, bidirectional controls, control characters, marks with
nothing to mark, fillers drawn as blank) is as empty as ``""`` and is refused
with ``EmptyText``. One visible character anywhere makes the text readable; the
text is then kept as written, without its surrounding whitespace.

Visibility is decided per code point from its Unicode general category
(separators ``Z*``, others ``C*`` and marks ``M*`` are not visible on their
own) plus the few letters and symbols that are drawn as nothing.
"""

from __future__ import annotations

import unicodedata

from domain import errors

# Letters and symbols whose glyph is blank: Hangul fillers and the empty Braille cell.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# General categories (first letter) that are never visible on their own.
_UNSEEN_CATEGORIES = frozenset("ZCM")


def is_visible(char: str) -> bool:
    """Whether one code point is drawn as something a reader can see."""
    return unicodedata.category(char)[0] not in _UNSEEN_CATEGORIES and char not in _BLANK_GLYPHS


def readable(value: str | None) -> str | None:
    """The text without its surrounding whitespace, or ``None`` if nothing in it is visible."""
    if value is None or not any(is_visible(c) for c in value):
        return None
    return value.strip()


def required_text(value: str | None, what: str) -> str:
    """A text that must be there: readable, or ``EmptyText`` naming ``what``."""
    text = readable(value)
    if text is None:
        raise errors.EmptyText(f"{what} must contain visible text")
    return text
