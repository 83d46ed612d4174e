"""Redis: the rate limits' counts and the cache, shared by every replica.

Built at startup from settings (REDIS_URL, REDIS_POOL_SIZE and the timeouts) and closed at
shutdown. Every key starts with REDIS_KEY_PREFIX. Nothing is retried and the timeouts are
short: while Redis is unreachable, rate limits fail open (or closed, RATE_LIMIT_FAIL_OPEN)
and the cache is bypassed, so each request should find that out quickly.

The cache and the occasional commands go through redis-py's connection pool. The rate
limits, which make one script call on every request, have a connection of their own
(`ScriptConnection`): their calls are written to it as they come and the replies matched
to them in order, with no pool to check a connection out of. Through redis-py's client, a
call counted about five times the instructions, and the rate limit a fifth of a whole
`users/me` request. The connection is opened as the pool's would be (TLS, keepalive, AUTH,
client name, database); with the OpenTelemetry option, redis-py's calls are traced and
these are not.
"""

import asyncio
import hashlib
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import hiredis
from limits import RateLimitItem
from limits.errors import StorageError
from pydantic import RedisDsn
from redis.asyncio import BlockingConnectionPool, Connection, ConnectionPool, Redis, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


Argument = str | int | float | bytes
# A reply as hiredis reads it: integer, string (as bytes), array, nil, or an error reply.
Reply = int | bytes | list[Any] | ResponseError | None


def _command(*parts: Argument) -> bytes:
    """`parts` as one command in Redis's protocol."""
    packed: bytes = hiredis.pack_command(parts)  # type: ignore[arg-type]  # stub: a 1-tuple
    return packed


