"""Liveness and readiness."""

import asyncio
import threading
from pathlib import Path

from httpx import AsyncClient

from {{ cookiecutter.package_name }}.application import create_app
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import http_client, own_app
from tests.problem_assertions import assert_problem


async def test_live_is_200(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_is_200_when_the_database_answers(client: AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_is_503_when_the_database_is_unreachable(
    settings: Settings, tmp_path: Path
) -> None:
    unreachable = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"}
    )
    threads_before = set(threading.enumerate())
    async with own_app(unreachable) as app, http_client(app) as client:
        response = await client.get("/health/ready")
    # After a failed connect aiosqlite stops its worker thread without waiting for it; let it
    # finish now, or it may report to this test's event loop after the loop has closed
    # (omnilib/aiosqlite#241; #387 asks for a public join). Matched by its thread's name.
    for thread in set(threading.enumerate()) - threads_before:
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, timeout=5)

    assert_problem(response, 503, "database_unavailable")


async def test_shutdown_closes_the_pool(settings: Settings) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.database.ping()

    assert app.state.database.engine.pool.checkedout() == 0
