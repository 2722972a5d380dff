"""A client generated from the served document runs the README's walkthrough
(issue 12, done-when 3), on SQLite and on PostgreSQL.

``openapi-python-client`` (a dev dependency, pinned) generates a package from
``GET /schema/openapi.json`` of a running ``rete serve``; the test imports it and
does what the README's five-minute walkthrough does, through its functions and
models only: open a case, write a note, record her consent, refer the case to
the police, who acknowledge, accept and read it. Each refusal on the way decodes
into its own problem model (``InvalidTransitionProblem``...), not a bag of fields:
what an integrator's code branches on.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from support.people import PEOPLE
from support.served import Served, served

from api.auth import mint_token
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.settings import load_settings

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


def generate(document: Path, into: Path, package: str) -> ModuleType:
    """The client package ``openapi-python-client`` makes of ``document``, imported."""
    config = into / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: only the code matters here
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(into / package),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A schema the generator could not make a model of is left out with a warning.
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(into))


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", operation_id).lower()


@dataclass
class Generated:
    """The generated package, and clients for the people of the network."""

    package: ModuleType
    server: Served
    token_of: Any

    @property
    def models(self) -> Any:
        return importlib.import_module(f"{self.package.__name__}.models")

    def operation(self, tag: str, operation_id: str) -> Any:
        """The module of one operation (its ``sync_detailed``, ``sync``...)."""
        return importlib.import_module(f"{self.package.__name__}.api.{tag}.{_snake(operation_id)}")

    def client(self, who: str) -> Any:
        return self.package.AuthenticatedClient(
            base_url=self.server.base, token=self.token_of(who), raise_on_unexpected_status=True
        )


@pytest.fixture(scope="session")
def client_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes], ModuleType]:
    """The client generated from a document, generated once per distinct document in
    a session (generating takes 5 to 30 s: both backends serve the same document)."""
    made: dict[str, ModuleType] = {}

    def client(document: bytes) -> ModuleType:
        digest = hashlib.sha256(document).hexdigest()[:12]
        if digest not in made:
            into = tmp_path_factory.mktemp("generated")
            (into / "openapi.json").write_bytes(document)
            made[digest] = generate(into / "openapi.json", into, f"rete_client_{digest}")
        return made[digest]

    return client


@pytest.fixture
def generated(
    rete_env: dict[str, str], tmp_path: Path, client_of: Callable[[bytes], ModuleType]
) -> Iterator[Generated]:
    with served(rete_env, tmp_path / "serve.log") as server:
        package = client_of(httpx.get(f"{server.base}/schema/openapi.json").content)
        settings = load_settings(rete_env)
        secret = load_or_create_dev_secret(settings.jwt_secret_file).key

        def token_of(who: str) -> str:
            service, roles = PEOPLE[who]
            return mint_token(
                secret,
                settings.jwt_issuer,
                settings.jwt_audience,
                who,
                service,
                roles,
                timedelta(hours=1),
            )

        yield Generated(package, server, token_of)


def refused(response: Any, status: int, model: Any, code: str) -> Any:
    """A refusal decoded into its own problem model."""
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, model), type(response.parsed)
    assert response.parsed.code == code
    assert response.parsed.type_ == f"urn:rete:problem:{code}"
    return response.parsed


@pytest.mark.slow  # about a minute on a loaded machine; the document's shape is checked fast
def test_the_generated_client_runs_the_walkthrough(generated: Generated) -> None:
    g, m = generated, generated.models
    anna, paolo, bea = g.client("anna"), g.client("paolo"), g.client("bea")

    # Anna opens a case: it gets a reference code that says nothing about her.
    # (The body may be left out on the wire; the generated function, given none,
    # would send its "unset" marker, so the client sends the empty body.)
    open_case = g.operation("cases", "ApiV1CasesOpenCase")
    opened = open_case.sync_detailed(client=anna, body=m.OpenCaseBody())
    assert opened.status_code == 201
    case = opened.parsed
    assert isinstance(case, m.CaseView) and case.owner_service == "cav-scirocco"
    ref = case.reference_code

    # She writes what happened and records the woman's consent to tell the police.
    note = g.operation("cases", "ApiV1CasesCaseRefNotesAddNote").sync(
        ref,
        client=anna,
        body=m.NoteBody(category=m.NoteBodyCategory("violence"), text="Threats by her ex"),
    )
    assert isinstance(note, m.EntryView) and note.category == "violence"
    g.operation("cases", "ApiV1CasesCaseRefNotesAddNote").sync(
        ref,
        client=anna,
        body=m.NoteBody(category=m.NoteBodyCategory("health"), text="Bruises on her arms"),
    )
    consent = g.operation("cases", "ApiV1CasesCaseRefConsentsRecordConsent").sync(
        ref,
        client=anna,
        body=m.ConsentBody(
            recipient_kinds=[m.ConsentBodyRecipientKindsItem("police")],
            purposes=[m.ConsentBodyPurposesItem("protection_measures")],
            categories=[m.ConsentBodyCategoriesItem(c) for c in ("identity", "violence")],
        ),
    )
    assert isinstance(consent, m.ConsentView) and consent.active

    def referral(*scope: str) -> Any:
        return m.ReferralBody(
            recipient_service=m.ReferralBodyRecipientService("pl-cesano"),
            kind=m.ReferralBodyKind("protection_measures"),
            urgency=m.ReferralBodyUrgency("urgent"),
            reason="He threatened her again",
            scope=[m.ReferralBodyScopeItem(c) for c in scope],
            legal_basis=m.ReferralBodyLegalBasis("consent"),
        )

    refer = g.operation("cases", "ApiV1CasesCaseRefReferralsRefer")
    # Her health notes are not for the police: refused by the rule, typed.
    refused(
        refer.sync_detailed(ref, client=anna, body=referral("health")),
        422,
        m.ScopeNotVisibleToRecipientProblem,
        "scope-not-visible-to-recipient",
    )
    sent = refer.sync_detailed(ref, client=anna, body=referral("violence"))
    assert sent.status_code == 201 and isinstance(sent.parsed, m.ReferralView)
    rid = sent.parsed.id

    # Paolo sees it in his inbox, filtered to what is still to answer.
    inbox = g.operation("referrals", "ApiV1ReferralsListReferrals").sync(
        client=paolo,
        box=m.ApiV1ReferralsListReferralsBox("inbox"),
        status=[m.ApiV1ReferralsListReferralsStatusType0Item("sent")],
    )
    assert isinstance(inbox, m.ReferralPage)
    assert [r.id for r in inbox.items] == [rid] and inbox.next_cursor is None

    # He acknowledges it; a move made on the version before is refused as stale.
    acknowledge = g.operation("referrals", "ApiV1ReferralsReferralIdAcknowledgeAcknowledge")
    acknowledged = acknowledge.sync_detailed(rid, client=paolo, if_match=sent.headers["etag"])
    assert acknowledged.status_code == 200 and acknowledged.parsed.status == "acknowledged"
    accept = g.operation("referrals", "ApiV1ReferralsReferralIdAcceptAccept")
    refused(
        accept.sync_detailed(rid, client=paolo, if_match=sent.headers["etag"]),
        412,
        m.PreconditionFailedProblem,
        "precondition-failed",
    )
    accepted = accept.sync_detailed(rid, client=paolo, if_match=acknowledged.headers["etag"])
    assert accepted.status_code == 200 and accepted.parsed.status == "accepted"
    # Accepting twice does not fit the referral's state.
    refused(
        accept.sync_detailed(rid, client=paolo),
        409,
        m.InvalidTransitionProblem,
        "invalid-transition",
    )

    # The police read the case as the police may: the violence note, not her health.
    get_case = g.operation("cases", "ApiV1CasesCaseRefGetCase")
    seen = get_case.sync(ref, client=paolo)
    assert isinstance(seen, m.CaseView)
    assert [e.category for e in seen.entries] == ["violence"]
    assert "health" not in seen.visible_categories
    # Who read her data is the owner's to see: to the police, there is no such log.
    refused(
        g.operation("cases", "ApiV1CasesCaseRefAccessLogAccessLog").sync_detailed(
            ref, client=paolo
        ),
        404,
        m.NotFoundProblem,
        "not-found",
    )
    # Her consent is the owner's to record, not the police's.
    refused(
        g.operation("cases", "ApiV1CasesCaseRefConsentsRecordConsent").sync_detailed(
            ref,
            client=paolo,
            body=m.ConsentBody(
                purposes=[m.ConsentBodyPurposesItem("protection_measures")],
                categories=[m.ConsentBodyCategoriesItem("violence")],
            ),
        ),
        403,
        m.NotOwnerServiceProblem,
        "not-owner-service",
    )
    # A service the case was never referred to does not learn that it exists.
    refused(get_case.sync_detailed(ref, client=bea), 404, m.NotFoundProblem, "not-found")
    # Nor does anyone without a token.
    nobody = g.package.Client(base_url=g.server.base)
    refused(get_case.sync_detailed(ref, client=nobody), 401, m.MissingTokenProblem, "missing-token")

    # The case list, filtered; a cursor the server did not give out is refused.
    list_cases = g.operation("cases", "ApiV1CasesListCases")
    mine = list_cases.sync(
        client=paolo,
        counterpart=[m.ApiV1CasesListCasesCounterpartType0Item("cav-scirocco")],
        overdue=False,
    )
    assert isinstance(mine, m.CasePage) and [c.reference_code for c in mine.items] == [ref]
    refused(
        list_cases.sync_detailed(client=paolo, cursor="bm90IGEgY3Vyc29y"),
        400,
        m.InvalidCursorProblem,
        "invalid-cursor",
    )


def test_every_problem_answer_names_its_types_with_an_example(api) -> None:
    """What lets a generator type refusals (fast; the generated client is the slow test):
    each problem answer of every route is any of the problem types of its status,
    each a component with its ``code`` and ``type`` constant and an example, and the
    generic problem last."""
    document = api.ok(api.get(None, "/schema/openapi.json"))
    schemas, examples = document["components"]["schemas"], document["components"]["examples"]
    answers = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                media = response["content"]["application/problem+json"]
                *typed, generic = media["schema"]["anyOf"]
                assert generic == {"$ref": "#/components/schemas/ProblemBody"}
                assert typed, (method, path, status)
                for ref in typed:
                    schema = schemas[ref["$ref"].rsplit("/", 1)[-1]]
                    code = schema["properties"]["code"]["const"]
                    assert schema["properties"]["type"]["const"] == f"urn:rete:problem:{code}"
                    assert schema["examples"][0]["code"] == code
                    assert media["examples"][code] == {"$ref": f"#/components/examples/{code}"}
                    assert examples[code]["value"]["code"] == code
                answers += 1
    assert answers > 100
    for name in (
        "InvalidTransitionProblem",
        "ScopeNotVisibleToRecipientProblem",
        "PreconditionFailedProblem",
        "NotOwnerServiceProblem",
        "UnknownParameterProblem",
        "InvalidCursorProblem",
        "MissingTokenProblem",
    ):
        assert name in schemas