class _Replies(asyncio.Protocol):
    """A connection's replies, handed to its commands in the order they were written, as
    Redis answers them. A connection that fails or falls silent fails every command still
    waiting, and is not written to again."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._waiting: deque[asyncio.Future[Reply]] = deque()
        self._transport: asyncio.Transport | None = None
        self._unsent: list[bytes] = []
        self.closed = asyncio.get_running_loop().create_future()

    @property
    def is_open(self) -> bool:
        """Whether commands may still be written to the connection."""
        return self._transport is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)
        self.socket: socket.socket = transport.get_extra_info("socket")

    def send(self, command: bytes) -> asyncio.Future[Reply]:
        """Queue `command`; its reply, or an error reply as a `ResponseError`, to await.

        The commands queued while the event loop runs its ready callbacks are written in one
        go after them: under load, one write carries several requests' calls, and Redis
        reads and answers them together.
        """
        if self._transport is None:  # it failed while the caller waited for something else
            raise RedisConnectionError("Connection to Redis lost")
        loop = self.closed.get_loop()
        reply = loop.create_future()
        self._waiting.append(reply)
        if not self._unsent:
            loop.call_soon(self._write)
        self._unsent.append(command)
        return reply

    def _write(self) -> None:
        if self._transport is not None and self._unsent:
            self._transport.write(b"".join(self._unsent))
        self._unsent.clear()

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while (reply := self._reader.gets()) is not False:
                waiting = self._waiting.popleft()
                if not waiting.done():
                    waiting.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as error:  # garbled, or unasked for
            self.fail(RedisConnectionError(f"Unreadable reply from Redis: {error!r}"))

    def fail(self, error: RedisError) -> None:
        """Close the connection and fail every command waiting with `error`."""
        if self._transport is not None:
            self._transport.abort()
            self._transport = None
        self._unsent.clear()
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_exception(error)

    def time_out(self, reply: asyncio.Future[Reply]) -> None:
        """`reply` is late: the connection is taken for lost, as redis-py's would be."""
        if not reply.done():  # not answered in the same turn of the loop as this timer
            self.fail(RedisTimeoutError("Timeout reading from Redis"))

    def close(self) -> None:
        """Close the connection now; calls still waiting fail."""
        self.fail(RedisConnectionError("Connection to Redis closed by the service"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self.fail(RedisConnectionError(f"Connection to Redis lost: {exc or 'closed by Redis'}"))
        if not self.closed.done():
            self.closed.set_result(None)


class ScriptConnection:
    """One connection to Redis for the calls of one Lua script, sent without waiting for the
    calls before them (pipelined), opened on first use and again after it fails.

    Opened as `pool` opens its connections: the same address, TLS, credentials, client name,
    database and timeouts. A reply later than the pool's socket timeout closes it.
    """

    def __init__(self, pool: ConnectionPool, source: str) -> None:
        # One of the pool's connections, never opened: its settings are the ones to copy.
        like = pool.connection_class(**pool.connection_kwargs)
        if not isinstance(like, Connection):
            raise TypeError(f"TCP connections only, not {type(like).__name__}")
        self._host, self._port = like.host, int(like.port)
        self._tls = like.ssl_context.get() if isinstance(like, SSLConnection) else None
        self._keepalive = (
            cast("Mapping[int, int | bytes]", like.socket_keepalive_options)
            if like.socket_keepalive
            else None
        )
        self._connect_timeout = like.socket_connect_timeout
        self._timeout: float = pool.connection_kwargs["socket_timeout"]  # RedisStores sets it
        self._greeting = []
        if like.password:
            credentials = [like.username, like.password] if like.username else [like.password]
            self._greeting.append(_command("AUTH", *credentials))
        if like.client_name:
            self._greeting.append(_command("CLIENT", "SETNAME", like.client_name))
        if like.db:
            self._greeting.append(_command("SELECT", like.db))
        self._source = source
        self._sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._replies: _Replies | None = None
        self._opening: asyncio.Future[_Replies] | None = None
        self._closings = 0

    @property
    def socket(self) -> socket.socket | None:
        """The open connection's socket, if any: to look at, not to use."""
        return self._replies.socket if self._replies is not None else None

    async def __call__(self, keys: Sequence[str], arguments: Sequence[Argument]) -> Reply:
        """Run the script on `keys` and `arguments`; its reply. Redis errors are raised."""
        replies = self._replies
        if replies is None or not replies.is_open:
            replies = await self._open()
        reply = await self._reply(
            replies, _command("EVALSHA", self._sha, len(keys), *keys, *arguments)
        )
        if isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT"):
            # Redis restarted or its scripts were flushed: EVAL runs the script and keeps it.
            reply = await self._reply(
                replies, _command("EVAL", self._source, len(keys), *keys, *arguments)
            )
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    async def _reply(self, replies: _Replies, command: bytes) -> Reply:
        reply = replies.send(command)
        late = reply.get_loop().call_later(self._timeout, replies.time_out, reply)
        try:
            return await reply
        finally:
            late.cancel()

    async def _open(self) -> _Replies:
        """The connection, opened once for every call waiting for it: when opening fails,
        they all fail at once rather than each trying in turn."""
        if self._opening is None or self._opening.done():
            self._opening = asyncio.ensure_future(self._connect(self._closings))
            self._opening.add_done_callback(_retrieve)
        return await asyncio.shield(self._opening)

    async def _connect(self, closings: int) -> _Replies:
        """A new connection; closed again if `close` is called before it is ready."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, replies = await loop.create_connection(
                    _Replies, self._host, self._port, ssl=self._tls
                )
        except (OSError, TimeoutError) as error:
            raise RedisConnectionError(
                f"Error connecting to {self._host}:{self._port}: {error!r}"
            ) from error
        try:
            await self._greet(replies)
        except BaseException:
            replies.close()
            raise
        if closings != self._closings:  # `close` ran meanwhile: this one must not stay open
            replies.close()
            await replies.closed
            raise RedisConnectionError("Connection to Redis closed by the service")
        self._replies = replies
        return replies

    async def _greet(self, replies: _Replies) -> None:
        """Set the connection up as redis-py would: keepalive, AUTH, name, database."""
        if self._keepalive is not None:  # a peer gone silent is noticed while idle
            try:
                with_keepalive(replies.socket, self._keepalive)
            except OSError as error:  # an option this platform refuses, as redis-py reports it
                raise RedisConnectionError(f"Cannot set TCP keepalive: {error!r}") from error
        for command in self._greeting:
            reply = await self._reply(replies, command)
            if isinstance(reply, ResponseError):
                raise reply

    async def close(self) -> None:
        """Close the connection, and any being opened, and wait until it is closed."""
        self._closings += 1
        if self._opening is not None and not self._opening.done():
            await asyncio.wait([self._opening])  # it closes what it opened, seeing `_closings`
        replies, self._replies = self._replies, None
        if replies is not None:
            replies.close()
            await replies.closed


def with_keepalive(connection: socket.socket, options: Mapping[int, int | bytes]) -> None:
    """Turn TCP keepalive on for `connection`, with redis-py's `socket_keepalive_options`."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in options.items():
        connection.setsockopt(socket.IPPROTO_TCP, option, value)


def _retrieve(opening: "asyncio.Future[_Replies]") -> None:
    """Mark a failed opening's error as seen, should every call waiting for it be gone."""
    if not opening.cancelled():
        opening.exception()


class RedisWindow:
    """Moving windows in Redis under `prefix`, shared by every replica; one script call per
    request, on a connection of its own, counts it and reads the window for the headers."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self._script = ScriptConnection(client.connection_pool, _MOVING_WINDOW)
        self._client = client
        self._prefix = prefix

    def _key(self, limit: RateLimitItem, name: str, key: str) -> str:
        return f"{self._prefix}{name}/{key}/{limit.amount}/{limit.get_expiry()}"

    async def count(self, limit: RateLimitItem, name: str, key: str, *, hit: bool) -> Usage:
        """Count one request by `key` when `hit` and it fits, and report the window."""
        now = time.time()
        request = f"{now}:{secrets.token_hex(4)}" if hit else ""
        arguments = (now, limit.amount, limit.get_expiry(), request)
        try:
            reply = await self._script((self._key(limit, name, key),), arguments)
        except RedisError as error:
            raise StorageError(error) from error
        allowed, remaining, reset = cast("list[int]", reply)  # what the script returns
        return Usage(bool(allowed), max(0, int(remaining)), max(0, int(reset)))

    async def close(self) -> None:
        """Close the script's connection."""
        await self._script.close()

    async def clear(self, limit: RateLimitItem, name: str, key: str) -> None:
        """Forget what `key` has used of the limit."""
        try:
            await self._client.delete(self._key(limit, name, key))
        except RedisError as error:
            raise StorageError(error) from error


class RedisStores:
    """Rate-limit counts and cache entries in one Redis: the counts on a connection of their
    own, the rest on a pool."""

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
        self._window = RedisWindow(self.client, f"{self.prefix}limits:")
        self.rate_limits: Window = self._window

    async def clear(self) -> None:
        """Delete every key under the prefix."""
        await _unlink_all(self.client, self.prefix)

    async def close(self) -> None:
        """Close every connection."""
        await self._window.close()
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
