"""The served OpenAPI document, completed with what Litestar cannot say (issue 12).

Litestar generates the document from the routes and the msgspec bodies, but
leaves out constraints the server enforces elsewhere, and has no way to write
links. ``complete`` adds them to the generated document, in this one place:

- every request body refuses unknown fields (``forbid_unknown_fields``), so its
  schema says ``additionalProperties: false``;
- a body the route may go without (``POST /cases``, ``withdraw``) is not
  ``required``;
- vocabulary words stay plain strings in ``api.schemas`` so that the domain
  refuses an unknown word with its own 400 code (``unknown-category``...); the
  document lists the words the domain takes (``VOCABULARY``, ``QUERY_WORDS``),
  and the network directory's service ids;
- a referral names at least one category (``empty-scope``) and goes to a
  service that works cases (``recipient-cannot-work-cases``);
- a required text (a note, a reason) has a visible character (``empty-text``,
  ``domain.text``): a pattern of every visible code point (``visible_pattern``);
- a risk assessment answers every item of its instrument and no other
  (``unknown-risk-item``...): one schema per instrument of the deployment;
- a page's ``limit`` is 1 to ``MAX_LIMIT`` (the audit log's 1 to ``MAX_EVENTS``)
  and the audit log's ``after`` is not negative (``QUERY_BOUNDS``), refused
  with the application's own codes (``invalid-limit``, ``invalid-position``);
- links: each answer naming a case, a referral or a consent leads to the
  operations on it, by the field that names it (``reference_code``, ``id``);
- typed problems: every problem type (each ``DomainError``'s code, and
  ``api.problems.API_PROBLEM_TYPES``) is a component of its own, its ``code`` and
  ``type`` constants, with an example; each problem answer of a route is any of
  the types of its status (a read's leave out those only a write answers,
  ``WRITE_ONLY``), or the generic ``ProblemBody`` last (a generated
  client decodes a refusal into its own type, and a type added later still
  decodes); the filters of the lists take the words ``application.list_filters``
  parses.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, get_args

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from api.problems import API_PROBLEM_TYPES, TYPE_PREFIX, status_of
from api.schemas import Body, Id
from application.audit import MAX_EVENTS
from application.idempotency import (
    AlreadyApplied,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    OutcomeUnknown,
)
from application.pagination import MAX_LIMIT
from domain import vocabulary as v
from domain.entries import CaseStatus
from domain.errors import DomainError
from domain.referral import ReferralStatus
from domain.risk import RiskLevel
from domain.text import is_visible

Document = dict[str, Any]
Schema = dict[str, Any]
_SCHEMAS = "#/components/schemas/"

# The lists a caseworker filters (``application.list_filters``).
LISTS = ("/api/v1/cases", "/api/v1/referrals")
# Body field -> the words it takes; a list field's items take them.
VOCABULARY: dict[tuple[str, str], type[StrEnum]] = {
    ("NoteBody", "category"): v.Category,
    ("ConsentBody", "purposes"): v.ReferralKind,
    ("ConsentBody", "categories"): v.Category,
    ("ConsentBody", "recipient_kinds"): v.ServiceKind,
    ("ReferralBody", "kind"): v.ReferralKind,
    ("ReferralBody", "urgency"): v.Urgency,
    ("ReferralBody", "scope"): v.Category,
    ("ReferralBody", "legal_basis"): v.LegalBasis,
}
# Query parameters taking words: (path, parameter) -> words.
QUERY_WORDS: dict[tuple[str, str], list[str]] = {
    ("/api/v1/referrals", "box"): ["inbox", "outbox"],
    ("/api/v1/referrals", "status"): [s.value for s in ReferralStatus],
    ("/api/v1/cases", "status"): [s.value for s in CaseStatus],
    **{(path, "urgency"): [u.value for u in v.Urgency] for path in LISTS},
    **{(path, "kind"): [k.value for k in v.ReferralKind] for path in LISTS},
}
# Query parameters taking the directory's service ids.
QUERY_SERVICES = {(path, "counterpart") for path in LISTS}
# Texts the domain takes only with something visible in them (``required_text``).
REQUIRED_TEXTS = (("NoteBody", "text"), ("ReferralBody", "reason"), ("ReasonBody", "reason"))
# Query parameters with bounds the application checks: (path, parameter) -> bounds.
QUERY_BOUNDS: dict[tuple[str, str], dict[str, int]] = {
    ("/api/v1/cases", "limit"): {"minimum": 1, "maximum": MAX_LIMIT},
    ("/api/v1/referrals", "limit"): {"minimum": 1, "maximum": MAX_LIMIT},
    ("/api/v1/cases/{case_ref}/access-log", "limit"): {"minimum": 1, "maximum": MAX_LIMIT},
    ("/api/v1/audit/events", "limit"): {"minimum": 1, "maximum": MAX_EVENTS},
    ("/api/v1/audit/events", "after"): {"minimum": 0},
}

# What a response names, by its schema: path parameter -> the field naming it.
NAMES: dict[str, dict[str, str]] = {
    "CaseView": {"case_ref": "$response.body#/reference_code"},
    "CaseSummary": {"case_ref": "$response.body#/reference_code"},
    "ReferralView": {"referral_id": "$response.body#/id"},
    "ReferralSummary": {"referral_id": "$response.body#/id"},
    "ConsentView": {"consent_id": "$response.body#/id", "case_ref": "$request.path.case_ref"},
}


def _escaped(code_point: int) -> str:
    # \uXXXX and \UXXXXXXXX read the same in Python's and in Rust's regular expressions.
    return f"\\u{code_point:04x}" if code_point <= 0xFFFF else f"\\U{code_point:08x}"


@functools.cache
def visible_pattern() -> str:
    """A character class of every code point ``domain.text.is_visible`` accepts.

    Made when the document is first rendered, not on import: it looks at every
    code point (half a second), which every process that serves or runs a command
    would otherwise pay at start-up."""
    ranges: list[str] = []
    start: int | None = None
    for code_point in range(0x110001):
        visible = (
            code_point <= 0x10FFFF
            and not 0xD800 <= code_point <= 0xDFFF
            and is_visible(chr(code_point))
        )
        if visible and start is None:
            start = code_point
        elif not visible and start is not None:
            end = code_point - 1
            ranges.append(_escaped(start) + ("" if end == start else "-" + _escaped(end)))
            start = None
    return "[" + "".join(ranges) + "]"


def _bodies() -> Iterable[type[Body]]:
    todo = list(Body.__subclasses__())
    while todo:
        body = todo.pop()
        todo += body.__subclasses__()
        yield body


def _words_schema(schema: Schema, words: list[str]) -> None:
    """Put ``enum`` on a string schema, or on the items of an array schema, or on the
    string branch of a ``oneOf`` (an optional field)."""
    if "oneOf" in schema:
        for branch in schema["oneOf"]:
            if branch.get("type") in ("string", "array"):
                _words_schema(branch, words)
        return
    if schema.get("type") == "array":
        _words_schema(schema["items"], words)
        return
    schema["enum"] = sorted(words)


def _bodies_complete(
    schemas: dict[str, Schema], services: list[str], case_services: list[str]
) -> None:
    for body in _bodies():
        schema = schemas.get(body.__name__)
        if schema is not None:
            schema["additionalProperties"] = False
    for (name, field), words in VOCABULARY.items():
        _words_schema(schemas[name]["properties"][field], [w.value for w in words])
    _words_schema(schemas["ConsentBody"]["properties"]["recipient_services"], services)
    _words_schema(schemas["ReferralBody"]["properties"]["recipient_service"], case_services)
    for name, field in REQUIRED_TEXTS:
        schemas[name]["properties"][field]["pattern"] = visible_pattern()
    schemas["ReferralBody"]["properties"]["scope"]["minItems"] = 1
    # Litestar drops the items' bounds of an optional list (`list[Id] | None`).
    _optional_list_of_ids(schemas["ReplayBody"]["properties"]["announcement_ids"])
    _words_schema(schemas["RiskBody"]["properties"]["judgement"], [r.value for r in RiskLevel])


def _optional_list_of_ids(schema: Schema) -> None:
    """Put `Id`'s bounds (`api.schemas.Id`) on the items of the array branch, and the
    array's own bound in that branch, where a generator looks for it."""
    for branch in schema["oneOf"]:
        if branch.get("type") == "array":
            bounds = get_args(Id)[1]
            branch["items"] = {
                "type": "string",
                "minLength": bounds.min_length,
                "maxLength": bounds.max_length,
            }
            branch["maxItems"] = schema.pop("maxItems", branch.get("maxItems"))


