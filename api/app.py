"""The HTTP API over one ``Rete``: ``create_app`` puts routes, authentication and
the background work around the application the composition root built
(``infrastructure.bootstrap.build_rete``).

``rete serve`` gives uvicorn the import string ``api.app:create_app`` with
``factory=True``, so every worker process builds its own app from the same
settings (and the same JWT secret file).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from litestar import Litestar, Response, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.status_codes import HTTP_404_NOT_FOUND

from api.auth import BearerAuthentication, TokenVerifier, current_actor
from api.background import BackgroundPlugin
from api.oidc import provider_verifier
from api.openapi_document import CompletedJson
from api.problems import problem_details_plugin
from api.request_body import JsonRequest
from api.request_log import ReteApp
from api.routes._common import allow_every_method
from api.routes.announcement_stream import AnnouncementsController, stream_state
from api.routes.audit import AuditController
from api.routes.cases import CasesController
from api.routes.health import health, live, ready
from api.routes.ledger import LedgerController
from api.routes.notifications import NotificationsController
from api.routes.observatory import ObservatoryController
from api.routes.referrals import ReferralsController, moves
from api.routes.worklist import WorklistController
from api.schema_page import offline_assets, offline_swagger_ui
from api.serving import Network, Serving, network_of
from application.rete import Rete
from infrastructure.bootstrap import build_rete
from infrastructure.dev_secret import load_or_create_dev_secret
from infrastructure.logging import configure_logging, get_logger
from infrastructure.settings import Settings, SettingsError, load_settings

MAX_BODY_BYTES = 1024 * 1024
# Where the app keeps what it serves, and the network its document describes.
_SERVING = "rete.serving"
_NETWORK = "rete.network"

log = get_logger(__name__)


@cache
def package_version() -> str:
    try:
        return version("rete")
    except PackageNotFoundError:
        return "0.0.0"


def load_verifier(settings: Settings) -> TokenVerifier:
    """Production verifies the identity provider's tokens (``RETE_OIDC_ISSUER``) or
    with a configured public key; development with a local secret."""
    if settings.oidc is not None:
        return provider_verifier(settings.oidc, settings.jwt_audience, settings.max_token_lifetime)
    if settings.jwt_public_key_file is not None:
        try:
            pem = settings.jwt_public_key_file.read_bytes()
        except OSError as e:
            raise SettingsError(f"RETE_JWT_PUBLIC_KEY_FILE: cannot read it: {e.strerror}") from None
        return TokenVerifier.for_public_key(
            pem, settings.jwt_issuer, settings.jwt_audience, settings.max_token_lifetime
        )
    secret = load_or_create_dev_secret(settings.jwt_secret_file)
    return TokenVerifier.for_secret(
        secret.key, settings.jwt_issuer, settings.jwt_audience, settings.max_token_lifetime
    )


def _problem_not_html(response: Response[Any]) -> Response[Any]:
    """Litestar answers an unknown ``/schema/...`` path with an HTML 404 page of
    its own; raised instead, it becomes the ``not-found`` problem every other
    route answers."""
    if response.status_code == HTTP_404_NOT_FOUND:
        raise NotFoundException()
    return response


def _openapi(network: Network) -> OpenAPIConfig:
    """The document Litestar generates, served completed (``api.openapi_document``)
    with the directory's services and the risk instruments."""
    instruments = {instrument: list(items) for instrument, items in network.instruments}
    return OpenAPIConfig(
        title="Rete",
        version=package_version(),
        description="Referrals between the services of a local network against gender-based violence.",
        path="/schema",
        openapi_router=Router(
            "/schema",
            route_handlers=[offline_assets()],
            include_in_schema=False,
            after_request=_problem_not_html,
        ),
        render_plugins=[
            offline_swagger_ui(path="/"),
            CompletedJson(list(network.services), list(network.case_services), instruments),
        ],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
            }
        ),
    )


def create_app(
    settings: Settings | None = None,
    rete: Rete | None = None,
    verifier: TokenVerifier | None = None,
) -> Litestar:
    """Build the API. Tests pass their own ``rete`` (their clock, a fresh database);
    a ``rete`` passed in stays theirs to close, one built here is closed on shutdown."""
    settings = settings or load_settings()
    configure_logging(settings.log_format)
    verifier = verifier or load_verifier(settings)
    owned: Rete | None = None
    if rete is None:
        rete = owned = build_rete(settings)
    serving, network = Serving(rete, verifier, owned), network_of(rete)
    app = ReteApp(
        route_handlers=[
            health,
            live,
            ready,
            CasesController,
            ReferralsController,
            moves,
            AuditController,
            ObservatoryController,
            LedgerController,
            WorklistController,
            NotificationsController,
            AnnouncementsController,
        ],
        dependencies={
            "rete": Provide(serving.current_rete, sync_to_thread=False),
            "actor": Provide(current_actor, sync_to_thread=False),
        },
        middleware=[DefineMiddleware(BearerAuthentication, serving=serving)],
        # The ledger's signer and the escalation, while the app runs.
        plugins=[problem_details_plugin(), BackgroundPlugin(serving)],
        openapi_config=_openapi(network),
        on_shutdown=[serving.close_owned],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=JsonRequest,
        logging_config=None,
        # The announcements' streams share one watch of the outbox per app.
        state=State({_SERVING: serving, _NETWORK: network}),
    )
    _serve_streams(app, settings, rete)
    allow_every_method(app)
    return app


def serve(
    app: Litestar, settings: Settings, rete: Rete, verifier: TokenVerifier | None = None
) -> None:
    """Point ``app`` (built by ``create_app``, not running) at another application of
    the same network, with ``settings``' token check and streams: as ``create_app``
    would build it, without parsing every route again (``api.serving``)."""
    if app.state[_NETWORK] != network_of(rete):
        raise ValueError("the app's document describes another network")
    configure_logging(settings.log_format)
    serving: Serving = app.state[_SERVING]
    serving.point_at(rete, verifier or load_verifier(settings))
    _serve_streams(app, settings, rete)


def _serve_streams(app: Litestar, settings: Settings, rete: Rete) -> None:
    state = stream_state(rete, settings.stream_poll_seconds, settings.stream_heartbeat_seconds)
    for key, value in state.items():
        app.state[key] = value
