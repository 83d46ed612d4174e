"""The application factory: wiring only. ASGI servers load `main.app`, built from it."""

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from {{ cookiecutter.package_name }} import route_policy
from {{ cookiecutter.package_name }}.api import include_api
from {{ cookiecutter.package_name }}.auth.lockout import LoginLockout
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.tokens import TokenCodec
from {{ cookiecutter.package_name }}.core.cache import Cache
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.docs import install_docs
from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.core.metrics import process_stopped
from {{ cookiecutter.package_name }}.core.middleware import (
    BodySizeLimitMiddleware,
    RequestMiddleware,
)
from {{ cookiecutter.package_name }}.core.openapi import install_openapi, problem_responses
from {{ cookiecutter.package_name }}.core.problems import install_problem_handlers
from {{ cookiecutter.package_name }}.core.protection import (
    AllowedHostsMiddleware,
    ProblemCORSMiddleware,
    security_headers,
)
from {{ cookiecutter.package_name }}.core.ratelimit import RateLimiter
{%- if cookiecutter.sentry %}
from {{ cookiecutter.package_name }}.core.sentry import configure_sentry
{%- endif %}
from {{ cookiecutter.package_name }}.core.stores import Stores, open_stores
{%- if cookiecutter.observability == "prometheus+otel" %}
from {{ cookiecutter.package_name }}.core.tracing import instrument, tracer_provider
{%- endif %}
from {{ cookiecutter.package_name }}.error_catalogue import router as errors_router
from {{ cookiecutter.package_name }}.health.router import router as health_router
from {{ cookiecutter.package_name }}.messaging.registry import (
    build_relay,
    hand_off,
    service_dispatcher,
)
from {{ cookiecutter.package_name }}.settings import (
    LOCAL_ENVIRONMENTS,
    Settings,
    get_settings,
)

TITLE = "{{ cookiecutter.project_name }}"
VERSION = "{{ cookiecutter.version }}"
DESCRIPTION = "{{ cookiecutter.description }}"

OPENAPI_TAGS = [
    {"name": "auth", "description": "Register, log in, refresh and log out."},
    {"name": "users", "description": "Your own account; everyone's, for administrators."},
    {"name": "items", "description": "The example resource: create, read, list, change, delete."},
    {"name": "health", "description": "Probes for load balancers and orchestrators."},
]


def bind_settings(
    app: FastAPI,
    settings: Settings,
    database: Database | None = None,
    stores: Stores | None = None,
) -> None:
    """Give `app` its settings and what is built from them: database, token codec, hasher,
    the stores (in this process, or Redis), the cache, rate limiter and login lockout.

    `database` and `stores` default to new ones on `settings`; the tests pass the ones they
    share.
    """
    app.state.settings = settings
    app.state.database = Database(settings) if database is None else database
    app.state.token_codec = TokenCodec(settings)
    app.state.password_hasher = PasswordHasher(settings)
    app.state.stores = open_stores(settings) if stores is None else stores
    app.state.cache = Cache(app.state.stores.cache, settings.cache_ttl_seconds)
    app.state.rate_limiter = RateLimiter(settings, app.state.stores.rate_limits)
    app.state.login_lockout = LoginLockout(app.state.rate_limiter)
    app.state.dispatcher = service_dispatcher(app.state.database, settings)


@asynccontextmanager
async def relay_in_process(app: FastAPI) -> AsyncIterator[None]:
    """Run a relay beside the application while it serves, if OUTBOX_RELAY_IN_PROCESS."""
    settings: Settings = app.state.settings
    if not settings.outbox_relay_in_process:
        yield
        return
    async with hand_off(settings, app.state.dispatcher) as deliver:
        relay = build_relay(app.state.database, settings, deliver)
        stop = asyncio.Event()
        running = asyncio.create_task(relay.run(stop))
        try:
            yield
        finally:
            stop.set()
            await running


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application from `settings` (the environment's when omitted)."""
    settings = settings or get_settings()
    configure_logging(settings)
{%- if cookiecutter.sentry %}
    configure_sentry(settings)
{%- endif %}
{%- if cookiecutter.observability == "prometheus+otel" %}
    tracer_provider()  # before the database, whose engine is then traced
{%- endif %}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with relay_in_process(app):
            yield
        await app.state.database.dispose()
        await app.state.stores.close()
        process_stopped()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        openapi_tags=OPENAPI_TAGS,
        openapi_url="/openapi.json" if settings.show_docs else None,
        # The docs pages are the service's own (core.docs): FastAPI's load assets from CDNs.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        responses=problem_responses(500, 503),
        # Built-in OpenTelemetry stays off until a provider is configured deliberately.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    bind_settings(app, settings)

    install_problem_handlers(app)
    install_openapi(app, functools.partial(route_policy.declare_security, app))
    if settings.show_docs:
        install_docs(app)
    app.include_router(health_router)
    app.include_router(errors_router)
    include_api(app)

    # Added last runs first: around every request (its id, security headers on every response,
    # the last-resort 500 included, access log and metrics, which answers /metrics itself for
    # scrapers that name the pod's address as the host), trusted proxies, allowed hosts, body
    # limit, CORS.
    # The body limit is the service's own: the framework's built-in one answers a declared
    # oversize Content-Length with a plain-text 413 that bypasses the problem format.
    if settings.cors_allow_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "Location",
                "X-Request-ID",
                "Retry-After",
                "RateLimit",
                "RateLimit-Policy",
            ],
        )
    app.add_middleware(BodySizeLimitMiddleware, max_body_size=settings.max_body_size)
    app.add_middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(
        RequestMiddleware,
        security_headers=security_headers(settings),
        metrics_token=settings.metrics_token,
        open_locally=settings.environment in LOCAL_ENVIRONMENTS,
    )
{%- if cookiecutter.observability == "prometheus+otel" %}
    instrument(app)
{%- endif %}
    return app
