"""Rate limits when their counts cannot be reached: through uncounted, or 503 when configured;
and the moving window counted in this process."""

import time
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.errors import StorageError

from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailable
from {{ cookiecutter.package_name }}.core.ratelimit import (
    LimitsWindow,
    MemoryWindow,
    RateLimiter,
    Usage,
)
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import ME_URL, logged_events
from tests.problem_assertions import assert_problem


class UnreachableStorage(MemoryStorage):
    """Counts no one can reach: every call fails as it does when the server is down."""

    async def acquire_entry(self, *args: Any, **kwargs: Any) -> bool:
        raise StorageError(ConnectionRefusedError("Connection refused"))

    async def get_moving_window(self, *args: Any, **kwargs: Any) -> tuple[float, int]:
        raise StorageError(ConnectionRefusedError("Connection refused"))

    async def clear(self, *args: Any, **kwargs: Any) -> None:
        raise StorageError(ConnectionRefusedError("Connection refused"))


def unreachable_limiter(settings: Settings, *, fail_open: bool) -> RateLimiter:
    """A rate limiter on counts it cannot reach."""
    configured = settings.model_copy(update={"rate_limit_fail_open": fail_open})
    return RateLimiter(configured, LimitsWindow(UnreachableStorage()))


@pytest.mark.usefixtures("app")  # logs as the service does
async def test_failing_open_lets_requests_through_uncounted_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = unreachable_limiter(settings, fail_open=True)
    policy = limiter.policies["login"]

    with caplog.at_level("WARNING"):
        verdicts = [await limiter.hit(policy, "k"), await limiter.check(policy, "k")]
        await limiter.clear(policy, "k")

    assert [(verdict.allowed, verdict.counted) for verdict in verdicts] == [(True, False)] * 2
    assert verdicts[0].headers == {}
    events = logged_events(caplog, "ratelimit")
    assert [event["event"] for event in events] == ["rate_limit_storage_unavailable"] * 3
    assert events[0]["policy"] == "login"
    assert events[0]["fail_open"] is True
    assert events[0]["error"] == "ConnectionRefusedError: Connection refused"


async def test_failing_closed_refuses_every_use_with_503(settings: Settings) -> None:
    limiter = unreachable_limiter(settings, fail_open=False)
    policy = limiter.policies["default"]

    for use in (limiter.hit, limiter.check, limiter.clear):
        with pytest.raises(ServiceUnavailable) as caught:
            await use(policy, "k")
        assert caught.value.code == "rate_limit_unavailable"


@pytest.mark.parametrize("fail_open", [True, False])
async def test_an_api_request_answers_either_way(
    app: FastAPI, client: AsyncClient, settings: Settings, fail_open: bool
) -> None:
    app.state.rate_limiter = unreachable_limiter(settings, fail_open=fail_open)

    response = await client.get(ME_URL)

    if fail_open:
        assert response.status_code == 200
        assert "ratelimit" not in response.headers
    else:
        assert_problem(response, 503, "rate_limit_unavailable")
        assert response.headers["retry-after"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The wall clock the windows read, at 1000.0; set [0] to move it."""
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


async def test_the_memory_window_lets_the_limit_through_until_the_oldest_leaves(
    clock: list[float],
) -> None:
    window = MemoryWindow()
    limit = parse("3/minute")

    async def at(seconds: float, *, hit: bool = True) -> Usage:
        clock[0] = 1000.0 + seconds
        return await window.count(limit, "default", "caller", hit=hit)

    assert await at(0) == Usage(allowed=True, remaining=2, reset_seconds=60)
    assert await at(10) == Usage(allowed=True, remaining=1, reset_seconds=50)
    assert await at(20) == Usage(allowed=True, remaining=0, reset_seconds=40)
    assert await at(30) == Usage(allowed=False, remaining=0, reset_seconds=30)
    assert await at(59, hit=False) == Usage(allowed=False, remaining=0, reset_seconds=1)
    assert await at(60) == Usage(allowed=False, remaining=0, reset_seconds=0)  # still inside
    assert await at(60.5) == Usage(allowed=True, remaining=0, reset_seconds=10)
    assert (await window.count(limit, "default", "another caller", hit=True)).remaining == 2


async def test_the_memory_window_forgets_callers_gone_quiet_once_a_sweep_is_due(
    clock: list[float],
) -> None:
    window = MemoryWindow()
    minute, hour = parse("5/minute"), parse("5/hour")
    await window.count(minute, "default", "quiet", hit=True)
    await window.count(hour, "login", "quiet", hit=True)

    clock[0] += MemoryWindow.SWEEP_SECONDS + 1
    await window.count(minute, "default", "busy", hit=True)

    assert len(window) == 2  # the hour's window still holds its request
    assert (await window.count(hour, "login", "quiet", hit=False)).remaining == 4


async def test_the_memory_window_holds_its_clock_while_the_wall_clock_is_set_back(
    clock: list[float],
) -> None:
    window = MemoryWindow()
    limit = parse("2/minute")
    for seconds in (0, 30):
        clock[0] = 1000.0 + seconds
        await window.count(limit, "default", "caller", hit=True)

    clock[0] = 900.0  # set back by more than the window
    refused = await window.count(limit, "default", "caller", hit=True)
    clock[0] = 1061.0
    freed = await window.count(limit, "default", "caller", hit=True)

    assert refused == Usage(allowed=False, remaining=0, reset_seconds=30)
    assert freed == Usage(allowed=True, remaining=0, reset_seconds=29)
