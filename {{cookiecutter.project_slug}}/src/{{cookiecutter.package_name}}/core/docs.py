"""Swagger UI and ReDoc served from files installed with the service, so the docs work offline.

FastAPI's own pages load their JavaScript, CSS and favicon from public CDNs; behind a firewall
or on a laptop without network they stay blank. The `fastapi-offline` package ships the same
files, and this module serves them from the application itself.
"""

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs-assets"
# The pages may load and call nothing but the service. Besides keeping them offline, this stops
# ReDoc asking cdn.redoc.ly for Redocly's logo, which no ReDoc option turns off. Swagger UI is
# started by an inline script, both set inline styles, and ReDoc searches in a worker it makes
# from a blob: URL.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)


def _root_path(request: Request) -> str:
    """Where a proxy mounted the service (`--root-path`), so page links survive the prefix."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    """`page` with the docs pages' Content-Security-Policy."""
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs and ReDoc at /redoc, with their assets under /docs-assets."""
    openapi_url = app.openapi_url
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url
    if openapi_url is None or oauth2_redirect_url is None:
        raise ValueError("the docs pages need the OpenAPI document and the OAuth2 redirect URL")
    assets = StaticFiles(directory=str(files("fastapi_offline") / "static"))

    async def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI: browse the API and call it, after logging in with Authorize."""
        root = _root_path(request)
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=root + oauth2_redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        return _with_policy(page)

    async def swagger_ui_oauth2_redirect(request: Request) -> HTMLResponse:
        """The page an OAuth2 provider returns to; it hands the result back to Swagger UI."""
        return _with_policy(get_swagger_ui_oauth2_redirect_html())

    async def redoc(request: Request) -> HTMLResponse:
        """ReDoc: the API reference as one readable page."""
        root = _root_path(request)
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _with_policy(page)

    async def asset(request: Request) -> Response:
        """One of the pages' files: JavaScript, CSS or the favicon; anything else is a 404."""
        response = await assets.get_response(request.path_params["path"], request.scope)
        # Browsers keep the files and check them by ETag: a 304 until the package is upgraded.
        response.headers["Cache-Control"] = "no-cache"
        return response

    # A route rather than a mount: the router then answers other methods with a 405 whose
    # Allow header the problem handler can compute; behind a mount that header comes out empty.
    app.add_route(ASSETS_URL + "/{path:path}", asset, include_in_schema=False)
    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_route(oauth2_redirect_url, swagger_ui_oauth2_redirect, include_in_schema=False)
    app.add_route(REDOC_URL, redoc, include_in_schema=False)
