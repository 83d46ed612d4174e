"""A database that cannot serve now answers 503 with `Retry-After`; a bug still answers 500."""

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError, InterfaceError, ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.core.db import Database, SessionDep
from {{ cookiecutter.package_name }}.core.unavailable import is_unavailable
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import (
    ME_URL,
    DatabaseForTest,
    database_server,
    http_client,
    own_app,
    settings_for,
)
from tests.problem_assertions import assert_problem, assert_unavailable

ITEMS_URL = "/api/v1/items"
ITEM = {"name": "lamp", "price_cents": 1999, "quantity": 1}


@pytest.fixture
def settings(test_database: DatabaseForTest) -> Settings:
    """One pooled connection, and waits short enough to run out quickly."""
    return settings_for(test_database).model_copy(
        update={
            "database_pool_size": 1,
            "database_max_overflow": 0,
            "database_pool_timeout": 0.1,
            "database_busy_timeout": 0.1,
            "database_statement_timeout_ms": 200,
        }
    )


@asynccontextmanager
async def holding_every_connection(database: Database) -> AsyncIterator[None]:
    """Holds each pool's only connection: the sessions' and, on SQLite, the reads' own."""
    async with database.engine.connect():
        if database.reader_threads is None:  # reads share the sessions' pool
            yield
            return
        with database.reader.connect():
            yield


async def test_an_exhausted_pool_is_503_until_a_connection_is_free(
    app: FastAPI, client: AsyncClient
) -> None:
    async with holding_every_connection(app.state.database):
        exhausted = await client.get(ME_URL)
        not_ready = await client.get("/health/ready")

    assert_unavailable(exhausted)
    assert_problem(not_ready, 503, "database_unavailable")
    assert (await client.get(ME_URL)).status_code == 200


@pytest.mark.only_on("sqlite")
async def test_a_read_waiting_past_the_pool_timeout_for_a_reader_is_503(
    app: FastAPI, client: AsyncClient
) -> None:
    database: Database = app.state.database
    # The one reader thread stays busy for longer than the pool timeout.
    busy = asyncio.create_task(database.run_read(lambda _: time.sleep(0.5)))
    await asyncio.sleep(0.05)

    refused = await client.get(ME_URL)
    await busy

    assert_unavailable(refused)
    assert (await client.get(ME_URL)).status_code == 200


