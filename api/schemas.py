"""Request bodies: strict msgspec Structs, checked before any use case runs.

Unknown fields are refused and every text, id and list has an upper bound, so
oversized input stops here with a 400. Vocabulary words (categories, kinds,
urgencies...) stay plain strings: the domain parses them and refuses unknown
ones with its own error codes. Responses are the application's views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import FromQuery, QueryParameter
from msgspec import Meta

Id = Annotated[str, Meta(min_length=1, max_length=100)]
Word = Annotated[str, Meta(min_length=1, max_length=100)]
Words = Annotated[list[Word], Meta(max_length=20)]
Text = Annotated[str, Meta(max_length=20_000)]
Reason = Annotated[str, Meta(max_length=4_000)]
Statute = Annotated[str, Meta(max_length=500)]
Answers = Annotated[dict[Id, bool], Meta(max_length=200)]
# A consent's expiry is compared with the clock: it must say its time zone.
Moment = Annotated[datetime, Meta(tz=True)]


class Body(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base of every request body."""


class OpenCaseBody(Body, frozen=True):
    """Opening a case takes nothing yet: the owner is the caller's service."""


class NoteBody(Body, frozen=True):
    category: Word
    text: Text


class ConsentBody(Body, frozen=True):
    purposes: Words
    categories: Words
    recipient_kinds: Words = msgspec.field(default_factory=list)
    recipient_services: Words = msgspec.field(default_factory=list)
    expires_at: Moment | None = None


class RiskBody(Body, frozen=True):
    instrument_id: Id
    answers: Answers
    judgement: Word | None = None
    justification: Reason | None = None


class ReferralBody(Body, frozen=True):
    recipient_service: Id
    kind: Word
    urgency: Word
    reason: Reason
    scope: Words
    legal_basis: Word
    consent_id: Id | None = None
    statute: Statute | None = None
    justification: Reason | None = None


class ReasonBody(Body, frozen=True):
    reason: Reason


class OptionalReasonBody(Body, frozen=True):
    reason: Reason | None = None


# -- list filters (query parameters; ``application.list_filters`` parses the words) --

# A filter word, repeated for "any of these" (``?status=sent&status=acknowledged``).
QueryWord = Annotated[str, Meta(max_length=50)]
QueryWords = Annotated[list[QueryWord] | None, QueryParameter(max_items=10)]
# ``true`` or ``false``; left out, the list is not narrowed by it.
QueryFlag = FromQuery[bool | None]