def _risk_body(schemas: dict[str, Schema], instruments: dict[str, list[str]]) -> None:
    """One branch per instrument: its id, and an answer to each of its items. Each
    branch and its answers are components of their own (``RiskBodyReteScreeningV1``),
    so that a generator makes one model of each."""
    schema = schemas["RiskBody"]
    branches = []
    for instrument, items in sorted(instruments.items()):
        branch = copy.deepcopy({k: schema[k] for k in ("type", "properties", "required")})
        name = "RiskBody" + "".join(p.capitalize() for p in re.split(r"[^0-9A-Za-z]+", instrument))
        schemas[f"{name}Answers"] = {
            "title": f"{name}Answers",
            "type": "object",
            "properties": {item: {"type": "boolean"} for item in items},
            "required": sorted(items),
            "additionalProperties": False,
        }
        branch["title"] = name
        branch["properties"]["instrument_id"] = {"type": "string", "const": instrument}
        branch["properties"]["answers"] = {"$ref": f"{_SCHEMAS}{name}Answers"}
        branch["additionalProperties"] = False
        schemas[name] = branch
        branches.append({"$ref": _SCHEMAS + name})
    for key in ("properties", "required", "type", "additionalProperties"):
        schema.pop(key, None)
    schema["oneOf"] = branches


def _optional_bodies(paths: dict[str, Any]) -> None:
    """A body typed ``X | None`` may be left out: the route then works without one."""
    for operations in paths.values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            if {"type": "null"} in schema.get("oneOf", []):
                body["required"] = False