@pytest.mark.only_on("sqlite")
async def test_a_write_locked_past_the_busy_timeout_is_503_until_the_lock_is_gone(
    client: AsyncClient, database_file: Path
) -> None:
    other_writer = sqlite3.connect(database_file, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        locked = await client.post(ITEMS_URL, json=ITEM)
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()

    assert_unavailable(locked)
    assert (await client.post(ITEMS_URL, json=ITEM)).status_code == 201


@pytest.mark.only_on("postgresql")
async def test_a_write_blocked_past_the_statement_timeout_is_503_until_the_lock_is_gone(
    client: AsyncClient, settings: Settings
) -> None:
    other = create_async_engine(settings.database_url, poolclass=NullPool)
    async with other.connect() as other_writer:
        await other_writer.exec_driver_sql("LOCK TABLE items IN EXCLUSIVE MODE")
        blocked = await client.post(ITEMS_URL, json=ITEM)
        await other_writer.rollback()
    await other.dispose()

    assert_unavailable(blocked)
    assert (await client.post(ITEMS_URL, json=ITEM)).status_code == 201


@pytest.mark.only_on("postgresql")
async def test_killed_connections_and_a_closed_database_are_503_until_it_reopens(
    app: FastAPI, client: AsyncClient, settings: Settings
) -> None:
    async with app.state.database.engine.connect() as pooled:  # the pool's only connection
        backend = (await pooled.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
    name = make_url(settings.database_url).database
    server = database_server()  # a database cannot close itself to connections
    assert server is not None
    admin = create_async_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with admin.connect() as operator:
        await operator.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            await operator.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
            killed = await client.get(ME_URL)
            refused = await client.get(ME_URL)
            not_ready = await client.get("/health/ready")
        finally:
            await operator.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    await admin.dispose()

    assert_unavailable(killed)
    assert_unavailable(refused)  # SQLSTATE 55000, at connect time
    assert_problem(not_ready, 503, "database_unavailable")
    assert (await client.get(ME_URL)).status_code == 200


@pytest.mark.only_on("postgresql")
@pytest.mark.parametrize(
    ("idle_seconds", "status"), [(0, 200), (3600, 503)], ids=["pinged", "used-moments-ago"]
)
async def test_a_connection_dropped_while_idle_is_replaced_if_it_idled_past_the_ping_time(
    settings: Settings, idle_seconds: float, status: int
) -> None:
    pinging = settings.model_copy(update={"database_pool_ping_after_idle_seconds": idle_seconds})
    async with own_app(pinging) as application, http_client(application) as client:
        assert (await client.get(ME_URL)).status_code == 401  # the pool holds a connection now
        async with application.state.database.engine.connect() as pooled:
            backend = (await pooled.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
        await _terminate(backend)

        assert (await client.get("/health/ready")).status_code == status


async def _terminate(backend: int) -> None:
    server = database_server()
    assert server is not None
    admin = create_async_engine(server, poolclass=NullPool)
    async with admin.connect() as operator:
        await operator.exec_driver_sql(f"SELECT pg_terminate_backend({backend})")
    await admin.dispose()


@pytest.fixture
async def buggy_client(fresh_app: FastAPI, clients: AsyncExitStack) -> AsyncClient:
    """A client of an application with routes that fail as code with a bug might."""

    async def crash() -> None:
        raise RuntimeError("a plain bug")

    async def misspelt_sql(session: SessionDep) -> None:
        await session.execute(text("SELEC 1"))

    async def refused() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    fresh_app.add_api_route("/crash", crash)
    fresh_app.add_api_route("/misspelt-sql", misspelt_sql)
    fresh_app.add_api_route("/refused", refused)
    return await clients.enter_async_context(http_client(fresh_app))


@pytest.mark.parametrize("path", ["/crash", "/misspelt-sql"])
async def test_a_bug_is_still_a_500(buggy_client: AsyncClient, path: str) -> None:
    response = await buggy_client.get(path)

    assert_problem(response, 500, "internal_error")
    assert "retry-after" not in response.headers


async def test_a_refused_connection_is_503(buggy_client: AsyncClient) -> None:
    assert_unavailable(await buggy_client.get("/refused"))


def test_any_error_that_dropped_the_connection_counts_as_unavailable() -> None:
    # Such errors come from a server going away (PostgreSQL's drivers raise InterfaceError
    # on a closed connection), which SQLite cannot be made to do.
    dropped = InterfaceError("SELECT 1", None, Exception("closed"), connection_invalidated=True)
    misused = ProgrammingError("SELECT 1", None, Exception("wrong number of bindings"))

    assert is_unavailable(dropped)
    assert not is_unavailable(misused)


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("08006", True),  # connection failure
        ("53300", True),  # too many connections
        ("57014", True),  # statement cancelled, as at the statement timeout
        ("57P01", True),  # the server is shutting down
        ("58030", True),  # I/O error
        ("3D000", True),  # the database does not exist
        ("23505", False),  # a unique violation: the request's fault
        ("42P01", False),  # an unknown table: a bug or a missing migration
        (None, False),
    ],
)
def test_sqlstates_that_say_the_server_cannot_serve_count_as_unavailable(
    sqlstate: str | None, unavailable: bool
) -> None:
    driver_error = Exception("from the driver")
    driver_error.sqlstate = sqlstate  # type: ignore[attr-defined]

    assert is_unavailable(DBAPIError("SELECT 1", None, driver_error)) is unavailable
