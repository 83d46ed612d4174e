"""Fixtures: every test gets a seeded database of its own, its own app and clients.

The schema and three accounts (two users and an administrator, each with an open session) are
built once per run into a template SQLite file; each test copies that file, so tests are
isolated without paying for migrations, password hashing or logins every time.

When DATABASE_URL names a PostgreSQL server (`database_url` in the pytest settings is the
default), the run builds the same schema and accounts into a database of its own on that
server instead, and puts its rows back after each test (`tests/server_database.py`).
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
from collections.abc import AsyncIterator, Callable, Iterator
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
from sqlalchemy import create_engine, delete, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from {{ cookiecutter.package_name }}.application import bind_settings, create_app
from {{ cookiecutter.package_name }}.auth import service as auth_service
from {{ cookiecutter.package_name }}.auth.models import AuthSession
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.auth.schemas import TokenPair
from {{ cookiecutter.package_name }}.auth.tokens import TokenCodec
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.core.models import utc_now
from {{ cookiecutter.package_name }}.core.ratelimit import POLICY_NAMES
from {{ cookiecutter.package_name }}.core.stores import Stores, open_stores
from {{ cookiecutter.package_name }}.messaging.models import OutboxMessage
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings, get_settings
from {{ cookiecutter.package_name }}.users.schemas import UserRegister
from tests import server_database

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
    """`redis_url`, `broker_url` and `database_url` in the pytest settings: the Redis, the
    broker and the database server the tests use, if the service has them."""
    parser.addini("redis_url", "Redis for the tests, unless REDIS_URL names another", default="")
    parser.addini(
        "broker_url", "The broker for the tests, unless BROKER_URL names another", default=""
    )
    parser.addini(
        "database_url", "PostgreSQL for the tests, unless DATABASE_URL names another", default=""
    )


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
    if broker_url := config.getini("broker_url"):
        os.environ.setdefault("BROKER_URL", broker_url)
    if database_url := config.getini("database_url"):
        os.environ.setdefault("DATABASE_URL", database_url)
    config.addinivalue_line(
        "markers", "only_on(backend): run the test only on this database (sqlite, postgresql)"
    )
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
    gc.enable()
    parallel = config.getoption("numprocesses", None) or "PYTEST_XDIST_WORKER" in os.environ
    if sys.platform == "linux" and not parallel:
        cpus = sorted(os.sched_getaffinity(0))
        with suppress(OSError):  # a sandbox may not allow it
            os.sched_setaffinity(0, {cpus[os.getpid() % len(cpus)]})


def database_server() -> str | None:
    """The PostgreSQL server DATABASE_URL names, or None: the tests then use SQLite files."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url and make_url(url).get_backend_name() == "postgresql" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the tests marked for the other database."""
    backend = "sqlite" if database_server() is None else "postgresql"
    for item in items:
        marker = item.get_closest_marker("only_on")
        if marker is not None and marker.args[0] != backend:
            item.add_marker(pytest.mark.skip(reason=f"{marker.args[0]} only"))


@dataclass(frozen=True)
class DatabaseForTest:
    """The database a test runs on."""

    url: str


@functools.cache
def base_settings() -> Settings:
    """What every test's settings share; built once, since reading settings costs milliseconds."""
    return Settings(
        _env_file=None,
        environment="test",
        secret_key=SecretStr(TEST_SECRET),
        # Cheap argon2 parameters keep the suite fast; production uses OWASP's.
        password_hash_memory_kib=64,
        password_hash_time_cost=1,
        # Tests that check log events raise the level themselves (`caplog.at_level`).
        log_level="WARNING",
        # httpx's in-process clients name this host.
        allowed_hosts=["testserver"],
        # Tests that start the application's lifespan run no relay beside it unless they
        # ask for one: the messaging tests run relays of their own.
        outbox_relay_in_process=False,
    ).model_copy(
        # Out of the way; tests of the limits set their own, low ones.
        update={f"rate_limit_{name}": "10000/minute" for name in POLICY_NAMES}
    )


def settings_for(database: DatabaseForTest) -> Settings:
    """Settings for a test database, with this run's Redis keys; no `.env` is read."""
    return base_settings().model_copy(
        update={"database_url": database.url, "redis_key_prefix": REDIS_RUN_PREFIX}
    )


def sqlite_database(path: Path) -> DatabaseForTest:
    """The SQLite file at `path`."""
    return DatabaseForTest(f"sqlite+aiosqlite:///{path}")


@pytest.fixture(scope="session", autouse=True)
def leave_nothing_in_redis() -> Iterator[None]:
    """The run's Redis keys lie under a prefix of its own, and each test's are deleted after
    it (`app`); after the run, everything under the prefix is deleted (nothing without Redis)."""
    yield

    async def clear() -> None:
        stores = open_stores(
            base_settings().model_copy(update={"redis_key_prefix": REDIS_RUN_PREFIX})
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
        # The accounts are fixtures, not registrations: no welcome is owed to them.
        await session.execute(delete(OutboxMessage))
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
    if database_server() is not None:
        pytest.skip("needs a SQLite file")
    path = database_directory / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:  # the revision migrations leave, which readiness needs
        scripts = ScriptDirectory.from_config(Config(ALEMBIC_INI))
        MigrationContext.configure(connection).stamp(scripts, "head")
    engine.dispose()
    return path, asyncio.run(_seed(settings_for(sqlite_database(path))))


@pytest.fixture(scope="session")
def run_database() -> Iterator[tuple[str, dict[str, SeededAccount]]]:
    """On PostgreSQL: the run's own database with the schema and the seeded accounts, its
    rows kept aside for `seed.reset()`; dropped after the run."""
    server = database_server()
    assert server is not None, "run_database needs DATABASE_URL to name a PostgreSQL"
    url = server_database.create_database(server)
    try:
        seeded = asyncio.run(_seed_server(url))
        yield url, seeded
    finally:
        server_database.drop_database(server, url)


async def _seed_server(url: str) -> dict[str, SeededAccount]:
    engine = create_async_engine(url, poolclass=NullPool)
    scripts = ScriptDirectory.from_config(Config(ALEMBIC_INI))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).stamp(scripts, "head")
        )
    seeded = await _seed(settings_for(DatabaseForTest(url)))
    async with engine.begin() as connection:
        await server_database.keep_seed(connection)
    await engine.dispose()
    return seeded


@pytest.fixture(scope="session")
def seeded_accounts(request: pytest.FixtureRequest) -> dict[str, SeededAccount]:
    """The seeded accounts, by fixture name, in whichever template the run uses."""
    template = "template_database" if database_server() is None else "run_database"
    accounts: dict[str, SeededAccount] = request.getfixturevalue(template)[1]
    return accounts


@pytest.fixture
def database_file(
    database_directory: Path, template_database: tuple[Path, dict[str, SeededAccount]]
) -> Iterator[Path]:
    """The test's own copy of the template database, deleted afterwards; SQLite only."""
    path = database_directory / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(template_database[0], path)
    yield path
    for file in (path, path.with_suffix(".db-wal"), path.with_suffix(".db-shm")):
        file.unlink(missing_ok=True)


@pytest.fixture
def test_database(request: pytest.FixtureRequest) -> DatabaseForTest:
    """The test's own database: a copy of the template file, or the run's PostgreSQL database
    put back to the seeded rows after the test."""
    server = database_server()
    if server is None:
        return sqlite_database(request.getfixturevalue("database_file"))
    request.getfixturevalue("reset_after_test")
    return DatabaseForTest(request.getfixturevalue("run_database")[0])


