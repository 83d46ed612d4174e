"""Redis: counts and cache entries that every instance shares; the rate limits' connection of
their own; and a service that keeps answering while Redis is down. Runs against the Redis the
settings name (REDIS_URL)."""

import asyncio
import socket
import time
from asyncio import StreamReader, StreamWriter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from limits import parse
from limits.errors import StorageError
from redis.asyncio import Connection, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.utils import HIREDIS_AVAILABLE

from {{ cookiecutter.package_name }}.application import create_app
from {{ cookiecutter.package_name }}.core.cache import CacheStats
from {{ cookiecutter.package_name }}.core.redis import RedisStores, ScriptConnection
from {{ cookiecutter.package_name }}.core.stores import Stores, open_stores
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import ME_URL, PASSWORD, Account, http_client, logged_events, login, own_app
from tests.problem_assertions import assert_problem

ITEMS_URL = "/api/v1/items"


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """A client of the tests' Redis, to look at what the service stored."""
    assert settings.redis_url is not None, "set REDIS_URL to run the Redis tests"
    client = Redis.from_url(str(settings.redis_url))
    yield client
    await client.aclose()


@pytest.fixture
def pool_settings(settings: Settings) -> Settings:
    """The test's settings with a key prefix of their own, which also names the pool's
    connections: the tests' shared stores keep one open under the run's prefix."""
    return settings.model_copy(update={"redis_key_prefix": f"{settings.redis_key_prefix}own:"})


def unreachable(settings: Settings) -> Settings:
    """`settings` with REDIS_URL on a local port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})


def client_of(app: FastAPI, account: Account) -> AsyncClient:
    """A client of `app` that sends `account`'s access token."""
    token = account.tokens["access_token"]
    return http_client(app, headers={"Authorization": f"Bearer {token}"})


async def connections_named(redis: Redis, name: str) -> int:
    """How many connections to Redis carry the client name `name`."""
    clients: list[dict[str, Any]] = await redis.client_list()
    return sum(client["name"] == name for client in clients)


async def test_limits_and_cache_connect_as_the_settings_say(
    pool_settings: Settings, redis: Redis
) -> None:
    settings = pool_settings
    stores: Stores = open_stores(settings)
    assert isinstance(stores, RedisStores)
    name = settings.redis_key_prefix.rstrip(":")

    await stores.rate_limits.count(parse("1/minute"), "policy", "counted", hit=True)
    await stores.cache.put("entry", b"value", 60)
    open_connections = await connections_named(redis, name)
    await stores.close()

    assert open_connections == 2  # the limits' own and one of the pool's
    assert await connections_named(redis, name) == 0
    assert stores.pool.max_connections == settings.redis_pool_size
    options = stores.pool.connection_kwargs
    assert options["socket_timeout"] == settings.redis_socket_timeout_seconds
    assert options["socket_connect_timeout"] == settings.redis_connect_timeout_seconds


# Fails when asked to, and otherwise returns its key and argument.
SCRIPT = "if ARGV[1] == 'fail' then return redis.error_reply('refused') end return {KEYS, ARGV}"


def redis_stores(settings: Settings) -> RedisStores:
    stores = open_stores(settings)
    assert isinstance(stores, RedisStores)
    return stores


@pytest.fixture
async def script(pool_settings: Settings) -> AsyncIterator[ScriptConnection]:
    """The script on a connection opened as the stores' pool opens its own."""
    stores = redis_stores(pool_settings)
    connection = ScriptConnection(stores.pool, SCRIPT)
    yield connection
    await connection.close()
    await stores.close()


async def test_script_calls_share_one_connection_and_keep_their_order(
    script: ScriptConnection, pool_settings: Settings, redis: Redis
) -> None:
    replies = await asyncio.gather(*(script(("key",), (number,)) for number in range(200)))

    assert replies == [[[b"key"], [str(number).encode()]] for number in range(200)]
    assert await connections_named(redis, pool_settings.redis_key_prefix.rstrip(":")) == 1


