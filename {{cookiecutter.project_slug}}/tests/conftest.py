"""Fixtures: every test gets its own copy of a seeded SQLite database, its own app and clients.

The schema and three accounts (two users and an administrator, each with an open session) are
built once per run into a template file; each test copies that file, so tests are isolated
without paying for migrations, password hashing or logins every time.
"""

import asyncio
import functools
import gc
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from pydantic import SecretStr
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import ConnectionPoolEntry

from {{ cookiecutter.package_name }}.application import bind_settings, create_app
from {{ cookiecutter.package_name }}.auth import service as auth_service
from {{ cookiecutter.package_name }}.auth.models import AuthSession
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.auth.tokens import TokenCodec
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.core.models import utc_now
from {{ cookiecutter.package_name }}.core.ratelimit import POLICY_NAMES
from {{ cookiecutter.package_name }}.core.stores import open_stores
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.users.schemas import UserRegister

TEST_SECRET = "a-test-only-signing-key-long-enough-for-every-hmac-algorithm-0123"
PASSWORD = "correct-horse-battery"
ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
# Under which the Redis keys of this run lie (tests/conftest.py: leave_nothing_in_redis).
REDIS_RUN_PREFIX = f"test:{uuid.uuid4().hex[:12]}:"
SHARED_MEMORY = Path("/dev/shm")  # noqa: S108 - a private folder is made in it with mkdtemp
LOGIN_URL = "/api/v1/auth/login"
ME_URL = "/api/v1/users/me"
SEEDED_ACCOUNTS = {
    "user": ("ada@example.com", Role.USER),
    "other_user": ("grace@example.com", Role.USER),
    "admin": ("root@example.com", Role.ADMIN),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """`redis_url` in the pytest settings: the Redis the tests use, if the service has one."""
    parser.addini("redis_url", "Redis for the tests, unless REDIS_URL names another", default="")


def pytest_configure(config: pytest.Config) -> None:
    """Set the process up for a fast run: the garbage collector, and the CPU.

    `tests/__init__.py` turned the collector off while the libraries loaded. What is loaded
    by now lives for the whole run, so it is frozen out of collection, and young generations
    are collected less often: about 0.3 s less collector time a run.

    A serial run on Linux stays on one CPU. Every query hands work to SQLite's worker thread
    and back, a wakeup that costs about 100 µs across CPUs on a 2-CPU virtual machine and
    about 30 µs on one: about 0.5 s a run there. Concurrent runs spread over the CPUs by
    process id; pytest-xdist runs are left alone.
    """
    # Read from the environment like every setting; pytest's `redis_url` is the default.
    if redis_url := config.getini("redis_url"):
        os.environ.setdefault("REDIS_URL", redis_url)
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
    gc.enable()
    parallel = config.getoption("numprocesses", None) or "PYTEST_XDIST_WORKER" in os.environ
    if sys.platform == "linux" and not parallel:
        cpus = sorted(os.sched_getaffinity(0))
        with suppress(OSError):  # a sandbox may not allow it
            os.sched_setaffinity(0, {cpus[os.getpid() % len(cpus)]})


@functools.cache
def _test_settings() -> Settings:
    """What every test's settings share; built once, since reading settings costs milliseconds."""
    return Settings(
        _env_file=None,
        environment="test",
        secret_key=SecretStr(TEST_SECRET),
        # Cheap argon2 parameters keep the suite fast; production uses OWASP's.
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        # A local file cannot go stale between checkouts; the ping would double round trips.
        database_pool_pre_ping=False,
        # Tests that check log events raise the level themselves (`caplog.at_level`).
        log_level="WARNING",
        # httpx's in-process clients name this host.
        allowed_hosts=["testserver"],
    ).model_copy(
        # Out of the way; tests of the limits set their own, low ones.
        update={f"rate_limit_{name}": "10000/minute" for name in POLICY_NAMES}
    )


def settings_for(database: Path) -> Settings:
    """Settings for a test database file, with Redis keys named after it; no `.env` is read."""
    return _test_settings().model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{database}",
            "redis_key_prefix": f"{REDIS_RUN_PREFIX}{database.stem}:",
        }
    )


@pytest.fixture(scope="session", autouse=True)
def leave_nothing_in_redis() -> Iterator[None]:
    """Each test's Redis keys lie under a prefix of its own within this run's; after the
    run, everything under the run's prefix is deleted (nothing at all without Redis)."""
    yield

    async def clear() -> None:
        stores = open_stores(
            _test_settings().model_copy(update={"redis_key_prefix": REDIS_RUN_PREFIX})
        )
        await stores.clear()
        await stores.close()

    asyncio.run(clear())


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
def database_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the test databases live, removed after the run.

    Memory-backed storage where the system has it (Linux's /dev/shm): SQLite's file creation
    and fsync then cost nothing, which makes the suite about a third faster than on disk.
    """
    if not (SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    directory = Path(tempfile.mkdtemp(prefix="test-databases-", dir=SHARED_MEMORY))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(database_directory: Path) -> tuple[Path, dict[str, SeededAccount]]:
    """The schema and the seeded accounts, built once; each test gets a copy."""
    path = database_directory / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:  # the revision migrations leave, which readiness needs
        scripts = ScriptDirectory.from_config(Config(ALEMBIC_INI))
        MigrationContext.configure(connection).stamp(scripts, "head")
    engine.dispose()
    return path, asyncio.run(_seed(settings_for(path)))


@pytest.fixture
def database_file(
    database_directory: Path, template_database: tuple[Path, dict[str, SeededAccount]]
) -> Iterator[Path]:
    """The test's own copy of the template database, deleted afterwards."""
    path = database_directory / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_database[0], path)
    yield path
    for file in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm")):
        file.unlink(missing_ok=True)


