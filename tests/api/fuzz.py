"""A seeded generator of malformed requests for every route of the app.

Routes come from the app itself (``app.routes``: every HTTP route, the schema's
own included) and their parameters and bodies from its OpenAPI document, so a
new route is fuzzed without anyone listing it. Each request starts from
something close to valid (a real case reference, a body built from the route's
schema, a token of someone of the network) and then breaks one or more things:
the path, the query string, the headers, the body's bytes, its media type, its
values. Near-valid input reaches the use cases and the databases; junk tests
the edges. Everything comes from one ``random.Random(seed)``: a failure is
replayed by its seed and index.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from litestar import Litestar
from litestar.routes import HTTPRoute

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")

EVIL_STRINGS = [
    "",
    " ",
    "\u200b",
    "\u202e\u2066",
    "\x00",
    "\x7f\x1b[31m",
    "😀" * 3,
    "\ud7ff\ue000\uffff",
    "a" * 201,
    "a" * 5_000,
    "../../etc/passwd",
    "%2e%2e%2f",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "-1",
    "0",
    "1.5",
    "1e400",
    "NaN",
    "-0",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "100000000000000000000000000",
    "null",
    "true",
    "[]",
    "{}",
    "CB-2026-0001",
    "CB-9999-9999",
    "00000000-0000-0000-0000-000000000000",
    "2026-03-02T10:00:00",
    "2026-03-02T10:00:00Z",
    "2026-13-45T99:99:99Z",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "2026-03-02T10:00:00+99:00",
]
EVIL_NUMBERS: list[Any] = [0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30, 1e308, -0.0]
EVIL_VALUES: list[Any] = [
    None,
    True,
    False,
    [],
    {},
    float("nan"),
    float("inf"),
    *EVIL_NUMBERS,
    *EVIL_STRINGS,
    ["x"] * 25,
    {"a": 1},
    "x" * 25_000,
]
MEDIA_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "application/json; charset=latin-1",
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/msgpack",
    "application/octet-stream",
    "application/json;;;=",
    "*/*",
    "",
]


@dataclass(frozen=True)
class Route:
    """One method of one route, with what the OpenAPI document says it takes."""

    method: str
    template: str  # /api/v1/cases/{case_ref}
    path_params: tuple[str, ...]
    query: Mapping[str, Mapping[str, Any]]
    body: Mapping[str, Any] | None  # the JSON schema of the body, if it takes one


@dataclass
class FuzzRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    content: bytes | None
    route: Route
    what: list[str] = field(default_factory=list)  # which breakages were applied


def routes_of(app: Litestar) -> list[Route]:
    """Every method of every HTTP route of the app (OPTIONS aside: Litestar answers it)."""
    doc = app.openapi_schema.to_schema()
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(route.methods - {"OPTIONS"}):
            op = doc.get("paths", {}).get(route.path_format, {}).get(method.lower(), {})
            query = {
                p["name"]: p.get("schema", {})
                for p in op.get("parameters", [])
                if p.get("in") == "query"
            }
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            found.append(
                Route(
                    method=method,
                    template=route.path_format,
                    path_params=tuple(route.path_parameters),
                    query=query,
                    body=_resolve(doc, body.get("schema")) if body else None,
                )
            )
    return found


def _resolve(doc: Mapping[str, Any], schema: Any) -> Any:
    """The schema with every ``$ref`` replaced by what it names."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return _resolve(doc, doc["components"]["schemas"][name])
        return {k: _resolve(doc, v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(doc, s) for s in schema]
    return schema


@dataclass
class Fuzzer:
    """Makes requests for ``routes``, with ``known`` real values for path
    parameters and names (ids, vocabulary) and ``tokens`` of real people."""

    rng: random.Random
    routes: Sequence[Route]
    known: Mapping[str, Sequence[str]]
    words: Sequence[str]
    tokens: Sequence[str]
    forge: Callable[[random.Random], str]
    # Values that make sense for a body field of this name (its words, ids); a
    # dict field's keys under "<name>.keys". Mostly used, so requests get deep.
    fields: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def request(self, index: int) -> FuzzRequest:
        """The ``index``-th request: routes in turn, so every route gets its share."""
        route = self.routes[index % len(self.routes)]
        rng = self.rng
        req = FuzzRequest(route.method, "", [], None, route)
        if rng.random() < 0.05:
            req.method = rng.choice(METHODS)
            req.what.append("method")
        req.url = self._path(route, req) + self._query(route, req)
        req.headers = self._headers(req)
        if route.body is not None or rng.random() < 0.1:
            self._body(route, req)
        return req

    # -- path and query --------------------------------------------------------

    def _path(self, route: Route, req: FuzzRequest) -> str:
        path = route.template
        for name in route.path_params:
            choices = self.known.get(name, ())
            if choices and self.rng.random() < 0.7:
                value = self.rng.choice(choices)
            else:
                value = self._string()
                req.what.append(f"path:{name}")
            path = path.replace("{" + name + "}", quote(value, safe=""))
        if self.rng.random() < 0.03:
            path += self.rng.choice(["/", "//", "/x", "%00", "/..", ";x=1", "%ff%fe", "%"])
            req.what.append("path-suffix")
        return path

    def _query(self, route: Route, req: FuzzRequest) -> str:
        pairs: list[tuple[str, str]] = []
        for name, schema in route.query.items():
            if self.rng.random() < 0.4:
                continue
            for _ in range(self.rng.choice([1, 1, 1, 2, 11])):
                if self.rng.random() < 0.5:
                    pairs.append((name, self._valid_query(name, schema)))
                else:
                    pairs.append((name, self._string()))
                    req.what.append(f"query:{name}")
        if self.rng.random() < 0.1:
            pairs.append((self._string()[:50] or "x", self._string()))
            req.what.append("query:unknown")
        if not pairs:
            return ""
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
        if self.rng.random() < 0.03:
            query = self.rng.choice(["%", "%zz", "&&==", "a=%ff%fe", "=" * 50]) + "&" + query
            req.what.append("query:raw")
        return "?" + query

    def _valid_query(self, name: str, schema: Mapping[str, Any]) -> str:
        if name == "cursor":
            offset = self.rng.choice([0, 1, 50, 10**6, 2**31, 10**26, -5])
            prefix = self.rng.choice(["o", "o", "x", ""])
            raw = f"{prefix}:{offset}".encode()
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")
        kind = _type_of(schema)
        if kind == "integer":
            return str(self.rng.choice([0, 1, 2, 5, 50, 100, 200, 201, 500, 2026, -1, 2**53]))
        if kind == "date-time":
            return self.rng.choice(EVIL_STRINGS[-6:])
        enum = schema.get("enum") or schema.get("items", {}).get("enum")
        if enum:
            return str(self.rng.choice(enum))
        return self.rng.choice([*self.words, "inbox", "outbox", "sent", "accepted"])

    # -- headers -----------------------------------------------------------------

    def _headers(self, req: FuzzRequest) -> list[tuple[str, str]]:
        rng = self.rng
        headers: list[tuple[str, str]] = []
        roll = rng.random()
        if roll < 0.75:
            headers.append(("Authorization", f"Bearer {rng.choice(self.tokens)}"))
        elif roll < 0.9:
            headers.append(("Authorization", self.forge(rng)))
            req.what.append("auth:forged")
        elif roll < 0.95:
            headers.append(("Authorization", self._auth_junk()))
            req.what.append("auth:junk")
        else:
            req.what.append("auth:none")
        for name, values in (
            ("If-Match", ['"1"', '"999"', "*", 'W/"1"', "garbage", '"' + "9" * 40 + '"']),
            ("Accept", ["application/xml", "*/*", "text/csv", "application/json;q=0", "ä"]),
            ("X-Request-ID", ["x", "\u00e9" * 3, "a" * 500, "../", "\xff\xfe"]),
            ("Content-Type", ["application/json; charset=\xff", "\xff", "application/json"]),
            ("Content-Encoding", ["gzip", "br", "identity"]),
            ("Transfer-Encoding", ["chunked"]),
            ("Range", ["bytes=0-1", "bytes=9-1"]),
            ("Cookie", ["a=b; c", "=" * 30]),
        ):
            if rng.random() < 0.04:
                headers.append((name, rng.choice(values)))
                req.what.append(f"header:{name}")
        if rng.random() < 0.03:
            headers.append((f"X-{rng.randrange(10**6)}", self._string()[:200]))
            req.what.append("header:unknown")
        return headers

    def _auth_junk(self) -> str:
        token = self.rng.choice(self.tokens)
        return self.rng.choice(
            [
                "Bearer",
                "Bearer ",
                "bearer " + token,
                "Basic YW5uYTpzZWNyZXQ=",
                "Bearer " + token[:-3],
                "Bearer " + token + "x",
                "Bearer " + token.replace(".", "..", 1),
                "Bearer " + "a" * 10_000,
                "Bearer " + "a.b.c",
                "Bearer " + token + " " + token,
                "Bearer \u00e9",
            ]
        )

    # -- bodies --------------------------------------------------------------------

    def _body(self, route: Route, req: FuzzRequest) -> None:
        rng = self.rng
        value = self._from_schema(route.body or {"type": "object"}, depth=0)
        if rng.random() < 0.45:
            value = self._mutate(value, req)
        raw = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        if rng.random() < 0.3:
            raw = self._corrupt(raw, req)
        media = "application/json"
        if rng.random() < 0.12:
            media = rng.choice(MEDIA_TYPES)
            req.what.append(f"media:{media}")
        if media:
            req.headers.append(("Content-Type", media))
        req.content = raw

    def _from_schema(self, schema: Mapping[str, Any], depth: int, name: str = "") -> Any:
        rng = self.rng
        if "oneOf" in schema:
            options = [s for s in schema["oneOf"] if s.get("type") != "null"] or [{"type": "null"}]
            return self._from_schema(rng.choice(options), depth, name)
        kind = _type_of(schema)
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            required = set(schema.get("required", ()))
            out = {
                prop: self._from_schema(sub, depth + 1, prop)
                for prop, sub in props.items()
                if prop in required or rng.random() < 0.5
            }
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                keys = list(self.fields.get(f"{name}.keys", ())) or list(self.words)
                if rng.random() < 0.3:
                    keys = rng.sample(keys, k=rng.randint(0, len(keys)))
                for key in keys:
                    out[key] = self._from_schema(extra, depth + 1)
            return out
        if kind == "array":
            items = schema.get("items", {})
            return [self._from_schema(items, depth + 1, name) for _ in range(rng.randint(1, 3))]
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "integer":
            return rng.choice([0, 1, 7])
        if kind == "date-time":
            return rng.choice(["2027-01-01T00:00:00Z", "2026-03-01T00:00:00+01:00"])
        if kind == "null":
            return None
        if name in self.fields and rng.random() < 0.85:
            return rng.choice(self.fields[name])
        return rng.choice([*self.words, "he threatened her again", "the facts"])

    def _mutate(self, value: Any, req: FuzzRequest) -> Any:
        rng = self.rng
        roll = rng.random()
        if not isinstance(value, dict) or roll < 0.15:
            req.what.append("body:replaced")
            return rng.choice(EVIL_VALUES)
        value = dict(value)
        keys = list(value)
        if keys and roll < 0.35:
            del value[rng.choice(keys)]
            req.what.append("body:dropped")
        elif roll < 0.45:
            value[self._string()[:30] or "extra"] = rng.choice(EVIL_VALUES)
            req.what.append("body:unknown-field")
        elif keys:
            key = rng.choice(keys)
            value[key] = (
                rng.choice(EVIL_VALUES) if rng.random() < 0.8 else _deep(rng.randint(2, 60))
            )
            req.what.append(f"body:{key}")
        return value

    def _corrupt(self, raw: bytes, req: FuzzRequest) -> bytes:
        rng = self.rng
        cut = rng.randrange(len(raw) + 1)
        choices: list[tuple[str, Callable[[], bytes]]] = [
            ("truncated", lambda: raw[:cut]),
            ("byte", lambda: raw[:cut] + bytes([rng.randrange(256)]) + raw[cut:]),
            ("invalid-utf8", lambda: raw.replace(b'"', b'"\xff\xfe', 2)),
            ("lone-surrogate", lambda: raw.replace(b'"', b'"\\ud800', 2)),
            ("bom", lambda: b"\xef\xbb\xbf" + raw),
            ("deep", lambda: b"[" * rng.choice([33, 1_000, 50_000]) + raw),
            ("deep-balanced", lambda: b"[" * 5_000 + b"]" * 5_000),
            ("nan", lambda: raw.replace(b"0", b"NaN", 1) if b"0" in raw else b"NaN"),
            ("huge-number", lambda: b'{"n": 1' + b"0" * 5_000 + b"}"),
            ("exponent", lambda: b'{"n": 1e999999999}'),
            ("duplicate-keys", lambda: raw[:-1] + b"," + raw[1:] if raw[:1] == b"{" else raw),
            ("trailing", lambda: raw + b" garbage"),
            ("scalar", lambda: rng.choice([b"null", b"42", b'"x"', b"true", b"[]", b"{}"])),
            ("empty", lambda: b""),
            ("spaces", lambda: b" " * 100),
            ("random", lambda: bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))),
            ("control", lambda: raw.replace(b'"', b'"\x00\x01', 2)),
            ("escapes", lambda: raw.replace(b'"', b'"\\u0000\\uffff\\', 1)),
            ("big", lambda: b'{"text": "' + b"x" * rng.choice([30_000, 1_100_000]) + b'"}'),
        ]
        name, make = rng.choice(choices)
        req.what.append(f"bytes:{name}")
        return make()

    def _string(self) -> str:
        rng = self.rng
        if rng.random() < 0.8:
            return rng.choice(EVIL_STRINGS)
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randint(1, 20)))


def _type_of(schema: Mapping[str, Any]) -> str:
    if schema.get("format") == "date-time":
        return "date-time"
    kind = schema.get("type", "string")
    return kind if isinstance(kind, str) else "string"


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value