async def test_a_cancelled_call_leaves_the_others_their_own_replies(
    script: ScriptConnection,
) -> None:
    await script(("key",), ("open",))
    calls = [asyncio.ensure_future(script(("key",), (number,))) for number in range(3)]
    await asyncio.sleep(0)  # all three sent: the second's reply comes, for no one
    calls[1].cancel()
    replies = await asyncio.gather(*calls, return_exceptions=True)

    assert replies[0] == [[b"key"], [b"0"]]
    assert isinstance(replies[1], asyncio.CancelledError)
    assert replies[2] == [[b"key"], [b"2"]]
    assert await script(("key",), (3,)) == [[b"key"], [b"3"]]


async def test_the_connection_keeps_itself_alive_as_redis_py_would(
    script: ScriptConnection, pool_settings: Settings
) -> None:
    pool = redis_stores(pool_settings).pool
    like = pool.connection_class(**pool.connection_kwargs)
    assert isinstance(like, Connection)
    pools_own = cast("dict[int, int]", like.socket_keepalive_options)
    await script(("key",), (1,))
    connection = script.socket
    assert connection is not None

    assert connection.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert pools_own
    for option, value in pools_own.items():
        assert connection.getsockopt(socket.IPPROTO_TCP, option) == value


async def test_closing_while_it_opens_leaves_no_connection(
    pool_settings: Settings, redis: Redis
) -> None:
    stores = redis_stores(pool_settings)
    counting = asyncio.ensure_future(
        stores.rate_limits.count(parse("1/minute"), "p", "k", hit=True)
    )
    await asyncio.sleep(0)  # opening
    await stores.close()
    counted = await outcome(counting)

    assert isinstance(counted, StorageError)
    assert "closed by the service" in str(counted.storage_error)
    assert await connections_named(redis, pool_settings.redis_key_prefix.rstrip(":")) == 0


async def test_a_flushed_script_is_sent_again(script: ScriptConnection, redis: Redis) -> None:
    await script(("key",), ("before",))
    await redis.script_flush()

    assert await script(("key",), ("after",)) == [[b"key"], [b"after"]]


async def test_an_error_reply_is_raised_and_the_connection_serves_on(
    script: ScriptConnection,
) -> None:
    replies = await asyncio.gather(
        script(("key",), ("fail",)), script(("key",), ("next",)), return_exceptions=True
    )

    assert isinstance(replies[0], ResponseError)
    assert str(replies[0]).endswith("refused")
    assert replies[1] == [[b"key"], [b"next"]]


async def test_a_lost_connection_is_opened_again(
    script: ScriptConnection, pool_settings: Settings, redis: Redis
) -> None:
    await script(("key",), (1,))
    name = pool_settings.redis_key_prefix.rstrip(":")
    [own] = [client for client in await redis.client_list() if client["name"] == name]
    await redis.client_kill_filter(_id=own["id"])

    outcomes = [await outcome(script(("key",), (1,))) for _ in range(3)]

    # The first call may find out that the connection was lost; the next open a new one.
    assert outcomes[1:] == [[[b"key"], [b"1"]]] * 2
    assert outcomes[0] == [[b"key"], [b"1"]] or isinstance(outcomes[0], RedisConnectionError)


async def outcome(call: Awaitable[object]) -> object:
    """What `call` returns, or the Redis or storage error it raises."""
    try:
        return await call
    except (RedisError, StorageError) as error:
        return error


def answering(answer: bytes) -> Callable[[StreamReader, StreamWriter], Awaitable[None]]:
    """A server's connection handler that accepts the client's name, then writes `answer` to
    what it reads next, and closes."""

    async def handle(reader: StreamReader, writer: StreamWriter) -> None:
        await reader.read(4096)
        writer.write(b"+OK\r\n")  # CLIENT SETNAME
        if await reader.read(4096):
            writer.write(answer)
        await reader.read()
        writer.close()

    return handle