@pytest.fixture
def settings(database_file: Path) -> Settings:
    """Settings for one test, on its own database."""
    return settings_for(database_file)


class SwitchingDatabase(Database):
    """One engine for the whole run; its new connections open `file`, the current test's.

    A new engine per test would initialize its dialect and build its pool again; emptying this
    pool after each test instead saves about 3 ms a test.
    """

    def __init__(self, settings: Settings, file: Path) -> None:
        super().__init__(settings)
        self.file = file
        self.named_file = str(file)  # the file `settings` name
        event.listen(self.engine.sync_engine, "do_connect", self._open_file)

    def _open_file(
        self,
        dialect: Dialect,
        record: ConnectionPoolEntry,
        cargs: list[Any],
        cparams: dict[str, Any],
    ) -> None:
        # Only the path: the service's own hook made the argument a read-write SQLite URI.
        cargs[0] = cargs[0].replace(self.named_file, str(self.file))


@pytest.fixture(scope="session")
def no_database(database_directory: Path) -> Path:
    """A database file SQLite cannot open; shared objects point at it between tests."""
    return database_directory / "no-test-is-running" / "none.db"


@pytest.fixture(scope="session")
def shared_app(no_database: Path) -> FastAPI:
    """The application the tests share, since building one costs tens of milliseconds.

    `app` binds it to each test's settings and database.
    """
    return create_app(settings_for(no_database))


@pytest.fixture(scope="session")
def shared_database(no_database: Path) -> SwitchingDatabase:
    """The database object of the shared application, pointed at each test's file."""
    return SwitchingDatabase(settings_for(no_database), no_database)


@asynccontextmanager
async def own_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """A new application on `settings`, its pool closed on exit."""
    application = create_app(settings)
    try:
        yield application
    finally:
        await application.state.database.dispose()
        await application.state.stores.close()


@pytest.fixture
async def app(
    shared_app: FastAPI,
    shared_database: SwitchingDatabase,
    no_database: Path,
    database_file: Path,
    settings: Settings,
) -> AsyncIterator[FastAPI]:
    """The application on the test's database and settings.

    Tests share one application unless their module overrides `settings`; then they get one
    built from theirs. Dependency overrides last for the test only; to add routes, use
    `fresh_app`.
    """
    if settings != settings_for(database_file):
        async with own_app(settings) as application:
            yield application
        return
    # Tests of the CLI or of other settings configure logging their own way; start afresh.
    configure_logging(settings)
    routes = list(shared_app.router.routes)
    shared_database.file = database_file
    bind_settings(shared_app, settings, shared_database)
    yield shared_app
    shared_app.dependency_overrides.clear()
    await shared_database.dispose()
    await shared_app.state.stores.close()
    shared_database.file = no_database
    assert shared_app.router.routes == routes, "add routes to `fresh_app`, not to `app`"


@pytest.fixture
async def failed_connections_settled() -> AsyncIterator[None]:
    """After the test and its application, waits for the threads of connections that failed.

    After a failed connect aiosqlite stops its worker thread without waiting for it; the
    thread may then report to the test's event loop after the loop has closed
    (omnilib/aiosqlite#241; #387 asks for a public join). Request it before `app`, or with
    `pytest.mark.usefixtures`, so the application's pool is closed before the join.
    """
    threads_before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - threads_before:
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, timeout=5)


@pytest.fixture
async def fresh_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """A new application of the test's own, for tests that add routes to it."""
    async with own_app(settings) as application:
        yield application


def http_client(app: FastAPI, *, raise_app_exceptions: bool = False, **options: Any) -> AsyncClient:
    """A client talking to `app` in-process; server errors come back as responses, unless
    `raise_app_exceptions` lets exceptions that escape the app reach the test."""
    transport = ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
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


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    """Log in through the API with the OAuth2 password form."""
    return await client.post(LOGIN_URL, data={"username": email, "password": password})


def logged_events(caplog: pytest.LogCaptureFixture, logger: str = "") -> list[dict[str, Any]]:
    """The structured events `caplog` captured, from loggers whose name ends with `logger`."""
    return [
        record.msg
        for record in caplog.records
        if record.name.endswith(logger) and isinstance(record.msg, dict)
    ]
