"""Every error the service can produce comes back as one problem+json shape."""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.errors import AppError, PermissionDenied
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import Account, http_client
from tests.problem_assertions import assert_problem

URL = "/api/v1/items"


@pytest.fixture
async def failing_client(fresh_app: FastAPI, clients: AsyncExitStack, user: Account) -> AsyncClient:
    """A client of an application of its own, with routes that fail as real handlers might."""

    async def crash() -> None:
        raise RuntimeError("secret internal detail")

    async def forbid() -> None:
        raise PermissionDenied("Only the owner may do that.", extensions={"hint": "ask"})

    async def duplicate_at_commit(session: SessionDep) -> None:
        # Added without a flush, so the unique violation surfaces at commit time.
        session.add(Item(name="dup", price_cents=1, quantity=0, owner_id=user.id))

    fresh_app.add_api_route("/boom", crash)
    fresh_app.add_api_route("/forbidden", forbid)
    fresh_app.add_api_route("/dup", duplicate_at_commit, methods=["POST"])
    return await clients.enter_async_context(http_client(fresh_app))


async def test_malformed_json_is_400(client: AsyncClient) -> None:
    response = await client.post(
        URL, content=b'{"name": ', headers={"content-type": "application/json"}
    )

    assert_problem(response, 400, "malformed_json")


async def test_non_json_body_is_415(client: AsyncClient) -> None:
    response = await client.post(URL, content=b"name=x", headers={"content-type": "text/plain"})

    assert_problem(response, 415, "unsupported_media_type")


async def test_declared_body_over_the_limit_is_413(client: AsyncClient, settings: Settings) -> None:
    oversized = b'{"name": "' + b"x" * settings.max_body_size + b'"}'

    response = await client.post(
        URL, content=oversized, headers={"content-type": "application/json"}
    )

    assert_problem(response, 413, "payload_too_large")


async def test_streamed_body_over_the_limit_is_413(client: AsyncClient, settings: Settings) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        yield b"x" * settings.max_body_size
        yield b'"}'

    response = await client.post(
        URL, content=chunks(), headers={"content-type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


async def test_unknown_route_is_404(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_405_with_allow(client: AsyncClient) -> None:
    response = await client.put(URL, json={})

    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


async def test_405_allow_lists_every_method_of_the_path(client: AsyncClient) -> None:
    response = await client.put(f"{URL}/6f1c2a7e-0b9d-4c3f-8a5e-2d1b0c9f8e7d", json={})

    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, PATCH, DELETE"


async def test_domain_error_keeps_its_code_and_extensions(failing_client: AsyncClient) -> None:
    body = assert_problem(await failing_client.get("/forbidden"), 403, "permission_denied")

    assert body["detail"] == "Only the owner may do that."
    assert body["hint"] == "ask"


async def test_integrity_error_at_commit_is_409(
    failing_client: AsyncClient, session: AsyncSession, user: Account
) -> None:
    session.add(Item(name="dup", price_cents=1, quantity=0, owner_id=user.id))
    await session.commit()

    assert_problem(await failing_client.post("/dup"), 409, "conflict")


async def test_unhandled_exception_is_a_generic_500_with_the_trace_in_the_log(
    failing_client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await failing_client.get("/boom")

    body = assert_problem(response, 500, "internal_error")
    assert "secret internal detail" not in response.text
    assert "Traceback" not in response.text
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "secret internal detail"
    assert isinstance(record.msg, dict)
    assert record.msg["request_id"] == body["request_id"]


def test_app_error_defaults_detail_to_title() -> None:
    error = AppError()

    assert (error.status, error.code, error.detail) == (500, "internal_error", error.title)