@asynccontextmanager
async def stores_on(
    settings: Settings, handle: Callable[[StreamReader, StreamWriter], Awaitable[None]]
) -> AsyncIterator[RedisStores]:
    """Stores whose Redis is a server on this loop that `handle` answers."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    stores = redis_stores(settings.model_copy(update={"redis_url": url}))
    async with server:
        yield stores
        await stores.close()


async def test_a_silent_server_fails_the_waiting_calls_together_on_its_timeout(
    pool_settings: Settings,
) -> None:
    settings = pool_settings.model_copy(update={"redis_socket_timeout_seconds": 0.2})
    async with stores_on(settings, answering(b"")) as stores:
        started = time.perf_counter()
        counts = [stores.rate_limits.count(parse("1/minute"), "p", "k", hit=True) for _ in range(5)]
        outcomes = await asyncio.gather(*counts, return_exceptions=True)
        waited = time.perf_counter() - started

    causes = [o.storage_error for o in outcomes if isinstance(o, StorageError)]
    assert len(causes) == 5
    assert all(isinstance(cause, RedisTimeoutError) for cause in causes)
    assert waited < 0.2 * 3  # together: one after another would take five times as long


async def test_a_garbled_reply_fails_the_call(pool_settings: Settings) -> None:
    async with stores_on(pool_settings, answering(b"?not redis\r\n")) as stores:
        failed = await outcome(stores.rate_limits.count(parse("1/minute"), "p", "k", hit=True))

    assert isinstance(failed, StorageError)
    assert "Unreadable reply" in str(failed.storage_error)


async def test_the_connection_selects_the_database_and_authenticates(
    pool_settings: Settings,
) -> None:
    url = str(pool_settings.redis_url).rsplit("/", 1)[0]
    other = redis_stores(pool_settings.model_copy(update={"redis_url": f"{url}/1"}))
    await other.rate_limits.count(parse("1/minute"), "p", "k", hit=True)
    in_database_1 = [key async for key in other.client.scan_iter(match="*limits:p/k/*")]
    await other.clear()
    await other.close()
    # The tests' Redis has no password: AUTH is refused, which shows that it was sent.
    with_password = url.replace("redis://", "redis://someone:secret@", 1)
    stores = redis_stores(pool_settings.model_copy(update={"redis_url": with_password}))
    refused = await outcome(stores.rate_limits.count(parse("1/minute"), "p", "k", hit=True))
    await stores.close()

    assert len(in_database_1) == 1
    assert isinstance(refused, StorageError)
    assert "AUTH" in str(refused.storage_error) or "password" in str(refused.storage_error)


def test_replies_are_parsed_by_hiredis() -> None:
    # The `redis[hiredis]` extra: without it redis-py falls back to its own, slower parser.
    assert HIREDIS_AVAILABLE


async def test_cache_entries_live_under_the_prefix_and_expire_in_redis(
    user: Account, settings: Settings, redis: Redis
) -> None:
    item = (await user.client.post(ITEMS_URL, json={"name": "Mug", "price_cents": 1})).json()

    await user.client.get(f"{ITEMS_URL}/{item['id']}")

    key = f"{settings.redis_key_prefix}cache:item:{item['id']}"
    assert 0 < await redis.pttl(key) <= settings.cache_ttl_seconds * 1000
    stored = await redis.get(key)
    assert isinstance(stored, bytes)
    assert stored.decode() == (await user.client.get(f"{ITEMS_URL}/{item['id']}")).text


async def test_rate_limits_count_under_the_prefix(
    user: Account, settings: Settings, redis: Redis
) -> None:
    await user.client.get(ME_URL)

    # A set: SCAN may return a key twice while Redis resizes its table.
    keys = {key async for key in redis.scan_iter(match=f"{settings.redis_key_prefix}limits:*")}
    [key] = keys
    assert f"limits:default/user:{user.id}/".encode() in key


async def test_two_instances_let_exactly_the_limit_through_between_them(
    settings: Settings, user: Account
) -> None:
    low = settings.model_copy(update={"rate_limit_default": "3/minute"})
    async with (
        own_app(low) as first,
        own_app(low) as second,
        client_of(first, user) as one,
        client_of(second, user) as two,
    ):
        answers = [(await client.get(ME_URL)).status_code for client in (one, two) * 3]

    assert answers == [200, 200, 200, 429, 429, 429]


async def test_a_change_through_one_instance_reaches_the_others_cache(
    settings: Settings, user: Account
) -> None:
    async with (
        own_app(settings) as first,
        own_app(settings) as second,
        client_of(first, user) as writer,
        client_of(second, user) as reader,
    ):
        item = (await writer.post(ITEMS_URL, json={"name": "Mug", "price_cents": 1})).json()
        target = f"{ITEMS_URL}/{item['id']}"
        await reader.get(target)
        await writer.patch(target, json={"price_cents": 2})
        after = await reader.get(target)

    assert after.json()["price_cents"] == 2


class TestWithoutRedis:
    """REDIS_URL names a port where nothing listens."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return unreachable(settings)

    async def test_the_service_answers_and_limits_fail_open(
        self, app: FastAPI, user: Account, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level("WARNING"):
            created = await user.client.post(ITEMS_URL, json={"name": "Mug", "price_cents": 1})
            target = f"{ITEMS_URL}/{created.json()['id']}"
            read = [await user.client.get(target) for _ in range(2)]
            changed = await user.client.patch(target, json={"price_cents": 2})
            deleted = await user.client.delete(target)
            logged_in = await login(user.client, user.email, PASSWORD)

        answers = [created, *read, changed, deleted, logged_in]
        assert [answer.status_code for answer in answers] == [201, 200, 200, 200, 204, 200]
        assert not any("ratelimit" in answer.headers for answer in answers)
        stats: CacheStats = app.state.cache.stats
        assert (stats.hits, stats.errors) == (0, 4)  # two reads, two invalidations
        events = logged_events(caplog)
        limits = [event for event in events if event["event"] == "rate_limit_storage_unavailable"]
        assert [event["policy"] for event in limits[:2]] == ["default", "default"]
        assert all(event["fail_open"] is True for event in limits)
        assert "Connect" in limits[0]["error"]
        cache = [event["operation"] for event in events if event["event"] == "cache_unavailable"]
        assert cache == ["get", "get", "invalidate", "invalidate"]

    async def test_limits_fail_closed_when_configured(
        self, settings: Settings, user: Account
    ) -> None:
        closed = settings.model_copy(update={"rate_limit_fail_open": False})
        async with own_app(closed) as app, client_of(app, user) as client:
            response = await client.get(ME_URL)

        assert_problem(response, 503, "rate_limit_unavailable")
        assert response.headers["retry-after"]


async def test_clearing_deletes_only_the_keys_under_the_prefix(
    settings: Settings, redis: Redis
) -> None:
    # Glob characters in the prefix are taken literally; more keys than one batch deletes.
    odd = settings.model_copy(update={"redis_key_prefix": f"{settings.redis_key_prefix}[a]*"})
    stores = open_stores(odd)
    await redis.mset({f"{odd.redis_key_prefix}key-{number}": b"" for number in range(600)})
    await stores.cache.put("entry", b"value", 60)
    neighbour = f"{settings.redis_key_prefix}a-neighbour"
    await redis.set(neighbour, b"kept", px=60_000)

    await stores.cache.clear()
    entry_left = await redis.exists(f"{odd.redis_key_prefix}cache:entry")
    await stores.clear()
    await stores.close()

    assert entry_left == 0
    # A set: SCAN may return a key twice while Redis resizes its table, as it may after
    # hundreds of deletions.
    left = {key async for key in redis.scan_iter(match=f"{settings.redis_key_prefix}*")}
    assert left == {neighbour.encode()}


async def test_shutdown_closes_the_connections(pool_settings: Settings, redis: Redis) -> None:
    settings = pool_settings
    app = create_app(settings)
    async with app.router.lifespan_context(app), http_client(app) as client:
        await client.get(ITEMS_URL)
        during = await connections_named(redis, settings.redis_key_prefix.rstrip(":"))

    assert during == 1
    assert await connections_named(redis, settings.redis_key_prefix.rstrip(":")) == 0
