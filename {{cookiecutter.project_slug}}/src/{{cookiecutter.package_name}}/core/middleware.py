"""Pure ASGI middleware: around every request (its id, security headers, access log and
metrics, the last-resort 500), and the body size limit.

Pure ASGI rather than `BaseHTTPMiddleware`, which would run the route in a task of its own
and copy its context variables.
"""

import re
import secrets
import time
from collections.abc import Sequence

{% if cookiecutter.sentry -%}
import sentry_sdk
{% endif -%}
import structlog
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.core import logging as service_logging
from {{ cookiecutter.package_name }}.core import metrics
from {{ cookiecutter.package_name }}.core.problems import send_problem

_REQUEST_ID_HEADER = b"x-request-id"
# Accept a caller's id only if it is short and plain, so it is safe to log and echo.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")

error_logger = structlog.get_logger("{{ cookiecutter.package_name }}.errors")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.fullmatch(candidate) else None
    return None


class RequestMiddleware:
    """The service's outermost layer: what it does around every request, in one layer.

    - An id: a well-formed incoming `X-Request-ID` is kept, otherwise one is made. It is
      echoed on the response and bound to every log event of the request.
    - The security headers (`core.protection`) on every response that does not set its
      own, the last-resort 500 included.
    - One access-log event (method, route template, status, duration and request id),
      and the request counted and timed in the metrics. Bodies, query strings and headers
      are never logged, so secrets cannot leak into logs.
    - Scrapes of `/metrics`, answered before routing (`core.metrics`).
    - A 500 problem for an exception no handler mapped.

    One layer rather than one per task: each pure ASGI layer adds a call to every request,
    and each `send` wrapper a call to every message of its response.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        security_headers: Sequence[tuple[bytes, bytes]],
        metrics_token: SecretStr | None,
        open_locally: bool,
    ) -> None:
        self.app = app
        self.security_headers = tuple(security_headers)
        self.metrics_token = metrics_token
        self.open_locally = open_locally

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _incoming_request_id(scope) or secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 0  # none sent yet

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    header
                    for header in message.get("headers", ())
                    if header[0].lower() != _REQUEST_ID_HEADER
                ]
                present = {name.lower() for name, _ in headers}
                headers += [header for header in self.security_headers if header[0] not in present]
                headers.append((_REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        # A scrape is answered here, neither logged nor counted; a crash in it is a 500 too.
        scrape = scope["path"] == metrics.METRICS_PATH
        if not scrape:
            metrics.IN_FLIGHT.inc()
        try:
            await (self._scrape if scrape else self.app)(scope, receive, send_with_headers)
        except Exception{% if cookiecutter.sentry %} as error{% endif %}:
{%- if cookiecutter.sentry %}
            sentry_sdk.capture_exception(error)  # a no-op unless SENTRY_DSN is set
{%- endif %}
            error_logger.exception("unhandled_exception", path=scope["path"])
            if status:
                raise
            await send_problem(
                scope,
                receive,
                send_with_headers,
                status=500,
                code="internal_error",
                detail="An unexpected error occurred; it has been logged.",
            )
        finally:
            if not scrape:
                metrics.IN_FLIGHT.dec()
                _observe(scope, status or 500, time.perf_counter() - start)

    async def _scrape(self, scope: Scope, receive: Receive, send: Send) -> None:
        await metrics.serve_metrics(
            scope, receive, send, token=self.metrics_token, open_locally=self.open_locally
        )


def _observe(scope: Scope, status: int, seconds: float) -> None:
    """The request's access-log event and metrics."""
    method = scope["method"]
    # The template as the API document writes it: `{user_id}`, not `{user_id:uuid}`.
    route = getattr(scope.get("route"), "path_format", None)
    service_logging.access_log.request(
        method=method,
        route=route,
        path=scope["path"],
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )
    method = method if method in metrics.KNOWN_METHODS else "other"
    count, latency = metrics.request_series(
        method, route or metrics.UNMATCHED_ROUTE, f"{status // 100}xx"
    )
    count.inc()
    latency.observe(seconds)


class BodySizeLimitMiddleware:
    """Rejects request bodies over `max_body_size` bytes with a 413 problem.

    A declared `Content-Length` over the limit is refused before the body is read; a
    streamed body is counted as it arrives and refused once it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_size:
            await self._too_large(scope, receive, send)
            return
        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_size:
                    # Raised while the route reads its body, so the problem handlers map it.
                    raise HTTPException(413, detail=self._detail)
            return message

        await self.app(scope, receive_with_limit, send)

    @property
    def _detail(self) -> str:
        return f"The body is larger than {self.max_body_size} bytes."

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_problem(
            scope, receive, send, status=413, code="payload_too_large", detail=self._detail
        )
