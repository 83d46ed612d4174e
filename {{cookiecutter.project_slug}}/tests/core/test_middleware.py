"""Request ids and the access log."""

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from httpx import AsyncClient
from starlette.types import Message

from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import http_client, printed


async def test_a_request_id_is_generated_and_echoed(client: AsyncClient) -> None:
    first = await client.get("/health/live")
    second = await client.get("/health/live")

    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_well_formed_incoming_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "trace-1234.abc_D"})

    assert response.headers["x-request-id"] == "trace-1234.abc_D"


@pytest.mark.parametrize("bad", ["short", "has space in it", "x" * 129, "semi;colon-12345"])
async def test_a_malformed_incoming_request_id_is_replaced(client: AsyncClient, bad: str) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": bad})

    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


async def test_a_response_carries_one_request_id_even_if_it_set_its_own(
    fresh_app: FastAPI,
) -> None:
    async def echo() -> JSONResponse:
        return JSONResponse({}, headers={"X-Request-ID": "set-by-the-route"})

    fresh_app.add_api_route("/echo", echo)
    async with http_client(fresh_app) as client:
        response = await client.get("/echo", headers={"X-Request-ID": "incoming-id-42"})

    assert response.headers.get_list("x-request-id") == ["incoming-id-42"]


async def test_errors_carry_the_request_id_too(client: AsyncClient) -> None:
    response = await client.get("/nope", headers={"X-Request-ID": "incoming-id-42"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "incoming-id-42"
    assert response.json()["request_id"] == "incoming-id-42"


async def test_the_access_log_has_route_status_duration_and_no_query(
    client: AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings.model_copy(update={"log_level": "INFO"}))

    response = await client.get("/api/v1/items/6f1c2a7e-0b9d-4c3f-8a5e-2d1b0c9f8e7d?token=hunter2")

    output = await printed(capsys)
    [event] = [json.loads(line) for line in output.splitlines() if '"event": "request"' in line]
    assert event["method"] == "GET"
    assert event["route"] == "/api/v1/items/{item_id}"
    assert event["status"] == 404
    assert event["duration_ms"] >= 0
    assert event["request_id"] == response.headers["x-request-id"]
    assert event["level"] == "info"
    assert event["logger"] == "{{ cookiecutter.package_name }}.access"
    assert event["timestamp"].endswith("Z")
    assert "hunter2" not in output


async def test_access_log_lines_wait_for_the_loop_and_keep_their_requests_context(
    fresh_app: FastAPI, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings.model_copy(update={"log_level": "INFO"}))
    entered, release = asyncio.Event(), asyncio.Event()

    async def held() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {}

    fresh_app.add_api_route("/held", held)
    async with http_client(fresh_app) as client:
        both_held = [
            asyncio.create_task(client.get("/held", headers={"X-Request-ID": request_id}))
            for request_id in ("first-held-request", "second-held-request")
        ]
        await entered.wait()
        await client.get("/health/live", headers={"X-Request-ID": "answered-meanwhile"})
        before_the_loop_turns = capsys.readouterr().out
        after_one_turn = await printed(capsys)
        release.set()
        await asyncio.gather(*both_held)
        in_one_turn = await printed(capsys)

    def logged(output: str) -> list[str]:
        return [
            json.loads(line)["request_id"]
            for line in output.splitlines()
            if '"event": "request"' in line
        ]

    assert (logged(before_the_loop_turns), logged(after_one_turn)) == ([], ["answered-meanwhile"])
    assert sorted(logged(in_one_turn)) == ["first-held-request", "second-held-request"]


async def test_the_access_log_follows_the_log_level(
    client: AsyncClient, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))

    await client.get("/health/live")

    assert '"event": "request"' not in await printed(capsys)


def test_logs_render_as_one_json_object_per_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings)

    logging.getLogger("{{ cookiecutter.package_name }}.test").warning("disk %s", "low")

    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["event"] == "disk low"
    assert line["level"] == "warning"
    assert line["timestamp"].endswith("Z")


async def test_lifespan_messages_pass_through_every_layer(app: FastAPI) -> None:
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    outbox: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        outbox.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)

    assert [m["type"] for m in outbox] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_a_crash_after_the_response_started_is_not_masked(
    fresh_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def half_then_crash() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("mid-stream")

    async def stream() -> StreamingResponse:
        return StreamingResponse(half_then_crash())

    fresh_app.add_api_route("/stream", stream)

    async with http_client(fresh_app, raise_app_exceptions=True) as raw_client:
        with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="mid-stream"):
            await raw_client.get("/stream")

    assert "unhandled_exception" in caplog.text
