"""The settings choose where counts and cache entries live; the code is the same."""

import sys

import pytest
from limits import parse
from pydantic import RedisDsn, ValidationError

from {{ cookiecutter.package_name }}.core.ratelimit import MemoryWindow
from {{ cookiecutter.package_name }}.core.stores import (
    REDIS_MODULE,
    InProcessStores,
    open_stores,
)
from {{ cookiecutter.package_name }}.settings import Settings

REDIS_URL = RedisDsn("redis://127.0.0.1:6379/0")


@pytest.fixture
def in_process(settings: Settings) -> Settings:
    """The test's settings without Redis."""
    return settings.model_copy(update={"redis_url": None})


@pytest.mark.parametrize("uri", [None, "memory://", "async+memory://"])
def test_without_redis_everything_stays_in_this_process(in_process: Settings, uri: str) -> None:
    stores = open_stores(in_process.model_copy(update={"rate_limit_storage_uri": uri}))

    assert isinstance(stores, InProcessStores)
    assert isinstance(stores.rate_limits, MemoryWindow)


async def test_clearing_forgets_counts_and_entries(in_process: Settings) -> None:
    stores = open_stores(in_process)
    limit = parse("1/minute")
    await stores.rate_limits.count(limit, "policy", "key", hit=True)
    await stores.cache.put("key", b"value", 60)

    await stores.clear()

    assert (await stores.rate_limits.count(limit, "policy", "key", hit=True)).allowed
    assert await stores.cache.get("key") is None
    await stores.close()


def test_redis_url_without_redis_support_is_refused_plainly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, REDIS_MODULE, None)  # as in a service baked without Redis

    with pytest.raises(RuntimeError, match="built without Redis support"):
        open_stores(settings.model_copy(update={"redis_url": REDIS_URL}))


def test_rate_limit_storage_cannot_name_a_redis() -> None:
    with pytest.raises(ValidationError, match="set REDIS_URL instead"):
        Settings(_env_file=None, rate_limit_storage_uri="async+redis://cache.internal:6379")


def test_rate_limit_storage_and_redis_url_are_not_both_set() -> None:
    with pytest.raises(ValidationError, match="unset RATE_LIMIT_STORAGE_URI"):
        Settings(_env_file=None, redis_url=REDIS_URL, rate_limit_storage_uri="memory://")
