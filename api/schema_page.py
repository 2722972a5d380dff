"""``/schema``: the API's interactive documentation, served from the package.

A network's machines may have no way out to the internet, so the page loads
nothing from another host: Swagger UI's files come from the ``swagger-ui-py``
package (Swagger UI 5, which reads OpenAPI 3.1) and are served under
``/schema/static/``; the favicon is left out rather than fetched from a CDN.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

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


def offline_assets() -> Router:
    """Swagger UI's own files, under ``/schema/static/`` (public, like the page)."""
    return create_static_files_router(
        path=STATIC, directories=[_FILES], include_in_schema=False, name="schema-assets"
    )
