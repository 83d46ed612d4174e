"""Security headers on every response, and only allowed hosts served."""

import json

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from starlette.types import Message

from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import http_client, own_app
from tests.problem_assertions import assert_problem

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health/live", 200),
        ("GET", "/nope", 404),
        ("GET", "/api/v1/users", 403),
        ("POST", "/api/v1/auth/register", 422),
        ("DELETE", "/health/live", 405),
    ],
)
async def test_every_response_carries_the_security_headers(
    client: AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, json={})

    assert response.status_code == status
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    assert "strict-transport-security" not in response.headers


async def test_a_crash_answered_with_500_carries_them_too(fresh_app: FastAPI) -> None:
    @fresh_app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with http_client(fresh_app) as client:
        response = await client.get("/boom")

    assert_problem(response, 500, "internal_error")
    assert response.headers["x-frame-options"] == "DENY"


async def test_behind_https_responses_carry_strict_transport_security(settings: Settings) -> None:
    behind_https = settings.model_copy(update={"https_only": True})

    async with own_app(behind_https) as app, http_client(app) as client:
        response = await client.get("/health/live")

    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_a_page_may_set_its_own_content_security_policy(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert (
        response.headers["content-security-policy"] != SECURITY_HEADERS["content-security-policy"]
    )


async def test_another_host_is_refused_with_a_problem(client: AsyncClient) -> None:
    response = await client.get("/api/v1/items/", headers={"Host": "evil.example"})

    assert_problem(response, 400, "invalid_host")
    assert "location" not in response.headers


async def test_redirects_are_built_from_the_checked_host(client: AsyncClient) -> None:
    response = await client.get("/api/v1/items/")

    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/api/v1/items"


@pytest.mark.parametrize("host", ["testserver:8000", "TESTSERVER"])
async def test_a_port_or_case_does_not_matter(client: AsyncClient, host: str) -> None:
    response = await client.get("/openapi.json", headers={"Host": host})

    assert response.status_code == 200


async def test_probes_answer_whatever_host_they_name(client: AsyncClient) -> None:
    response = await client.get("/health/live", headers={"Host": "10.1.2.3:8000"})

    assert response.status_code == 200


async def test_subdomain_patterns_and_the_wildcard(settings: Settings) -> None:
    patterns = settings.model_copy(update={"allowed_hosts": ["*.example.com"]})
    async with own_app(patterns) as app, http_client(app) as client:
        sub = await client.get("/openapi.json", headers={"Host": "api.example.com"})
        bare = await client.get("/openapi.json", headers={"Host": "example.com"})
    anything = settings.model_copy(update={"allowed_hosts": ["*"]})
    async with own_app(anything) as app, http_client(app) as client:
        other = await client.get("/openapi.json", headers={"Host": "evil.example"})

    assert (sub.status_code, bare.status_code, other.status_code) == (200, 400, 200)


async def _raw_get(app: FastAPI, path: str, http_version: str) -> tuple[int, dict[str, object]]:
    """GET `path` with no Host header at all, which HTTP clients never send."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 40_000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], json.loads(body)


async def test_http_1_1_without_a_host_is_refused(app: FastAPI) -> None:
    status, body = await _raw_get(app, "/openapi.json", "1.1")

    assert (status, body["code"]) == (400, "invalid_host")


async def test_http_1_0_without_a_host_is_served(app: FastAPI) -> None:
    status, body = await _raw_get(app, "/openapi.json", "1.0")

    assert status == 200
    assert "paths" in body
