"""Fixtures: every test gets its own copy of a seeded SQLite database, its own app and clients.

The schema and three accounts (two users and an administrator, each with an open session) are
built once per run into a template file; each test copies that file, so tests are isolated
without paying for migrations, password hashing or logins every time.
"""

import asyncio
import gc
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.auth import service as auth_service
from {{ cookiecutter.package_name }}.auth.models import AuthSession
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.auth.tokens import TokenCodec
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.models import utc_now
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.users.schemas import UserRegister

TEST_SECRET = "a-test-only-signing-key-long-enough-for-every-hmac-algorithm-0123"
PASSWORD = "correct-horse-battery"
LOGIN_URL = "/api/v1/auth/login"
SEEDED_ACCOUNTS = {
    "user": ("ada@example.com", Role.USER),
    "other_user": ("grace@example.com", Role.USER),
    "admin": ("root@example.com", Role.ADMIN),
}


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the garbage collector off the objects every test shares.

    After collection the imported libraries are frozen out of collection, and young
    generations are collected less often; this saves about a second of collector time.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)


def settings_for(database: Path) -> Settings:
    """Settings for a test database file; no `.env` is read."""
    return Settings(
        _env_file=None,
        environment="test",
        secret_key=SecretStr(TEST_SECRET),
        database_url=f"sqlite+aiosqlite:///{database}",
        # Cheap argon2 parameters keep the suite fast; production uses OWASP's.
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        # A local file cannot go stale between checkouts; the ping would double round trips.
        database_pool_pre_ping=False,
        # Tests that check log events raise the level themselves (`caplog.at_level`).
        log_level="WARNING",
    )


@dataclass(frozen=True)
class SeededAccount:
    """An account and its open session, as stored in the template database."""

    id: uuid.UUID
    email: str
    session_id: uuid.UUID
    refresh_id: uuid.UUID


async def _seed(settings: Settings) -> dict[str, SeededAccount]:
    database = Database(settings)
    hasher, codec, now = PasswordHasher(settings), TokenCodec(settings), utc_now()
    seeded = {}
    async with database.sessionmaker() as session:
        for name, (email, role) in SEEDED_ACCOUNTS.items():
            data = UserRegister(email=email, password=PASSWORD, full_name=name.title())
            user = await auth_service.register(session, hasher, data)
            user.role = role
            opened = await auth_service.open_session(session, codec, user, now)
            seeded[name] = SeededAccount(user.id, email, opened.id, opened.current_refresh_id)
        await session.commit()
    await database.dispose()
    return seeded


@pytest.fixture(scope="session")
def template_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, SeededAccount]]:
    """The schema and the seeded accounts, built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path, asyncio.run(_seed(settings_for(path)))


@pytest.fixture
def settings(tmp_path: Path, template_database: tuple[Path, dict[str, SeededAccount]]) -> Settings:
    """Settings for one test, on its own copy of the template database."""
    database = tmp_path / "test.db"
    shutil.copyfile(template_database[0], database)
    return settings_for(database)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application on the test's database, its pool closed after the test."""
    application = create_app(settings)
    yield application
    await application.state.database.dispose()


def http_client(app: FastAPI, **options: Any) -> AsyncClient:
    """A client talking to `app` in-process; server errors come back as responses."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    return AsyncClient(transport=transport, base_url="http://testserver", **options)


@pytest.fixture
async def clients(app: FastAPI) -> AsyncIterator[AsyncExitStack]:
    """Closes every client a test opened."""
    async with AsyncExitStack() as stack:
        yield stack


@pytest.fixture
async def client(app: FastAPI, clients: AsyncExitStack) -> AsyncClient:
    """An anonymous client."""
    return await clients.enter_async_context(http_client(app))


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the test database for service and repository tests."""
    database: Database = app.state.database
    async with database.sessionmaker() as db_session:
        yield db_session


@dataclass
class Account:
    """A seeded account, its tokens, and a client that sends its access token."""

    id: uuid.UUID
    email: str
    session_id: uuid.UUID
    tokens: dict[str, Any]
    client: AsyncClient
    password: str = PASSWORD


def _seeded_account_fixture(name: str, description: str) -> Any:
    """A fixture named `name` that logs in the seeded account of that name."""

    async def fixture(
        app: FastAPI,
        clients: AsyncExitStack,
        template_database: tuple[Path, dict[str, SeededAccount]],
    ) -> Account:
        seeded = template_database[1][name]
        stored_session = AuthSession(
            id=seeded.session_id, user_id=seeded.id, current_refresh_id=seeded.refresh_id
        )
        pair = auth_service.issue_token_pair(app.state.token_codec, stored_session, utc_now())
        headers = {"Authorization": f"Bearer {pair.access_token}"}
        account_client = await clients.enter_async_context(http_client(app, headers=headers))
        return Account(
            seeded.id, seeded.email, seeded.session_id, pair.model_dump(), account_client
        )

    fixture.__doc__ = description
    return pytest.fixture(name=name)(fixture)


user = _seeded_account_fixture("user", "A plain user, logged in.")
other_user = _seeded_account_fixture("other_user", "A second plain user, logged in.")
admin = _seeded_account_fixture("admin", "An administrator, logged in.")


def client_acting_as_user() -> Any:
    """A `client` fixture that is the plain user's, for packages whose tests all act as them."""

    def fixture(user: Account) -> AsyncClient:
        return user.client

    return pytest.fixture(name="client")(fixture)
