"""Error tracking with Sentry, on when SENTRY_DSN is set.

An unhandled error is reported once, by `RequestMiddleware`, with the request id and
the caller's user id as tags (read from the log context); log lines become breadcrumbs,
not events. No personal data is sent: no cookies, credentials, bodies or client addresses.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

import sentry_sdk
import structlog
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.types import Event, Hint

from {{ cookiecutter.package_name }}.settings import Settings

# Log-context keys sent as tags: they identify the request and the caller, nothing else.
TAGS = ("request_id", "user_id")


DISTRIBUTION = "{{ cookiecutter.project_slug }}"


def release() -> str:
    """The release Sentry groups events by: the installed version, which pyproject.toml sets."""
    try:
        return f"{DISTRIBUTION}@{version(DISTRIBUTION)}"
    except PackageNotFoundError:  # run from source that is not installed
        return DISTRIBUTION


def tag_from_log_context(event: Event, _hint: Hint) -> Event:
    """Tag an event with the request id and user id bound to the logs where it happened."""
    context = structlog.contextvars.get_contextvars()
    tags = event.setdefault("tags", {})
    for name in TAGS:
        if name in context:
            tags[name] = str(context[name])
    return event


def configure_sentry(settings: Settings, **options: Any) -> bool:  # noqa: ANN401
    """Start the SDK when SENTRY_DSN is set (`options` add to its own); whether it started."""
    if settings.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=release(),
        # No personal data: no user identity or address, cookies, bodies, query strings, local
        # variables or SQL parameters; headers only after the SDK's denylist scrubbed them.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "stack_frame_variables": False,
            "database_query_data": False,
        },
        traces_sample_rate=settings.sentry_traces_sample_rate,
        before_send=tag_from_log_context,
        # Errors are reported where they are handled; logging them must not report twice.
        integrations=[LoggingIntegration(event_level=None)],
        **options,
    )
    return True
