"""What protects every response: allowed hosts, CORS, and the security headers."""

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.problems import send_problem
from {{ cookiecutter.package_name }}.settings import Settings

# Probes come from orchestrators that name the pod's address as the host; they build no URLs.
HOST_CHECK_EXEMPT_PREFIX = "/health/"
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
# What every response carries unless it sets its own (raw names and values, as ASGI sends).
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode()),
    (b"cache-control", b"no-store"),
)


def _host_name(host: str) -> str:
    """`host` without its port: `example.com:8000` -> `example.com`, `[::1]:8000` -> `::1`."""
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class AllowedHostsMiddleware:
    """Answers 400 problem+json to a request whose `Host` is not allowed, or missing in HTTP/1.1.

    Every URL the service writes (redirects, `Location`) is built from the checked host.
    An entry `*.example.com` allows its subdomains; `*` allows any host.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.exact = frozenset(host.lower() for host in allowed_hosts if not host.startswith("*"))
        self.suffixes = tuple(host[1:].lower() for host in allowed_hosts if host.startswith("*."))

    def allows(self, host: str) -> bool:
        """Whether `host` (with or without a port) is one the service answers to."""
        name = _host_name(host).lower()
        return self.any_host or name in self.exact or name.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(HOST_CHECK_EXEMPT_PREFIX):
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        if host is None and scope.get("http_version") == "1.0":
            await self.app(scope, receive, send)  # URLs then come from the server's address
            return
        if host is not None and self.allows(host.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        await send_problem(
            scope,
            receive,
            send,
            status=400,
            code="invalid_host",
            detail="The Host header is missing or names a host this service does not serve.",
        )


def security_headers(settings: Settings) -> tuple[tuple[bytes, bytes], ...]:
    """What every response carries unless it sets its own (`core.middleware` adds them):
    the strict API defaults, and HSTS when the service is served over HTTPS only.

    A response may set its own `Content-Security-Policy` (the docs pages do) or
    `Cache-Control`.
    """
    if not settings.https_only:
        return SECURITY_HEADERS
    value = f"max-age={settings.hsts_max_age_seconds}; includeSubDomains"
    return (*SECURITY_HEADERS, (b"strict-transport-security", value.encode()))


class _RefusedPreflight(Response):
    """A refused CORS preflight, answered as problem+json like every other error."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=400)
        self.detail = detail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_problem(
            scope, receive, send, status=400, code="cors_refused", detail=self.detail
        )


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS from an explicit origin list; a refused preflight is a 400 problem."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer, with its plain-text refusal turned into a problem."""
        response = super().preflight_response(request_headers)
        if response.status_code != 400:  # noqa: PLR2004
            return response
        return _RefusedPreflight(bytes(response.body).decode())
