"""The HTTP server as `serve` runs it: bounded request heads, slow clients cut off, and a
SIGTERM that lets in-flight requests finish but does not wait for a stalled client.

The tests serve the test's application with uvicorn in this process, on `serve`'s options:
one server for the module (stopping one costs uvicorn a fifth of a second), and one of its own
for the SIGTERM test. uvicorn's SIGTERM handler sets `Server.should_exit`, which starts the
graceful shutdown; that test sets it directly (the handler would then raise the signal again
in this process).
"""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from {{ cookiecutter.package_name }}.server import server_options
from {{ cookiecutter.package_name }}.settings import get_settings

# Low, so that the tests see each limit quickly; the defaults are in settings.py.
SERVER_SETTINGS = {
    "SERVER_MAX_HEAD_BYTES": "8192",
    "SERVER_MAX_HEADER_LINE_BYTES": "2048",
    "SERVER_HEAD_TIMEOUT_SECONDS": "0.3",
    "SERVER_BODY_IDLE_TIMEOUT_SECONDS": "0.3",
    "SERVER_GRACEFUL_SHUTDOWN_SECONDS": "0.5",
}
# The longest any test waits for the server to act; far above the limits above.
PATIENCE_SECONDS = 10
REGISTER = b'{"email": "late@example.com", "password": "correct-horse-battery", "full_name": "L"}'


@pytest.fixture(scope="module")
def server_settings() -> Iterator[None]:
    """The low limits, as the server process would read them from its environment."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SERVER_SETTINGS.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


@dataclass(frozen=True)
class Running:
    """A uvicorn server serving on `port`, and the task that runs it."""

    server: uvicorn.Server
    port: int
    task: "asyncio.Task[None]"


@asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[Running]:
    """uvicorn with `serve`'s options, serving `app` on a free port until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", **server_options(get_settings()))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.01)
        yield Running(server, listener.getsockname()[1], task)
    finally:
        server.should_exit = True
        await task
        listener.close()


class CurrentApp:
    """An ASGI application that hands each request to the current test's application."""

    app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "a request arrived between tests"
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
async def module_server(server_settings: None) -> AsyncIterator[tuple[Running, CurrentApp]]:
    """The module's server, and where the current test's application is put."""
    current = CurrentApp()
    async with running(current) as server:
        yield server, current


@pytest.fixture
def port(app: FastAPI, module_server: tuple[Running, CurrentApp]) -> Iterator[int]:
    """The port of the module's server, serving the test's application."""
    server, current = module_server
    current.app = app
    yield server.port
    current.app = None


async def exchange(port: int, *parts: bytes) -> bytes:
    """Send `parts` and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for part in parts:
            writer.write(part)
            await writer.drain()
        return await asyncio.wait_for(reader.read(), PATIENCE_SECONDS)
    finally:
        writer.close()


def problem_of(response: bytes) -> tuple[int, dict[str, str]]:
    """The status and problem+json body of a raw HTTP response."""
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    return int(head.split()[1]), json.loads(body)


def head(*headers: str) -> bytes:
    """A GET request head with `headers`, minus the blank line that ends it."""
    return "\r\n".join(["GET /health/live HTTP/1.1", "Host: testserver", *headers, ""]).encode()


async def test_a_header_line_over_the_limit_gets_431(port: int) -> None:
    response = await exchange(port, head(f"X-Big: {'a' * 3000}") + b"\r\n")

    status, problem = problem_of(response)
    assert (status, problem["code"]) == (431, "header_fields_too_large")
    assert b"x-content-type-options: nosniff" in response


async def test_a_head_over_the_limit_gets_431_without_being_read_whole(port: int) -> None:
    small_lines = [f"X-Part-{n}: {'b' * 1000}" for n in range(10)]
    many = await exchange(port, head(*small_lines) + b"\r\n")
    # A megabyte-long header that never ends: answered while it is still arriving.
    endless = await exchange(port, head() + b"X-Huge: ", *[b"c" * 16_384] * 4)

    assert problem_of(many)[0] == 431
    assert problem_of(endless)[0] == 431


async def test_a_request_within_the_limits_is_served(port: int) -> None:
    response = await exchange(port, head(f"X-Fine: {'d' * 1500}", "Connection: close") + b"\r\n")

    assert response.startswith(b"HTTP/1.1 200 OK")
    assert b"server:" not in response.lower()


async def test_slow_and_idle_clients_are_cut_off(port: int) -> None:
    stalled_body = (
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: testserver\r\n"
        b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":'
    )
    # Concurrently, so that the suite waits for the longest timeout only.
    partial_head, nothing, partial_body = await asyncio.gather(
        exchange(port, b"GET /health/live HTTP/1.1\r\nHost: test"),
        exchange(port),
        exchange(port, stalled_body),
    )

    assert problem_of(partial_head)[0] == 408
    assert problem_of(partial_head)[1]["code"] == "request_timeout"
    assert nothing == b""  # a 408 nobody asked for could race the client's first request
    assert b" 201 " not in partial_body  # cut off, not waiting for the other 990 bytes


async def test_sigterm_finishes_in_flight_requests_and_leaves_stalled_ones(
    app: FastAPI, server_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVER_BODY_IDLE_TIMEOUT_SECONDS", "60")  # only the shutdown ends it
    get_settings.cache_clear()
    async with running(app) as served, AsyncExitStack() as connections:
        connections.callback(get_settings.cache_clear)  # for the module's limits again
        stalled = await connections.enter_async_context(_connection(served.port))
        normal = await connections.enter_async_context(_connection(served.port))
        for _, writer in (stalled, normal):
            writer.write(_post(REGISTER)[:-20])
            await writer.drain()
        await asyncio.sleep(0.1)  # let the server read both heads

        served.server.should_exit = True  # what SIGTERM's handler does
        await asyncio.sleep(0.1)
        normal[1].write(_post(REGISTER)[-20:])
        answer = await asyncio.wait_for(normal[0].read(), PATIENCE_SECONDS)
        await asyncio.wait_for(asyncio.shield(served.task), PATIENCE_SECONDS)
        cut_off = await asyncio.wait_for(stalled[0].read(), PATIENCE_SECONDS)

    assert answer.startswith(b"HTTP/1.1 201 Created"), answer
    assert b" 201 " not in cut_off


@asynccontextmanager
async def _connection(
    port: int,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()


def _post(body: bytes) -> bytes:
    return (
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: testserver\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
