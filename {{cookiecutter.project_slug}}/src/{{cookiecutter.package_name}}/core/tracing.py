"""OpenTelemetry traces: requests, SQL{% if cookiecutter.redis %}, Redis{% endif %} and outgoing httpx calls, exported over OTLP.

Configured once per process, from the standard `OTEL_*` environment variables:
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns export on,
`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the service, `OTEL_TRACES_SAMPLER`
samples, `OTEL_SDK_DISABLED=true` turns tracing off. Without an endpoint, spans are still
made, so that every log line carries its trace and span ids, but none leave the process.
Probes and scrapes are not traced.
"""

import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
{%- if cookiecutter.redis %}
from opentelemetry.instrumentation.redis import RedisInstrumentor
{%- endif %}
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from structlog.typing import EventDict, WrappedLogger

# Routes whose spans would be noise: probes every few seconds, and metric scrapes.
UNTRACED_URLS = "/health/live,/health/ready,/metrics"
DEFAULT_SERVICE_NAME = "{{ cookiecutter.project_slug }}"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_provider: TracerProvider | None = None


def tracer_provider() -> TracerProvider:
    """The process's tracer provider, made on first use with the libraries instrumented.

    SQLAlchemy's instrumentation traces the engines created after it, so the application
    factory asks for this before it builds the database.
    """
    global _provider  # noqa: PLW0603 - one provider per process, as OpenTelemetry expects
    if _provider is None:
        _provider = TracerProvider(resource=service_resource())
        if any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(_provider)
        # The instrumentation declares SQLAlchemy < 2.1 but works through engine events, which
        # 2.1 keeps; tests/core/test_tracing.py shows the SQL spans.
        SQLAlchemyInstrumentor().instrument(tracer_provider=_provider, skip_dep_check=True)
        HTTPXClientInstrumentor().instrument(tracer_provider=_provider)
{%- if cookiecutter.redis %}
        RedisInstrumentor().instrument(tracer_provider=_provider)
{%- endif %}
    return _provider


def service_resource() -> Resource:
    """Who is tracing: OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES, else the baked name."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


def instrument(app: FastAPI) -> None:
    """Trace every request `app` serves, probes and scrapes excepted."""
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider(), excluded_urls=UNTRACED_URLS
    )


def add_trace_ids(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Put the current trace and span ids in a log event, as OpenTelemetry writes them."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = trace.format_trace_id(context.trace_id)
        event_dict["span_id"] = trace.format_span_id(context.span_id)
    return event_dict
