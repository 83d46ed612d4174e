"""Redis: one connection pool per process, shared by the rate limits and the cache.

Built at startup from settings (REDIS_URL, REDIS_POOL_SIZE and the timeouts) and closed at
shutdown. Every key starts with REDIS_KEY_PREFIX. Nothing is retried and the timeouts are
short: while Redis is unreachable, rate limits fail open (or closed, RATE_LIMIT_FAIL_OPEN)
and the cache is bypassed, so each request should find that out quickly.
"""

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from limits import RateLimitItem
from limits.errors import StorageError
from pydantic import RedisDsn
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from {{ cookiecutter.package_name }}.core.cache import CacheBackend, CacheUnavailable
from {{ cookiecutter.package_name }}.core.ratelimit import Usage, Window
from {{ cookiecutter.package_name }}.settings import Settings

_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")
_BATCH = 500


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    """Report a failed Redis call as `CacheUnavailable`, which the cache knows to bypass."""
    try:
        yield
    except RedisError as error:
        raise CacheUnavailable(f"{type(error).__name__}: {error}") from error


class RedisCacheBackend:
    """Cache entries in Redis under `prefix`; Redis itself expires them."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        """What `key` holds, or None when it holds nothing or its entry has expired."""
        with _unavailable_on_error():
            value = await self._client.get(self._prefix + key)
        return cast("bytes | None", value)  # the client returns bytes: nothing is decoded

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store `value` under `key` unless the key already holds something."""
        with _unavailable_on_error():
            await self._client.set(self._prefix + key, value, px=_millis(ttl_seconds), nx=True)

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store `value` under `key`, replacing what it held."""
        with _unavailable_on_error():
            await self._client.set(self._prefix + key, value, px=_millis(ttl_seconds))

    async def clear(self) -> None:
        """Remove every entry."""
        with _unavailable_on_error():
            await _unlink_all(self._client, self._prefix)


# A moving window as a sorted set of request times: drop those older than the window, count
# the rest, add this request when it fits (ARGV[4] names it; empty to count nothing), and
# report what is left and when the oldest request leaves the window. One round trip.
_MOVING_WINDOW = """
local now, limit, expiry = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - expiry))
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  allowed = 1
  if ARGV[4] ~= '' then
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('PEXPIRE', KEYS[1], math.ceil(expiry * 1000))
    count = count + 1
  end
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
local reset = 0
if oldest then reset = math.ceil(tonumber(oldest) + expiry - now) end
return {allowed, limit - count, reset}
"""


class RedisWindow:
    """Moving windows in Redis under `prefix`, shared by every replica; one script call per
    request counts it and reads the window for the headers."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._script = client.register_script(_MOVING_WINDOW)
        self._client = client
        self._prefix = prefix

    def _key(self, limit: RateLimitItem, name: str, key: str) -> str:
        return f"{self._prefix}{name}/{key}/{limit.amount}/{limit.get_expiry()}"

    async def count(self, limit: RateLimitItem, name: str, key: str, *, hit: bool) -> Usage:
        """Count one request by `key` when `hit` and it fits, and report the window."""
        now = time.time()
        request = f"{now}:{secrets.token_hex(4)}" if hit else ""
        arguments: list[str | float] = [now, limit.amount, limit.get_expiry(), request]
        try:
            allowed, remaining, reset = await self._script([self._key(limit, name, key)], arguments)
        except RedisError as error:
            raise StorageError(error) from error
        return Usage(bool(allowed), max(0, int(remaining)), max(0, int(reset)))

    async def clear(self, limit: RateLimitItem, name: str, key: str) -> None:
        """Forget what `key` has used of the limit."""
        try:
            await self._client.delete(self._key(limit, name, key))
        except RedisError as error:
            raise StorageError(error) from error


class RedisStores:
    """Rate-limit counts and cache entries in one Redis, on one connection pool."""

    def __init__(self, url: RedisDsn, settings: Settings) -> None:
        self.prefix = settings.redis_key_prefix
        self.pool = BlockingConnectionPool.from_url(
            str(url),
            max_connections=settings.redis_pool_size,
            timeout=settings.redis_pool_timeout_seconds,
            socket_connect_timeout=settings.redis_connect_timeout_seconds,
            socket_timeout=settings.redis_socket_timeout_seconds,
            # CLIENT LIST in Redis names each connection after the prefix, without its colon.
            client_name=self.prefix.rstrip(":") or None,
        )
        self.client = Redis(connection_pool=self.pool)
        self.cache: CacheBackend = RedisCacheBackend(self.client, f"{self.prefix}cache:")
        self.rate_limits: Window = RedisWindow(self.client, f"{self.prefix}limits:")

    async def clear(self) -> None:
        """Delete every key under the prefix."""
        await _unlink_all(self.client, self.prefix)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.pool.aclose()


async def _unlink_all(client: Redis, prefix: str) -> None:
    """Delete the keys starting with `prefix`, found with SCAN so that Redis never blocks."""
    pattern = _GLOB_SPECIAL.sub(r"\\\1", prefix) + "*"
    batch: list[bytes] = []
    async for key in client.scan_iter(match=pattern, count=_BATCH):
        batch.append(key)
        if len(batch) == _BATCH:
            await client.unlink(*batch)
            batch.clear()
    if batch:
        await client.unlink(*batch)


def _millis(seconds: float) -> int:
    return max(1, round(seconds * 1000))