def _query_complete(paths: dict[str, Any], services: list[str]) -> None:
    for path, operations in paths.items():
        get = operations.get("get")
        if get is None:
            continue
        for parameter in get.get("parameters", []):
            words = QUERY_WORDS.get((path, parameter["name"]))
            if (path, parameter["name"]) in QUERY_SERVICES:
                words = services
            if words is not None:
                _words_schema(parameter["schema"], words)
            parameter["schema"].update(QUERY_BOUNDS.get((path, parameter["name"]), {}))


def _path_parameters(path: str) -> set[str]:
    return {part[1:-1] for part in path.split("/") if part.startswith("{")}


def _links(paths: dict[str, Any]) -> None:
    """Each answer naming a resource links to every operation whose path parameters
    it names (``$request.path`` keeps the case of a consent)."""
    targets = [
        (operation["operationId"], _path_parameters(path))
        for path, operations in paths.items()
        for operation in operations.values()
        if _path_parameters(path)
    ]
    for operations in paths.values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                ref = schema.get("$ref", "") if isinstance(schema, dict) else ""
                names = NAMES.get(ref.rsplit("/", 1)[-1])
                if names is None:
                    continue
                links = {
                    target: {
                        "operationId": target,
                        "parameters": {p: names[p] for p in sorted(parameters)},
                    }
                    for target, parameters in targets
                    if parameters <= names.keys()
                }
                if links:
                    response["links"] = links


PROBLEM = "application/problem+json"
# Problems only a write answers (``api.write_guard``): a read is never refused so.
WRITE_ONLY = frozenset(
    e.code for e in (IdempotencyKeyReused, IdempotencyInProgress, AlreadyApplied, OutcomeUnknown)
)


def problem_types() -> dict[str, tuple[set[int], str]]:
    """Every problem type the server answers: code -> (its statuses, its title)."""
    found: dict[str, tuple[set[int], str]] = {
        code: ({status}, title) for code, (status, title) in API_PROBLEM_TYPES.items()
    }
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        error = todo.pop()
        todo += error.__subclasses__()
        statuses, _ = found.setdefault(error.code, (set(), error.title))
        statuses.add(status_of(error.__new__(error)))
    return found


def problem_component(code: str) -> str:
    """``category-not-visible`` -> ``CategoryNotVisibleProblem``."""
    return "".join(part.capitalize() for part in code.split("-")) + "Problem"


def _problems(document: Document) -> None:
    """Typed problem components, their examples, and every problem answer made of them."""
    components = document["components"]
    schemas, examples = components["schemas"], components.setdefault("examples", {})
    generic = schemas["ProblemBody"]
    by_status: dict[int, list[str]] = {}
    for code, (statuses, title) in sorted(problem_types().items()):
        name = problem_component(code)
        status = min(statuses)
        example = {
            "type": TYPE_PREFIX + code,
            "title": title,
            "status": status,
            "detail": f"what was refused, and why ({title.lower()})",
            "code": code,
            "instance": "urn:uuid:8b7e1c52-3f4d-4f6a-9a41-0c5d2e7b9f10",
        }
        schema = copy.deepcopy(generic)
        schema["title"] = name
        schema["description"] = f"{title} (``{code}``)."
        schema["properties"]["code"] = {"type": "string", "const": code}
        schema["properties"]["type"] = {"type": "string", "const": TYPE_PREFIX + code}
        schema["examples"] = [example]
        schemas[name] = schema
        examples[code] = {"summary": title, "value": example}
        for s in statuses:
            by_status.setdefault(s, []).append(code)
    for operations in document["paths"].values():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            writes = method in ("post", "put", "patch", "delete")
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get(PROBLEM)
                codes = [
                    c
                    for c in (by_status.get(int(status), []) if status.isdigit() else [])
                    if writes or c not in WRITE_ONLY
                ]
                if media is None or not codes:
                    continue
                refs = [{"$ref": _SCHEMAS + problem_component(c)} for c in codes]
                media["schema"] = {"anyOf": [*refs, {"$ref": _SCHEMAS + "ProblemBody"}]}
                media["examples"] = {c: {"$ref": f"#/components/examples/{c}"} for c in codes}


def complete(
    document: Document,
    services: list[str],
    case_services: list[str],
    instruments: dict[str, list[str]],
) -> Document:
    """A copy of Litestar's ``document`` with the additions above, for the
    directory's ``services`` (those that work cases: ``case_services``) and the
    risk ``instruments`` (id -> item ids)."""
    document = copy.deepcopy(document)
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    _bodies_complete(schemas, services, case_services)
    _risk_body(schemas, instruments)
    _optional_bodies(paths)
    _query_complete(paths, services)
    _links(paths)
    _problems(document)
    return document


class CompletedJson(JsonRenderPlugin):
    """``/schema/openapi.json``: the completed document (made once, then kept)."""

    def __init__(
        self, services: list[str], case_services: list[str], instruments: dict[str, list[str]]
    ) -> None:
        super().__init__()
        self._services = services
        self._case_services = case_services
        self._instruments = instruments
        self._document: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._document is None:
            self._document = self.render_json(
                request,
                complete(openapi_schema, self._services, self._case_services, self._instruments),
            )
        return self._document
