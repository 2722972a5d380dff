"""``/schema``: the API's interactive documentation, served from the package.

A network's machines may have no way out to the internet, so the page loads
nothing from another host: Swagger UI's files come from the ``swagger-ui-py``
package (Swagger UI 5, which reads OpenAPI 3.1) and are served under
``/schema/static/``; the favicon is left out rather than fetched from a CDN.
Only the three files the page names are served, by name from a fixed list: a
request never chooses a path on the disk.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.router import Router

STATIC = "/static"


def _static_files() -> Path:
    """The package's ``static`` folder, found without importing the package (its
    ``__init__`` pulls in its own server adapters, which Rete does not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (see requirements.lock)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


_FILES = _static_files()
_BASE = "/schema" + STATIC


def offline_swagger_ui(path: str) -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path=path,
        js_url=f"{_BASE}/swagger-ui-bundle.js",
        css_url=f"{_BASE}/swagger-ui.css",
        standalone_preset_js_url=f"{_BASE}/swagger-ui-standalone-preset.js",
        favicon="",
    )


_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
}


@cache
def _asset(name: str) -> bytes:
    return (_FILES / name).read_bytes()


@get("/{name:str}", include_in_schema=False, sync_to_thread=False, cache=3600)
def _schema_asset(name: FromPath[str]) -> Response[bytes]:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NotFoundException()
    return Response(_asset(name), media_type=media_type)


def offline_assets() -> Router:
    """Swagger UI's own files, under ``/schema/static/`` (public, like the page)."""
    return Router(STATIC, route_handlers=[_schema_asset], include_in_schema=False)
