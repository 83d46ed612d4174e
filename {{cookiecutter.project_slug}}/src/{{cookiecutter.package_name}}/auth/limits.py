"""Rate limits on routes, counted per caller: the user behind a valid token, else the client.

Every API router is included behind `DEFAULT_LIMIT` (see `api.py`); a route declares a
stricter policy with `dependencies=[Depends(RateLimit("login"))]`, which then replaces the
default for that route. The policies and their values live in `core.ratelimit` and settings.
"""

from fastapi import Request, Response
from fastapi.routing import APIRoute

from {{ cookiecutter.package_name }}.auth.dependencies import bearer_claims
from {{ cookiecutter.package_name }}.auth.tokens import TokenClaims
from {{ cookiecutter.package_name }}.core.errors import NotAuthenticated, RateLimited
from {{ cookiecutter.package_name }}.core.metrics import RATE_LIMITED
from {{ cookiecutter.package_name }}.core.ratelimit import RateLimiter


def caller_key(request: Request, claims: TokenClaims | NotAuthenticated | None) -> str:
    """Whom a request counts against: its user when the token is valid, else its address.

    The address is the peer's, or the client a trusted proxy names (`TRUSTED_PROXIES`).
    """
    if isinstance(claims, TokenClaims):
        return f"user:{claims.user_id}"
    return f"client:{request.client.host if request.client else 'unknown'}"


class RateLimit:
    """A dependency counting each request against one policy; 429 problem+json over it.

    Responses carry the `RateLimit-Policy` and `RateLimit` headers; a refusal adds
    `Retry-After`.
    """

    def __init__(self, policy: str) -> None:
        self.policy = policy

    async def __call__(self, request: Request, response: Response) -> None:
        """Count this request, unless a more specific limit of the route applies instead."""
        if route_limit(request.scope["route"]) not in (None, self):
            return
        limiter: RateLimiter = request.app.state.rate_limiter
        key = caller_key(request, bearer_claims(request))
        verdict = await limiter.hit(limiter.policies[self.policy], key)
        if not verdict.allowed:
            RATE_LIMITED.labels(self.policy).inc()
            raise RateLimited(
                f"Rate limit '{self.policy}' exceeded; retry in {verdict.reset_seconds} s.",
                headers=verdict.headers,
            )
        response.headers.update(verdict.headers)


def route_limit(route: APIRoute) -> RateLimit | None:
    """The limit `route` declares itself, if any; the one of its router applies otherwise."""
    limits = [d.dependency for d in route.dependencies if isinstance(d.dependency, RateLimit)]
    return limits[-1] if limits else None


DEFAULT_LIMIT = RateLimit("default")
