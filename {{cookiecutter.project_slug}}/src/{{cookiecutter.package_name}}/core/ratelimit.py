"""Rate limits: named policies whose values come from settings, counted in shared storage.

Counted in a moving window, so a limit of N lets exactly N requests through in any window.
The window comes from `core.stores`: in this process's memory (`MemoryWindow`), in another
storage the `limits` library reaches (`LimitsWindow`), or in a Redis that makes replicas
count together (`core/redis.py`, one round trip a request).
When it cannot be reached, a request goes through uncounted with a warning, or gets 503
with RATE_LIMIT_FAIL_OPEN=false.
"""

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailable
from {{ cookiecutter.package_name }}.settings import Settings

logger = structlog.get_logger(__name__)

# Each policy's limit is the setting `rate_limit_<name>`, e.g. RATE_LIMIT_LOGIN=10/minute.
POLICY_NAMES = ("default", "login", "login_failures", "register", "refresh", "password_change")


@dataclass(frozen=True, slots=True)
class Policy:
    """A named limit: at most `limit.amount` requests per `limit.get_expiry()` seconds."""

    name: str
    limit: RateLimitItem

    @property
    def header(self) -> str:
        """This policy as a `RateLimit-Policy` field (IETF httpapi rate-limit headers draft)."""
        return f'"{self.name}";q={self.limit.amount};w={self.limit.get_expiry()}'


@dataclass(frozen=True, slots=True)
class Verdict:
    """What counting one request found: allowed or not, what is left, when it frees up."""

    policy: Policy
    allowed: bool
    remaining: int
    reset_seconds: int
    # False when the storage could not be reached and the request went through uncounted.
    counted: bool = True

    @property
    def headers(self) -> dict[str, str]:
        """The `RateLimit-Policy` and `RateLimit` headers, plus `Retry-After` when refused;
        none when nothing was counted."""
        if not self.counted:
            return {}
        headers = {
            "RateLimit-Policy": self.policy.header,
            "RateLimit": f'"{self.policy.name}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


@dataclass(frozen=True, slots=True)
class Usage:
    """A window's answer: whether the request fits, what is left, when it frees up."""

    allowed: bool
    remaining: int
    reset_seconds: int


class Window(Protocol):
    """Where requests are counted, in a moving window per policy and caller.

    Failures are raised as `limits.errors.StorageError`, whatever the storage.
    """

    async def count(self, limit: RateLimitItem, name: str, key: str, *, hit: bool) -> Usage:
        """Count one request by `key` when `hit` and it fits, and report the window."""

    async def clear(self, limit: RateLimitItem, name: str, key: str) -> None:
        """Forget what `key` has used of the limit."""


class LimitsWindow:
    """A moving window in a `limits` storage: it counts, then reads the window back."""

    def __init__(self, storage: Storage) -> None:
        self._strategy = MovingWindowRateLimiter(storage)

    async def count(self, limit: RateLimitItem, name: str, key: str, *, hit: bool) -> Usage:
        """Count one request by `key` when `hit` and it fits, and report the window."""
        counted = self._strategy.hit if hit else self._strategy.test
        allowed = await counted(limit, name, key)
        reset_at, remaining = await self._strategy.get_window_stats(limit, name, key)
        return Usage(allowed, max(0, remaining), max(0, math.ceil(reset_at - time.time())))

    async def clear(self, limit: RateLimitItem, name: str, key: str) -> None:
        """Forget what `key` has used of the limit."""
        await self._strategy.clear(limit, name, key)

    async def reset(self) -> None:
        """Forget every count."""
        await self._strategy.storage.reset()


class MemoryWindow:
    """A moving window in this process's memory, counted as `core/redis.py` counts in Redis:
    for each policy, caller and limit, the times of the requests let through, oldest first.

    Times that left the window are dropped when the caller's next request reads it, and
    windows with none left are forgotten in one sweep every `SWEEP_SECONDS`, so memory holds
    at most a limit's worth of times for each recent caller. It needs no task and no thread:
    the `limits` library's memory storage hands a search to a thread for every key it holds,
    each time a request finds its previous clean-up done.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, int, int], deque[float]] = {}
        self._next_sweep = time.time() + self.SWEEP_SECONDS

    def __len__(self) -> int:
        """How many windows are held: one for each policy, caller and limit seen lately."""
        return len(self._windows)

    async def count(self, limit: RateLimitItem, name: str, key: str, *, hit: bool) -> Usage:
        """Count one request by `key` when `hit` and it fits, and report the window."""
        now, expiry = time.time(), limit.get_expiry()  # the wall clock, as in Redis
        slot = (name, key, limit.amount, expiry)
        times = self._windows.get(slot)
        if times is None:  # not `setdefault`, which would make a deque for every request
            times = self._windows[slot] = deque()
        if times and now < times[-1]:  # the clock was set back: hold it until it catches up
            now = times[-1]
        while times and times[0] < now - expiry:
            times.popleft()
        allowed = len(times) < limit.amount
        if allowed and hit:
            times.append(now)
        if now >= self._next_sweep:
            self._sweep(now)
        reset = math.ceil(times[0] + expiry - now) if times else 0
        return Usage(allowed, limit.amount - len(times), max(0, reset))

    def _sweep(self, now: float) -> None:
        """Forget every window whose latest request has left it."""
        self._next_sweep = now + self.SWEEP_SECONDS
        idle = [
            slot for slot, times in self._windows.items() if not times or times[-1] < now - slot[3]
        ]
        for slot in idle:
            del self._windows[slot]

    async def clear(self, limit: RateLimitItem, name: str, key: str) -> None:
        """Forget what `key` has used of the limit."""
        self._windows.pop((name, key, limit.amount, limit.get_expiry()), None)

    async def reset(self) -> None:
        """Forget every count."""
        self._windows.clear()


class RateLimiter:
    """The application's policies and their counters, built once at startup."""

    def __init__(self, settings: Settings, window: Window) -> None:
        self._window = window
        self._fail_open = settings.rate_limit_fail_open
        self.policies = {
            name: Policy(name, parse(getattr(settings, f"rate_limit_{name}")))
            for name in POLICY_NAMES
        }

    async def hit(self, policy: Policy, key: str) -> Verdict:
        """Count one request by `key` against `policy`."""
        return await self._count(policy, key, hit=True)

    async def check(self, policy: Policy, key: str) -> Verdict:
        """Whether `key` may make another request under `policy`, counting nothing."""
        return await self._count(policy, key, hit=False)

    async def clear(self, policy: Policy, key: str) -> None:
        """Forget what `key` has used of `policy`."""
        try:
            await self._window.clear(policy.limit, policy.name, key)
        except StorageError as error:
            self._uncounted(policy, error)

    def _uncounted(self, policy: Policy, error: StorageError) -> Verdict:
        """Let the request through uncounted (fail open), or refuse it with 503."""
        cause = error.storage_error
        logger.warning(
            "rate_limit_storage_unavailable",
            policy=policy.name,
            fail_open=self._fail_open,
            error=f"{type(cause).__name__}: {cause}",
        )
        if not self._fail_open:
            raise ServiceUnavailable(
                "Rate limits cannot be checked right now; retry shortly.",
                code="rate_limit_unavailable",
            ) from error
        return Verdict(policy, allowed=True, remaining=0, reset_seconds=0, counted=False)

    async def _count(self, policy: Policy, key: str, *, hit: bool) -> Verdict:
        try:
            usage = await self._window.count(policy.limit, policy.name, key, hit=hit)
        except StorageError as error:
            return self._uncounted(policy, error)
        return Verdict(policy, usage.allowed, usage.remaining, usage.reset_seconds)
