"""The database URL (``RETE_DATABASE_URL``) taken apart."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def split_schema(url: str) -> tuple[str, str]:
    """``(url without ?schema=, schema)``: libpq does not know the ``schema`` parameter."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((value for key, value in query if key == "schema" and value), "public")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema
