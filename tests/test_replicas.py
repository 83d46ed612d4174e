"""A `postgresql` + `redis` bake served as it is deployed: several processes of the real serve
command sharing one PostgreSQL database and one Redis, and the database failing under them."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE, require_tool, run
from tests.hook_modules import post_gen
from tests.serving import (
    ACCOUNT,
    Served,
    get,
    migrate,
    post,
    register_and_login,
    request,
    serve,
    service_environment,
)

REPLICAS = 3
LIMIT = 10  # requests a minute for each caller, across the replicas
ME = "/api/v1/users/me"
ITEMS = "/api/v1/items"


def psql(*statements: str) -> str:
    """Run `statements` as the `postgres` user on the server the baked tests use."""
    require_tool(shutil.which("psql") is not None, "psql (Debian package postgresql-client)")
    command = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
    command += ["-U", "postgres", "-d", "postgres"]
    for statement in statements:
        command += ["-c", statement]
    return run(command, TEMPLATE)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A PostgreSQL database of the module's own, `test_<random>`, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    psql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_command(service_env: Path, *args: str) -> str:
    """Run a Redis command through redis-py; its reply, one line per element."""
    script = (
        "import redis, sys\n"
        "reply = redis.Redis.from_url(sys.argv[1], decode_responses=True)"
        ".execute_command(*sys.argv[2:])\n"
        "print(*(reply if isinstance(reply, list) else [reply]), sep='\\n')"
    )
    url = post_gen.TEST_REDIS_URL
    return run([str(service_env / "python"), "-c", script, url, *args], TEMPLATE)


@pytest.fixture(scope="module")
def redis_prefix(service_env: Path) -> Iterator[str]:
    """A Redis key prefix of the module's own; every key under it is deleted afterwards.

    Not under `test:`, where the baked suites, which may run meanwhile, keep theirs.
    """
    prefix = f"replicas:{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = redis_command(service_env, "KEYS", f"{prefix}*").split()
    if keys:
        redis_command(service_env, "DEL", *keys)


@pytest.fixture(scope="module")
def environment(bake: Callable[..., Path], database: str, redis_prefix: str) -> dict[str, str]:
    """How every process of the `postgresql-redis` bake is configured here."""
    server = post_gen.TEST_POSTGRESQL_URL.rsplit("/", 1)[0]
    return service_environment(
        bake("postgresql-redis"),
        DATABASE_URL=f"{server}/{database}",
        REDIS_URL=post_gen.TEST_REDIS_URL,
        REDIS_KEY_PREFIX=redis_prefix,
        RATE_LIMIT_DEFAULT=f"{LIMIT}/minute",
    )


@pytest.fixture(scope="module")
def replicas(
    bake: Callable[..., Path],
    service_env: Path,
    environment: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Served]]:
    """`REPLICAS` processes of the real serve command on one migrated database.

    The tests share them, each as an account of its own; the failure test leaves them
    recovered, as it checks.
    """
    project = bake("postgresql-redis")
    migrate(project, service_env, environment)
    logs = tmp_path_factory.mktemp("replicas")
    with serve(
        project, service_env, environment, [logs / f"{n}.log" for n in range(REPLICAS)]
    ) as served:
        yield served


def account(name: str) -> dict[str, str]:
    """A distinct account, so that each caller has limits of its own."""
    return {**ACCOUNT, "email": f"{name}@example.com", "full_name": name.title()}


def test_a_per_user_limit_holds_across_replicas(replicas: list[Served]) -> None:
    token = register_and_login(replicas[0].base, account("counted"))

    statuses = [get(f"{replicas[n % REPLICAS].base}{ME}", token)[0] for n in range(3 * LIMIT)]

    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == 2 * LIMIT, statuses


def test_a_logout_on_one_replica_ends_the_session_on_the_others(
    replicas: list[Served],
) -> None:
    first, second, third = (served.base for served in replicas)
    token = register_and_login(first, account("leaving"))
    assert [get(f"{base}{ME}", token)[0] for base in (first, second, third)] == [200] * 3

    assert post(f"{second}/api/v1/auth/logout", b"", "application/json", token)[0] == 204

    assert [get(f"{base}{ME}", token)[0] for base in (first, third)] == [401, 401]


def test_a_write_through_one_replica_is_read_through_the_others_cache_included(
    replicas: list[Served], service_env: Path, redis_prefix: str
) -> None:
    first, second, third = (served.base for served in replicas)
    token = register_and_login(first, account("writer"))
    item = json.dumps({"name": "lamp", "price_cents": 1999, "quantity": 1}).encode()
    status, created = post(f"{first}{ITEMS}", item, "application/json", token)
    assert status == 201, created
    item_id = json.loads(created)["id"]
    url = f"{ITEMS}/{item_id}"
    # Read through each replica, so that each would hold the item if it cached for itself.
    before = [json.loads(get(f"{base}{url}", token)[1])["name"] for base in (first, third)]
    cached = redis_command(service_env, "KEYS", f"{redis_prefix}*{item_id}*")

    change = json.dumps({"name": "desk lamp"}).encode()
    assert request("PATCH", f"{second}{url}", change, "application/json", token)[0] == 200

    after = [json.loads(get(f"{base}{url}", token)[1])["name"] for base in (first, third)]
    assert before == ["lamp", "lamp"]
    assert cached.strip(), "the item was not cached in Redis"
    assert after == ["desk lamp", "desk lamp"]


def test_the_database_failing_under_the_serve_command_is_503_then_recovers(
    replicas: list[Served], environment: dict[str, str], database: str
) -> None:
    served = replicas[0].base
    token = register_and_login(served, account("patient"))
    assert get(f"{served}{ME}", token)[0] == 200

    psql(
        f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false',
        # The name is the fixture's own `test_<hex>`; nothing here comes from input.
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'",  # noqa: S608
    )
    try:
        failing = [get(f"{served}{ME}", token) for _ in range(3)]
        not_ready = get(f"{served}/health/ready")
    finally:
        psql(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    recovered = get(f"{served}{ME}", token)
    ready = get(f"{served}/health/ready")

    assert [status for status, _ in failing] == [503, 503, 503], failing
    assert {json.loads(body)["code"] for _, body in failing} == {"service_unavailable"}
    assert not_ready[0] == 503
    assert recovered[0] == 200
    assert ready == (200, '{"status":"ok"}')
