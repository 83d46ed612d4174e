"""Prometheus metrics: what the service counts, and how `/metrics` is served.

Requests are counted and timed by route template (`/api/v1/items/{item_id}`, never the raw
path) in `core.middleware.RequestMiddleware`, which also answers `/metrics` before
routing: scrapes are never rate limited, logged or in the OpenAPI document. With
METRICS_TOKEN set, a scrape must send it as a bearer token; without one, `/metrics` answers
only in local environments (development, test).

With several worker processes (`serve --workers N`), every process writes its samples to
files in PROMETHEUS_MULTIPROC_DIR and a scrape of any worker adds them all up; `serve` points
it at a fresh folder when it starts more than one worker and the variable is unset.
"""

import hmac
import os
from functools import lru_cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from pydantic import SecretStr
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.problems import send_problem

METRICS_PATH = "/metrics"
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Methods are labels as sent only when standard: any other token a client sends is `other`,
# so that no client can create label values at will.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The label of requests no route matched (404s, and answers of the layers before routing).
UNMATCHED_ROUTE = "<unmatched>"

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by method, route template and status class.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "HTTP requests being handled now.",
    multiprocess_mode="livesum",
)
RATE_LIMITED = Counter(
    "rate_limit_rejections",
    "Requests refused with 429, by rate-limit policy.",
    ["policy"],
)
DATABASE_CONNECTIONS_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Pooled database connections checked out by requests now.",
    multiprocess_mode="livesum",
)
DATABASE_CONNECTIONS_OPEN = Gauge(
    "db_pool_connections_open",
    "Database connections the pools hold open now, in use or idle.",
    multiprocess_mode="livesum",
)
CACHE_READS = Counter(
    "cache_reads",
    "Reads through the cache: served from it (hit), loaded (miss), or its backend failed.",
    ["result"],
)

OUTBOX_BACKLOG = Gauge(
    "outbox_backlog",
    "Outbox messages waiting to be handed on, as the relay last counted them.",
    multiprocess_mode="mostrecent",
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds",
    "How long the oldest waiting outbox message has waited, as the relay last saw it.",
    multiprocess_mode="mostrecent",
)
MESSAGES_SENT = Counter(
    "outbox_messages_sent",
    "Outbox messages handed on, by kind (event, job).",
    ["kind"],
)
MESSAGES_RETRIED = Counter(
    "outbox_messages_retried",
    "Failed hand-offs that will be tried again, by kind.",
    ["kind"],
)
MESSAGES_DEAD = Counter(
    "outbox_messages_dead",
    "Outbox messages that failed their last attempt, by kind.",
    ["kind"],
)
JOB_DURATION = Histogram(
    "job_duration_seconds",
    "Time a background job took, inbox included, by job.",
    ["job"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


@lru_cache(maxsize=4096)
def request_series(method: str, route: str, status_class: str) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one method, route and status class.

    Kept once made: finding a labelled series costs more than counting in it (about 7 µs of
    the 12 µs a request's metrics took), and there are only so many routes and methods.
    """
    return REQUESTS.labels(method, route, status_class), DURATION.labels(method, route)


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process's, or all workers' together."""
    if MULTIPROCESS_DIRECTORY not in os.environ:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def process_stopped() -> None:
    """Drop this process's live gauges from the shared samples, when it stops as a worker."""
    if MULTIPROCESS_DIRECTORY in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _bearer_token(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


def _refusal(
    scope: Scope, token: SecretStr | None, open_locally: bool
) -> tuple[int, str, str, dict[str, str]] | None:
    """Why a scrape is refused (status, code, detail, headers), or None when it may read."""
    if scope["method"] not in ("GET", "HEAD"):
        return 405, "method_not_allowed", "Metrics are read with GET.", {"Allow": "GET, HEAD"}
    if token is None:
        detail = "Metrics are served only when METRICS_TOKEN is set."
        return None if open_locally else (404, "not_found", detail, {})
    if not hmac.compare_digest(_bearer_token(scope).encode(), token.get_secret_value().encode()):
        detail = "Send METRICS_TOKEN as `Authorization: Bearer <token>`."
        return 401, "not_authenticated", detail, {"WWW-Authenticate": "Bearer"}
    return None


async def serve_metrics(
    scope: Scope, receive: Receive, send: Send, *, token: SecretStr | None, open_locally: bool
) -> None:
    """Answer a scrape of `/metrics`: the exposition, or a problem saying why not."""
    refusal = _refusal(scope, token, open_locally)
    if refusal is not None:
        status, code, detail, headers = refusal
        await send_problem(
            scope, receive, send, status=status, code=code, detail=detail, headers=headers
        )
        return
    body = exposition()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", CONTENT_TYPE_LATEST.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
