"""Fixtures: every test gets its own SQLite database file, its own app and its own client."""

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with every table, built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path: Path, schema_template: Path) -> Settings:
    """Settings for one test: its own copy of the empty database, no `.env` read."""
    database = tmp_path / "test.db"
    shutil.copyfile(schema_template, database)
    return Settings(
        _env_file=None,
        environment="test",
        secret_key=SecretStr(TEST_SECRET),
        database_url=f"sqlite+aiosqlite:///{database}",
        log_json=True,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application on the test's database, its pool closed after the test."""
    application = create_app(settings)
    yield application
    await application.state.database.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """An HTTP client talking to the app in-process; server errors come back as responses."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the test database for service and repository tests."""
    database: Database = app.state.database
    async with database.sessionmaker() as db_session:
        yield db_session
