"""Where state shared between requests lives: rate-limit counts and cache entries.

Settings choose, the code stays the same: with REDIS_URL set, both live in that Redis and
every replica sees the same (`core/redis.py`, in services baked with the Redis option);
without it, they live in this process: counts in RATE_LIMIT_STORAGE_URI (memory:// unless
set: this process's memory) and cache entries in a bounded in-process map.
"""

import importlib
from typing import Protocol, cast

from limits.aio.storage import Storage
from limits.storage import storage_from_string

from {{ cookiecutter.package_name }}.core.cache import CacheBackend, MemoryCacheBackend
from {{ cookiecutter.package_name }}.core.ratelimit import (
    LimitsWindow,
    MemoryWindow,
    Window,
)
from {{ cookiecutter.package_name }}.settings import Settings

REDIS_MODULE = f"{__package__}.redis"
IN_MEMORY = "memory://"


class Stores(Protocol):
    """The two stores, opened together at startup and closed together at shutdown."""

    cache: CacheBackend
    rate_limits: Window

    async def clear(self) -> None:
        """Forget every count and cache entry this service has written."""

    async def close(self) -> None:
        """Release the connections."""


class InProcessStores:
    """Counts and cache entries in this process: nothing to connect to, nothing shared."""

    def __init__(self, settings: Settings) -> None:
        uri = (settings.rate_limit_storage_uri or IN_MEMORY).removeprefix("async+")
        self.cache: CacheBackend = MemoryCacheBackend(settings.cache_max_entries)
        self._counts: MemoryWindow | LimitsWindow
        if uri == IN_MEMORY:
            self._counts = MemoryWindow()
        else:
            # The async flavour of the storage the URI names. Failures surface as limits'
            # StorageError, which the rate limiter handles.
            storage = storage_from_string(f"async+{uri}", wrap_exceptions=True)
            self._counts = LimitsWindow(cast("Storage", storage))
        self.rate_limits: Window = self._counts

    async def clear(self) -> None:
        """Forget every count and cache entry."""
        await self.cache.clear()
        await self._counts.reset()

    async def close(self) -> None:
        """Nothing to release."""


def open_stores(settings: Settings) -> Stores:
    """The stores the settings name: Redis with REDIS_URL, this process without it."""
    if settings.redis_url is None:
        return InProcessStores(settings)
    try:
        redis = importlib.import_module(REDIS_MODULE)
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "REDIS_URL is set, but this service was built without Redis support; unset it, "
            "or add the `redis` package and core/redis.py (bake the template with redis=true)"
        ) from error
    stores: Stores = redis.RedisStores(settings.redis_url, settings)
    return stores
