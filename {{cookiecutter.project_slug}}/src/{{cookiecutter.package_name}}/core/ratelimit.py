"""Rate limits: named policies whose values come from settings, counted in shared storage.

Built on the `limits` library's async API with a moving window, so a limit of N lets
exactly N requests through in any window. The storage is chosen by URI (`memory://` keeps
the counts in this process; a shared store makes replicas count together).
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from {{ cookiecutter.package_name }}.settings import Settings

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

    @property
    def headers(self) -> dict[str, str]:
        """The `RateLimit-Policy` and `RateLimit` headers, plus `Retry-After` when refused."""
        headers = {
            "RateLimit-Policy": self.policy.header,
            "RateLimit": f'"{self.policy.name}";r={self.remaining};t={self.reset_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimiter:
    """The application's policies and their counters, built once at startup."""

    def __init__(self, settings: Settings) -> None:
        uri = settings.rate_limit_storage_uri
        self._storage = storage_from_string(uri if uri.startswith("async+") else f"async+{uri}")
        self._window = MovingWindowRateLimiter(self._storage)
        self.policies = {
            name: Policy(name, parse(getattr(settings, f"rate_limit_{name}")))
            for name in POLICY_NAMES
        }

    async def hit(self, policy: Policy, key: str) -> Verdict:
        """Count one request by `key` against `policy`."""
        allowed = await self._window.hit(policy.limit, policy.name, key)
        return await self._verdict(policy, key, allowed=allowed)

    async def check(self, policy: Policy, key: str) -> Verdict:
        """Whether `key` may make another request under `policy`, counting nothing."""
        allowed = await self._window.test(policy.limit, policy.name, key)
        return await self._verdict(policy, key, allowed=allowed)

    async def clear(self, policy: Policy, key: str) -> None:
        """Forget what `key` has used of `policy`."""
        await self._window.clear(policy.limit, policy.name, key)

    async def _verdict(self, policy: Policy, key: str, *, allowed: bool) -> Verdict:
        reset_at, remaining = await self._window.get_window_stats(policy.limit, policy.name, key)
        reset_seconds = max(0, math.ceil(reset_at - time.time()))
        return Verdict(policy, allowed, max(0, remaining), reset_seconds)
