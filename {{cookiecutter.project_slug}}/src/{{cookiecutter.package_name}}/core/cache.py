"""A read-through cache of response models, with a time to live and invalidation on writes.

`Cache.get_or_load` returns what a key holds, or loads the value, stores it and returns it;
a service that changes what a key describes calls `Cache.invalidate`. Where entries live is
the backend's business: `MemoryCacheBackend` keeps them in this process, the Redis one
(`core/redis.py`) shares them between replicas. A backend that cannot be reached is bypassed
with a warning: the value is loaded as if nothing were cached.
"""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol, TypeVar

import structlog
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from {{ cookiecutter.package_name }}.core.metrics import CACHE_READS

logger = structlog.get_logger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

# What `invalidate` leaves under a key: no model serializes to it, so it reads as "just
# written". For this long after a write the key is not cached, which outlasts the write's
# commit: a read that loaded the old row before the commit cannot store it afterwards.
WRITE_MARKER = b""
WRITE_HOLD_SECONDS = 5.0


class CacheUnavailable(Exception):
    """The backend could not be reached; callers bypass the cache."""


class CacheBackend(Protocol):
    """Where entries live: bytes under text keys, each with a time to live."""

    async def get(self, key: str) -> bytes | None:
        """What `key` holds, or None when it holds nothing or its entry has expired."""

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store `value` under `key` unless the key already holds something."""

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store `value` under `key`, replacing what it held."""

    async def clear(self) -> None:
        """Remove every entry."""


class MemoryCacheBackend:
    """Entries in this process; beyond `max_entries`, the least recently used are dropped.

    Each process has its own: with several workers or replicas, a write through one process
    reaches the others' copies only when they expire (`CACHE_TTL_SECONDS`).
    """

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    async def get(self, key: str) -> bytes | None:
        """What `key` holds, or None when it holds nothing or its entry has expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store `value` under `key` unless the key already holds something."""
        if await self.get(key) is None:
            await self.put(key, value, ttl_seconds)

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store `value` under `key`, replacing what it held."""
        self._entries[key] = (value, self._clock() + ttl_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def clear(self) -> None:
        """Remove every entry."""
        self._entries.clear()


_METRIC_LABELS = {"hits": "hit", "misses": "miss", "errors": "error"}


@dataclass
class CacheStats:
    """How reads have gone since start: served from the cache, loaded, or backend failures.

    Each read is also counted in the `cache_reads_total` metric, across the process's caches.
    """

    hits: int = 0
    misses: int = 0
    errors: int = 0

    def count(self, result: Literal["hits", "misses", "errors"]) -> None:
        """One more read that went this way."""
        setattr(self, result, getattr(self, result) + 1)
        CACHE_READS.labels(_METRIC_LABELS[result]).inc()


class Cache:
    """The application's read-through cache; one per application, built at startup."""

    def __init__(self, backend: CacheBackend, ttl_seconds: float) -> None:
        self.backend = backend
        self.ttl_seconds = ttl_seconds
        self.stats = CacheStats()

    async def get_or_load(
        self, key: str, model: type[ModelT], load: Callable[[], Awaitable[ModelT]]
    ) -> ModelT:
        """The `model` cached under `key`, or what `load` returns, kept for the next read."""
        try:
            cached = await self.backend.get(key)
        except CacheUnavailable as error:
            self._bypassed("get", key, error)
            return await load()
        if cached:
            try:
                value = model.model_validate_json(cached)
            except ValidationError:
                pass  # written by an older release; loaded afresh until it expires
            else:
                self.stats.count("hits")
                return value
        self.stats.count("misses")
        value = await load()
        if cached is None:
            try:
                await self.backend.add(key, value.model_dump_json().encode(), self.ttl_seconds)
            except CacheUnavailable as error:
                self._bypassed("add", key, error)
        return value

    async def invalidate(self, key: str) -> None:
        """Forget what `key` holds, after a write; for a few seconds it is loaded, not kept."""
        try:
            await self.backend.put(key, WRITE_MARKER, WRITE_HOLD_SECONDS)
        except CacheUnavailable as error:
            # The old entry may outlive the outage, until CACHE_TTL_SECONDS at most.
            self._bypassed("invalidate", key, error)

    def _bypassed(self, operation: str, key: str, error: CacheUnavailable) -> None:
        self.stats.count("errors")
        logger.warning("cache_unavailable", operation=operation, key=key, error=str(error))


async def get_cache(request: Request) -> Cache:
    """The application's cache."""
    cache: Cache = request.app.state.cache
    return cache


CacheDep = Annotated[Cache, Depends(get_cache)]
