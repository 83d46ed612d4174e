"""Swagger UI and ReDoc work without network: every file the pages load comes from the service."""

import re
from contextlib import AsyncExitStack
from pathlib import PurePosixPath

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.package_name }}.core.docs import install_docs
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import http_client, own_app
from tests.problem_assertions import assert_problem

# The files each page links to, as the page names them (without a proxy's prefix).
PAGE_ASSETS = {
    "/docs": {
        "/docs-assets/swagger-ui-bundle.js",
        "/docs-assets/swagger-ui.css",
        "/docs-assets/favicon.png",
    },
    "/redoc": {"/docs-assets/redoc.standalone.js", "/docs-assets/favicon.png"},
}
MEDIA_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".png": {"image/png"},
}
# Where the page tells the browser to fetch the OpenAPI document: Swagger UI's `url`, ReDoc's
# `spec-url`.
OPENAPI_REFERENCE = re.compile(r"""(?:url: '|spec-url=")([^'"]*)""")
LINKED = re.compile(r'(?:href|src)="([^"]*)"')
# A prefix a reverse proxy strips before the request reaches the service (`--root-path`).
PROXY_PREFIX = "/behind-proxy"


@pytest.fixture
async def anonymous(app: FastAPI, clients: AsyncExitStack) -> AsyncClient:
    """A client without a token: the docs are for whoever can reach the service."""
    return await clients.enter_async_context(http_client(app))


def media_type(content_type: str) -> str:
    """`text/css` of `text/css; charset=utf-8`."""
    return content_type.partition(";")[0].strip()


@pytest.mark.parametrize("page", PAGE_ASSETS)
@pytest.mark.parametrize("prefix", ["", PROXY_PREFIX], ids=["direct", "behind-proxy"])
async def test_page_loads_only_files_the_service_serves(
    app: FastAPI, clients: AsyncExitStack, page: str, prefix: str
) -> None:
    transport = ASGITransport(app=app, root_path=prefix)
    client = AsyncClient(transport=transport, base_url="http://testserver")
    await clients.enter_async_context(client)

    response = await client.get(prefix + page)

    assert response.status_code == 200
    assert media_type(response.headers["content-type"]) == "text/html"
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assert set(LINKED.findall(html)) == {prefix + asset for asset in PAGE_ASSETS[page]}
    for asset in LINKED.findall(html):
        served = await client.get(asset)
        assert served.status_code == 200, asset
        expected = MEDIA_TYPES[PurePosixPath(asset).suffix]
        assert media_type(served.headers["content-type"]) in expected, asset
        assert served.content, asset
    assert OPENAPI_REFERENCE.findall(html) == [f"{prefix}/openapi.json"]
    assert (await client.get(f"{prefix}/openapi.json")).status_code == 200


@pytest.mark.parametrize("page", ["/docs", "/docs/oauth2-redirect", "/redoc"])
async def test_pages_may_reach_nothing_but_the_service(anonymous: AsyncClient, page: str) -> None:
    response = await anonymous.get(page)

    directives = response.headers["content-security-policy"].split(";")
    policy = dict(directive.strip().split(" ", 1) for directive in directives)
    assert policy["default-src"] == "'self'"
    sources = {source for allowed in policy.values() for source in allowed.split()}
    assert sources <= {"'self'", "'none'", "'unsafe-inline'", "data:", "blob:"}


async def test_browsers_check_a_kept_asset_instead_of_downloading_it_again(
    anonymous: AsyncClient,
) -> None:
    first = await anonymous.get("/docs-assets/redoc.standalone.js")
    again = await anonymous.get(
        "/docs-assets/redoc.standalone.js", headers={"If-None-Match": first.headers["etag"]}
    )

    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304
    assert not again.content


async def test_swagger_ui_returns_from_oauth2_to_a_page_of_the_service(
    anonymous: AsyncClient,
) -> None:
    page = (await anonymous.get("/docs")).text
    [redirect] = re.findall(r"oauth2RedirectUrl: window\.location\.origin \+ '([^']*)'", page)

    response = await anonymous.get(redirect)

    assert redirect == "/docs/oauth2-redirect"
    assert response.status_code == 200
    assert "oauth2" in response.text


async def test_unknown_asset_is_a_404_problem(anonymous: AsyncClient) -> None:
    response = await anonymous.get("/docs-assets/swagger-ui-bundle.min.js")

    assert_problem(response, 404, "not_found")


async def test_files_beside_the_assets_are_not_served(anonymous: AsyncClient) -> None:
    # `fastapi_offline/__init__.py` sits one folder above the assets.
    response = await anonymous.get("/docs-assets/%2e%2e/__init__.py")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_assets_are_read_only(anonymous: AsyncClient) -> None:
    response = await anonymous.post("/docs-assets/swagger-ui.css")

    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD"


async def test_docs_turned_off_serve_no_page_and_no_asset(settings: Settings) -> None:
    hidden = settings.model_copy(update={"docs_enabled": False})
    urls = ["/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"]
    urls += sorted(set.union(*PAGE_ASSETS.values()))

    async with own_app(hidden) as app, http_client(app) as client:
        responses = [await client.get(url) for url in urls]

    for response in responses:
        assert_problem(response, 404, "not_found")


def test_docs_need_the_openapi_document() -> None:
    with pytest.raises(ValueError, match="need the OpenAPI document"):
        install_docs(FastAPI(openapi_url=None))
