"""The service opens its SQLite file but never creates it, and notices when it goes away;
its connections to PostgreSQL bound every statement's time; a busy process keeps its pooled
connections open."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import event

from {{ cookiecutter.package_name }}.core.db import (
    SCHEMA_REVISION,
    Database,
    missing_database_file,
)
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import ME_URL, SEEDED_ACCOUNTS, http_client, login, own_app
from tests.problem_assertions import assert_problem, assert_unavailable

# A failed connect leaves an aiosqlite thread to join once the application is closed.
pytestmark = pytest.mark.usefixtures("failed_connections_settled")


@contextmanager
def moved_away(path: Path, *, leave_empty_database: bool = False) -> Iterator[None]:
    """Moves the database file aside (leaving an empty database in its place), then back;
    fails if anything else created a file in its place meanwhile."""
    away = path.with_suffix(".away")
    path.rename(away)
    if leave_empty_database:
        path.touch()  # a file of no bytes is an empty SQLite database
    try:
        yield
    finally:
        recreated = path.exists() and not leave_empty_database
        path.unlink(missing_ok=True)
        away.rename(path)
    assert not recreated, f"a new database was created at {path}"


@pytest.mark.only_on("sqlite")
async def test_the_service_never_creates_its_database(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "never-created.db"
    elsewhere = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{missing}"})

    async with own_app(elsewhere) as app, http_client(app) as client:
        not_ready = await client.get("/health/ready")
        refused = await login(client, SEEDED_ACCOUNTS["user"][0])

    assert_problem(not_ready, 503, "database_unavailable")
    assert_unavailable(refused)
    assert not missing.exists()


@pytest.mark.parametrize("leave_empty_database", [False, True], ids=["moved", "emptied"])
async def test_a_moved_or_emptied_file_is_503_until_the_real_one_is_back(
    client: AsyncClient, database_file: Path, leave_empty_database: bool
) -> None:
    assert (await client.get(ME_URL)).status_code == 200  # a pooled connection has it open

    with moved_away(database_file, leave_empty_database=leave_empty_database):
        not_ready = await client.get("/health/ready")
        refused = await client.get(ME_URL)

    assert_problem(not_ready, 503, "database_unavailable")
    assert_unavailable(refused)
    assert (await client.get("/health/ready")).status_code == 200
    assert (await client.get(ME_URL)).status_code == 200


@pytest.mark.only_on("sqlite")
async def test_the_busy_timeout_comes_from_the_settings(settings: Settings) -> None:
    patient = settings.model_copy(update={"database_busy_timeout": 0.25})

    async with own_app(patient) as app, app.state.database.engine.connect() as connection:
        busy_timeout_ms = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()

    assert busy_timeout_ms == 250


@pytest.mark.only_on("postgresql")
async def test_the_statement_timeout_comes_from_the_settings(settings: Settings) -> None:
    patient = settings.model_copy(update={"database_statement_timeout_ms": 250})

    async with own_app(patient) as app, app.state.database.engine.connect() as connection:
        statement_timeout = (await connection.exec_driver_sql("SHOW statement_timeout")).scalar()

    assert statement_timeout == "250ms"


def test_missing_database_file_names_only_an_absent_sqlite_file(tmp_path: Path) -> None:
    def missing(url: str) -> Path | None:
        return missing_database_file(Settings(_env_file=None, database_url=url))

    present = tmp_path / "present.db"
    present.touch()

    assert missing(f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}") == tmp_path / "absent.db"
    assert missing(f"sqlite+aiosqlite:///{present}") is None
    assert missing("sqlite+aiosqlite:///:memory:") is None
    assert missing("postgresql+asyncpg://app@db/app") is None


async def test_a_busy_process_reuses_its_connections_instead_of_opening_new_ones(
    settings: Settings,
) -> None:
    # As many sessions at once as the pool allows, three times over: every connection opened
    # in the first round is handed out again, none is closed on its way back.
    at_once = settings.database_pool_size + settings.database_max_overflow
    database = Database(settings)
    opened = 0

    def count(*_: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.engine.sync_engine, "connect", count)

    async def hold_a_connection() -> None:
        async with database.sessionmaker() as session:
            await session.execute(SCHEMA_REVISION)
            await asyncio.sleep(0.01)  # still checked out while the others ask for theirs

    try:
        for _ in range(3):
            await asyncio.gather(*(hold_a_connection() for _ in range(at_once)))
    finally:
        await database.dispose()

    assert opened == at_once


async def test_a_request_never_holds_two_pooled_connections(settings: Settings) -> None:
    """Authentication reads on a connection of its own and hands it back before the route's
    unit of work takes one: with a pool of one, writes still go through rather than wait
    for a connection their own request holds (a 503 after the pool timeout)."""
    one = settings.model_copy(
        update={"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 1}
    )
    async with own_app(one) as app, http_client(app) as client:
        token = (await login(client, SEEDED_ACCOUNTS["user"][0])).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        created = await client.post("/api/v1/items", json={"name": "Lamp", "price_cents": 1})
        changed = await client.patch(
            f"/api/v1/items/{created.json()['id']}", json={"name": "Desk lamp"}
        )
        listed = await client.get("/api/v1/items")
        renamed = await client.patch(ME_URL, json={"full_name": "Ada L."})

    assert (created.status_code, changed.status_code, listed.status_code) == (201, 200, 200)
    assert renamed.status_code == 200, renamed.text
