"""The read-through cache on its in-process backend, with a clock the tests move."""

import pytest
from pydantic import BaseModel

from {{ cookiecutter.package_name }}.core.cache import (
    WRITE_HOLD_SECONDS,
    Cache,
    CacheStats,
    CacheUnavailable,
    MemoryCacheBackend,
)
from tests.conftest import logged_events

TTL = 60.0


class Thing(BaseModel):
    name: str


class Clock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Loads `Thing(name)` and counts how often it was asked."""

    def __init__(self, name: str = "kettle") -> None:
        self.name = name
        self.calls = 0

    async def __call__(self) -> Thing:
        self.calls += 1
        return Thing(name=self.name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> Cache:
    return Cache(MemoryCacheBackend(max_entries=100, clock=clock), ttl_seconds=TTL)


async def test_the_first_read_loads_and_the_next_is_served_from_the_cache(cache: Cache) -> None:
    load = Loader()

    first = await cache.get_or_load("thing:1", Thing, load)
    second = await cache.get_or_load("thing:1", Thing, load)

    assert first == second == Thing(name="kettle")
    assert load.calls == 1
    assert cache.stats == CacheStats(hits=1, misses=1, errors=0)


async def test_an_entry_expires_after_its_ttl(cache: Cache, clock: Clock) -> None:
    load = Loader()
    await cache.get_or_load("thing:1", Thing, load)

    clock.now += TTL - 0.001
    await cache.get_or_load("thing:1", Thing, load)
    clock.now += 0.001
    await cache.get_or_load("thing:1", Thing, load)

    assert load.calls == 2
    assert cache.stats == CacheStats(hits=1, misses=2, errors=0)


async def test_after_a_write_reads_load_until_the_hold_passes(cache: Cache, clock: Clock) -> None:
    await cache.get_or_load("thing:1", Thing, Loader("old"))

    await cache.invalidate("thing:1")
    during_hold = [await cache.get_or_load("thing:1", Thing, Loader("new")) for _ in range(2)]
    clock.now += WRITE_HOLD_SECONDS
    after_hold = [await cache.get_or_load("thing:1", Thing, Loader(name)) for name in ("a", "b")]

    assert during_hold == [Thing(name="new")] * 2
    assert after_hold == [Thing(name="a")] * 2
    assert cache.stats == CacheStats(hits=1, misses=4, errors=0)


async def test_a_read_that_loaded_before_a_write_cannot_store_the_old_value(
    cache: Cache,
) -> None:
    async def load_while_a_write_commits() -> Thing:
        await cache.invalidate("thing:1")  # the write lands between this read's load and store
        return Thing(name="old")

    await cache.get_or_load("thing:1", Thing, load_while_a_write_commits)
    after = await cache.get_or_load("thing:1", Thing, Loader("new"))

    assert after == Thing(name="new")


async def test_the_least_recently_used_entry_goes_first(clock: Clock) -> None:
    cache = Cache(MemoryCacheBackend(max_entries=2, clock=clock), ttl_seconds=TTL)
    for key in ("a", "b"):
        await cache.get_or_load(key, Thing, Loader(key))

    await cache.get_or_load("a", Thing, Loader("a"))  # "b" is now the least recently used
    await cache.get_or_load("c", Thing, Loader("c"))
    reloads = {key: Loader(key) for key in ("a", "b")}
    for key, load in reloads.items():
        await cache.get_or_load(key, Thing, load)

    assert {key: load.calls for key, load in reloads.items()} == {"a": 0, "b": 1}


async def test_an_entry_another_release_wrote_is_loaded_afresh(cache: Cache) -> None:
    await cache.backend.put("thing:1", b'{"title": "renamed field"}', TTL)

    loaded = await cache.get_or_load("thing:1", Thing, Loader())

    assert loaded == Thing(name="kettle")
    assert cache.stats == CacheStats(hits=0, misses=1, errors=0)


class UnreachableBackend:
    """A backend whose every call fails, as a cache server that cannot be reached does."""

    async def get(self, key: str) -> bytes | None:
        raise CacheUnavailable("connection refused")

    async def add(self, key: str, value: bytes, ttl_seconds: float) -> None:
        raise CacheUnavailable("connection refused")

    async def put(self, key: str, value: bytes, ttl_seconds: float) -> None:
        raise CacheUnavailable("connection refused")

    async def clear(self) -> None:
        raise CacheUnavailable("connection refused")


@pytest.mark.usefixtures("app")  # logs as the service does
async def test_an_unreachable_backend_is_bypassed_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = Cache(UnreachableBackend(), ttl_seconds=TTL)
    load = Loader()

    with caplog.at_level("WARNING"):
        values = [await cache.get_or_load("thing:1", Thing, load) for _ in range(2)]
        await cache.invalidate("thing:1")

    assert values == [Thing(name="kettle")] * 2
    assert load.calls == 2
    assert cache.stats == CacheStats(hits=0, misses=0, errors=3)
    events = logged_events(caplog, "cache")
    assert [event["operation"] for event in events] == ["get", "get", "invalidate"]
    assert {event["event"] for event in events} == {"cache_unavailable"}
    assert events[0]["error"] == "connection refused"


@pytest.mark.usefixtures("app")
async def test_a_failure_to_store_still_returns_the_value(
    cache: Cache, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache.backend, "add", UnreachableBackend().add)

    with caplog.at_level("WARNING"):
        value = await cache.get_or_load("thing:1", Thing, Loader())

    assert value == Thing(name="kettle")
    assert cache.stats == CacheStats(hits=0, misses=1, errors=1)
    assert logged_events(caplog, "cache")[0]["operation"] == "add"