@pytest.fixture
async def reset_after_test(shared_database: "SwitchingDatabase") -> AsyncIterator[None]:
    """After the test, the run's PostgreSQL database holds the seeded rows again."""
    yield
    async with shared_database.engine.begin() as connection:
        await connection.exec_driver_sql(server_database.RESET)


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Points the CLI's settings at a database URL."""

    def use(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def missing_database(settings: Settings) -> str:
    """A URL like the one `settings` name, of a database that does not exist."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{Path(str(url.database)).parent / 'missing-dir' / 'x.db'}"
    return url.set(database="test_missing").render_as_string(hide_password=False)


@pytest.fixture
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it: a SQLite file not yet created, or the run's
    empty PostgreSQL database, emptied again afterwards."""
    if database_server() is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url: str = request.getfixturevalue("empty_server_database")
    yield url
    server_database.empty_schema(url)


@pytest.fixture(scope="session")
def empty_server_database() -> Iterator[str]:
    """A PostgreSQL database of the run's own, with nothing in it; dropped after the run."""
    server = database_server()
    assert server is not None, "empty_server_database needs DATABASE_URL to name a PostgreSQL"
    url = server_database.create_database(server, "_empty")
    yield url
    server_database.drop_database(server, url)


@pytest.fixture
def settings(test_database: DatabaseForTest) -> Settings:
    """Settings for one test, on its own database."""
    return settings_for(test_database)


class SwitchingDatabase(Database):
    """One engine for the whole run; its new connections open `current`, the current test's
    SQLite file, and its pool is emptied after each test.

    A new engine per test would initialize its dialect and build its pool again; emptying this
    pool after each test instead saves about 3 ms a test. On PostgreSQL every test uses the
    run's database, so nothing switches and the pool keeps its connections from test to test
    (the run has one event loop): opening one costs about 8 ms.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.named = self.current = str(make_url(settings.database_url).database)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "do_connect", self._open_file)
            event.listen(self.reader, "do_connect", self._open_file)

    def _open_file(
        self,
        dialect: Dialect,
        record: ConnectionPoolEntry,
        cargs: list[Any],
        cparams: dict[str, Any],
    ) -> None:
        # Only the path: the service's own hook made the argument a read-write SQLite URI.
        cargs[0] = cargs[0].replace(self.named, self.current)


@pytest.fixture(scope="session")
def no_database(request: pytest.FixtureRequest) -> DatabaseForTest:
    """Where shared objects point between tests: a SQLite file that cannot be opened, or the
    run's PostgreSQL database."""
    if database_server() is not None:
        return DatabaseForTest(request.getfixturevalue("run_database")[0])
    directory: Path = request.getfixturevalue("database_directory")
    return sqlite_database(directory / "no-test-is-running" / "none.db")


@pytest.fixture(scope="session")
def shared_app(no_database: DatabaseForTest) -> FastAPI:
    """The application the tests share, since building one costs tens of milliseconds.

    `app` binds it to each test's settings and database.
    """
    return create_app(settings_for(no_database))


@pytest.fixture(scope="session")
async def shared_database(no_database: DatabaseForTest) -> AsyncIterator[SwitchingDatabase]:
    """The database object of the shared application, pointed at each test's database."""
    database = SwitchingDatabase(settings_for(no_database))
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def shared_stores(no_database: DatabaseForTest) -> AsyncIterator[Stores]:
    """The stores of the shared application, emptied after each test: opening a Redis pool
    and its connection costs about 2 ms a test."""
    stores = open_stores(settings_for(no_database))
    yield stores
    await stores.close()


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
    shared_stores: Stores,
    test_database: DatabaseForTest,
    settings: Settings,
) -> AsyncIterator[FastAPI]:
    """The application on the test's database and settings.

    Tests share one application unless their module overrides `settings`; then they get one
    built from theirs. Dependency overrides last for the test only; to add routes, use
    `fresh_app`. Every count and cache entry the test left is deleted after it.
    """
    if settings != settings_for(test_database):
        async with own_app(settings) as application:
            yield application
        await shared_stores.clear()
        return
    # Tests of the CLI or of other settings configure logging their own way; start afresh.
    configure_logging(settings)
    routes = list(shared_app.router.routes)
    shared_database.current = str(make_url(settings.database_url).database)
    bind_settings(shared_app, settings, shared_database, shared_stores)
    yield shared_app
    shared_app.dependency_overrides.clear()
    if shared_database.engine.dialect.name == "sqlite":  # the next test opens another file
        await shared_database.dispose()
    await shared_stores.clear()
    shared_database.current = shared_database.named
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


async def printed(capsys: pytest.CaptureFixture[str]) -> str:
    """What was printed so far, access-log lines included: they are written once the event
    loop turns, so it is let turn first."""
    await asyncio.sleep(0)
    return capsys.readouterr().out


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


def token_pair(app: FastAPI, seeded: SeededAccount) -> TokenPair:
    """A fresh pair of tokens for a seeded account's open session."""
    stored_session = AuthSession(
        id=seeded.session_id, user_id=seeded.id, current_refresh_id=seeded.refresh_id
    )
    return auth_service.issue_token_pair(app.state.token_codec, stored_session, utc_now())


def _seeded_account_fixture(name: str, description: str) -> Any:
    """A fixture named `name` that logs in the seeded account of that name."""

    async def fixture(
        app: FastAPI,
        clients: AsyncExitStack,
        seeded_accounts: dict[str, SeededAccount],
    ) -> Account:
        seeded = seeded_accounts[name]
        pair = token_pair(app, seeded)
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
