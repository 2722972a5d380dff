"""The database URL (``RETE_DATABASE_URL``) taken apart."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# A schema's name as PostgreSQL takes it unquoted (the eventsourcing library writes
# it into its statements as it is): letters, digits and _, at most 63 bytes.
_PLAIN_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class BadSchemaName(ValueError):
    """The URL's ``?schema=`` is not a plain name."""


def split_schema(url: str) -> tuple[str, str]:
    """``(url without ?schema=, schema)``: libpq does not know the ``schema``
    parameter. ``BadSchemaName`` unless the schema is a plain name."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema" and value), "public")
    if not _PLAIN_NAME.fullmatch(schema):
        raise BadSchemaName(
            f"the schema {schema!r} is not a plain name (letters, digits and _, "
            "at most 63, not starting with a digit)"
        )
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema
