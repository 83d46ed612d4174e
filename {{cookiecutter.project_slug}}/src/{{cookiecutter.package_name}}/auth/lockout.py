"""Login lockout: too many failed logins for one account refuse its logins for a while."""

from {{ cookiecutter.package_name }}.core.errors import RateLimited
from {{ cookiecutter.package_name }}.core.metrics import RATE_LIMITED
from {{ cookiecutter.package_name }}.core.ratelimit import RateLimiter


class LoginLockout:
    """Counts failed logins per account, whoever sends them, under `login_failures`.

    Once an account reaches the limit, its logins get 429 until the oldest failure leaves
    the window, whatever the password. Unknown accounts are counted the same way, so the
    answer does not tell whether an account exists.
    """

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._policy = limiter.policies["login_failures"]

    async def ensure_open(self, account: str) -> None:
        """Raise `RateLimited` while `account` is locked out."""
        verdict = await self._limiter.check(self._policy, account)
        if not verdict.allowed:
            RATE_LIMITED.labels("login_failures").inc()
            raise RateLimited(
                "Too many failed logins for this account; try again later.",
                headers=verdict.headers,
            )

    async def record_failure(self, account: str) -> None:
        """Count one failed login for `account`."""
        await self._limiter.hit(self._policy, account)

    async def forget(self, account: str) -> None:
        """Clear `account`'s failures after a successful login."""
        await self._limiter.clear(self._policy, account)
