"""Liveness and readiness."""

import pytest
from httpx import AsyncClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.application import create_app
from {{ cookiecutter.package_name }}.core.db import SCHEMA_REVISION
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import http_client, missing_database, own_app
from tests.problem_assertions import assert_problem


async def test_live_is_200(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


async def test_ready_is_200_when_the_database_answers(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.usefixtures("failed_connections_settled")
async def test_ready_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"database_url": missing_database(settings)})
    async with own_app(unreachable) as app, http_client(app) as client:
        response = await client.get("/health/ready")

    assert_problem(response, 503, "database_unavailable")
    assert response.headers["retry-after"]


async def test_ready_is_503_when_the_schema_has_no_alembic_revision(
    client: AsyncClient, session: AsyncSession
) -> None:
    await session.execute(text("DELETE FROM alembic_version"))  # as `downgrade base` leaves it
    await session.commit()

    response = await client.get("/health/ready")

    assert_problem(response, 503, "database_unavailable")


async def test_shutdown_closes_the_pools(settings: Settings) -> None:
    app = create_app(settings)
    database = app.state.database
    opened: list[object] = []
    closed: list[object] = []
    for pool in {database.engine.pool, database.reader.pool}:  # one pool on a server
        event.listen(pool, "connect", lambda connection, _: opened.append(connection))
        event.listen(pool, "close", lambda connection, _: closed.append(connection))
    async with app.router.lifespan_context(app):
        await database.ping()
        await database.read(SCHEMA_REVISION, {})

    assert opened
    assert sorted(map(id, closed)) == sorted(map(id, opened))
