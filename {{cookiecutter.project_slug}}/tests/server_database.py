"""Test databases on a database server (PostgreSQL), for runs whose DATABASE_URL names one.

A run creates a database of its own, `test_<random>`, next to the one DATABASE_URL names, and
drops it at the end; it never writes to the named database. The seeded rows are copied aside
once, into the schema `seed`; after each test, `seed.reset()` puts every table back to them
in one round trip, about a millisecond, where a fresh copy of a database costs a quarter
of a second.
"""

import asyncio
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import make_url
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.models import Base

T = TypeVar("T")
# Every table a test may change, parents first; alembic_version too, which readiness reads.
TABLES = [*(table.name for table in Base.metadata.sorted_tables), "alembic_version"]
RESET = "SELECT seed.reset()"


def run_on(url: str, work: Callable[[Connection], T]) -> T:
    """`work` on one connection to `url`, committed; for synchronous tests and fixtures."""

    async def run() -> T:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def create_database(server_url: str, suffix: str = "") -> str:
    """Create an empty database `test_<random><suffix>` on the server; return its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}{suffix}"
    _administer(server_url, f'CREATE DATABASE "{name}"')
    return _with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database `url` names, closing whatever is still connected to it."""
    name = make_url(url).database
    assert name is not None
    assert name.startswith("test_"), f"refusing to drop {name!r}, which no test created"
    _administer(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_schema(url: str) -> None:
    """Drop everything in the database `url` names: a new database costs a fifth of a second."""
    _administer(url, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")


def _administer(url: str, *statements: str) -> None:
    async def run() -> None:
        engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    asyncio.run(run())


async def keep_seed(connection: AsyncConnection) -> None:
    """Copy every table's rows into the schema `seed` and define `seed.reset()`."""
    await connection.exec_driver_sql("CREATE SCHEMA seed")
    for table in TABLES:
        await connection.exec_driver_sql(f"CREATE TABLE seed.{table} AS TABLE public.{table}")
    # The table names are the models' own; nothing here comes from input.
    deletes = [f"DELETE FROM public.{name};" for name in reversed(TABLES)]  # noqa: S608
    inserts = [f"INSERT INTO {name} SELECT * FROM seed.{name};" for name in TABLES]  # noqa: S608
    body = " ".join(deletes + inserts)
    await connection.exec_driver_sql(
        f"CREATE FUNCTION seed.reset() RETURNS void LANGUAGE sql AS $$ {body} $$"
    )
