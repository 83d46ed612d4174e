"""With OpenTelemetry, one trace spans a request and its SQL, and log lines carry its ids."""

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.core.tracing import (
    DEFAULT_SERVICE_NAME,
    service_resource,
    tracer_provider,
)
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import ME_URL, Account, http_client, printed

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The spans the process finishes during the test, kept in memory."""
    if not getattr(_EXPORTER, "attached", False):
        tracer_provider().add_span_processor(SimpleSpanProcessor(_EXPORTER))
        _EXPORTER.attached = True  # type: ignore[attr-defined]
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    """The spans above `span`, nearest first, among those recorded."""
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_one_trace_spans_the_request_and_its_sql(
    fresh_app: FastAPI, user: Account, spans: InMemorySpanExporter
) -> None:
    # An application of its own: engines made before tracing started (the suite's shared
    # one) are not traced, and a service makes its engine after.
    token = {"Authorization": f"Bearer {user.tokens['access_token']}"}
    async with http_client(fresh_app, headers=token) as client:
        assert (await client.get(ME_URL)).status_code == 200

    finished = spans.get_finished_spans()
    [request] = [span for span in finished if span.kind == SpanKind.SERVER]
    by_id = {span.context.span_id: span for span in finished}
    queries = [span for span in finished if span.kind == SpanKind.CLIENT and "SELECT" in span.name]
    assert request.name == f"GET {ME_URL}"
    assert queries, [span.name for span in finished]
    for query in queries:
        assert query.context.trace_id == request.context.trace_id
        assert request in ancestors(query, by_id)


def test_the_service_is_named_by_its_variable_or_after_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    baked = service_resource().attributes[SERVICE_NAME]
    monkeypatch.setenv("OTEL_SERVICE_NAME", "orders-eu")

    assert baked == DEFAULT_SERVICE_NAME
    assert service_resource().attributes[SERVICE_NAME] == "orders-eu"


async def test_probes_and_scrapes_are_not_traced(
    user: Account, spans: InMemorySpanExporter
) -> None:
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert (await user.client.get(path)).status_code == 200

    assert [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER] == []


async def test_log_lines_carry_the_trace_and_span_ids(
    user: Account,
    spans: InMemorySpanExporter,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(settings.model_copy(update={"log_level": "INFO"}))

    assert (await user.client.get(ME_URL)).status_code == 200

    [event] = [
        json.loads(line)
        for line in (await printed(capsys)).splitlines()
        if '"event": "request"' in line
    ]
    [request] = [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]
    assert event["trace_id"] == format_trace_id(request.context.trace_id)
    assert len(event["span_id"]) == 16
    assert event["span_id"] != format_span_id(0)
