"""The HTTP server as `serve` runs it: bounded request heads, slow clients cut off, and a
SIGTERM that lets in-flight requests finish but does not wait for a stalled client."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

import {{ cookiecutter.package_name }} as package
from {{ cookiecutter.package_name }}.server import server_options
from {{ cookiecutter.package_name }}.settings import get_settings
from tests.conftest import TEST_SECRET, DatabaseForTest, settings_for

# Low, so that the tests see each limit quickly; the defaults are in settings.py.
SERVER_SETTINGS = {
    "SERVER_MAX_HEAD_BYTES": "8192",
    "SERVER_MAX_HEADER_LINE_BYTES": "2048",
    "SERVER_HEAD_TIMEOUT_SECONDS": "0.3",
    "SERVER_BODY_IDLE_TIMEOUT_SECONDS": "0.3",
    "SERVER_KEEP_ALIVE_SECONDS": "1",
    "SERVER_GRACEFUL_SHUTDOWN_SECONDS": "1",
}
# The longest any test waits for the server to act; far above the limits above.
PATIENCE_SECONDS = 10
REGISTER = b'{"email": "late@example.com", "password": "correct-horse-battery", "full_name": "L"}'


@pytest.fixture
def server_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The low limits, as the server process would read them from its environment."""
    for name, value in SERVER_SETTINGS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def port(app: FastAPI, server_settings: None) -> AsyncIterator[int]:
    """uvicorn with `serve`'s options, serving the test's application on a free port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", **server_options(get_settings()))
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    yield listener.getsockname()[1]
    server.should_exit = True
    await serving
    listener.close()


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
    partial_head, nothing, partial_body, after_a_response = await asyncio.gather(
        exchange(port, b"GET /health/live HTTP/1.1\r\nHost: test"),
        exchange(port),
        exchange(port, stalled_body),
        exchange(port, head() + b"\r\n"),
    )

    assert problem_of(partial_head)[0] == 408
    assert problem_of(partial_head)[1]["code"] == "request_timeout"
    assert nothing == b""  # a 408 nobody asked for could race the client's first request
    assert b" 201 " not in partial_body  # cut off, not waiting for the other 990 bytes
    assert after_a_response.startswith(b"HTTP/1.1 200 OK")  # then closed when idle


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free: int = probe.getsockname()[1]
        return free


async def test_sigterm_finishes_in_flight_requests_and_leaves_stalled_ones(
    test_database: DatabaseForTest,
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        **SERVER_SETTINGS,
        "SERVER_BODY_IDLE_TIMEOUT_SECONDS": "60",  # only the shutdown may end the stall
        "SERVER_GRACEFUL_SHUTDOWN_SECONDS": "2",
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": test_database.url,
        "REDIS_KEY_PREFIX": settings_for(test_database).redis_key_prefix,
        "ALLOWED_HOSTS": '["127.0.0.1"]',
        "PASSWORD_HASH_MEMORY_KIB": "64",
        "PASSWORD_HASH_TIME_COST": "1",
        "LOG_LEVEL": "WARNING",
        # Where the package is, whether or not it is installed.
        "PYTHONPATH": str(Path(package.__file__).parents[1]),
    }
    command = [sys.executable, "-m", package.__name__, "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)  # noqa: ASYNC220, S603
    async with AsyncExitStack() as connections:
        connections.callback(server.kill)
        await _until_listening(port, server)
        stalled = await connections.enter_async_context(_connection(port))
        normal = await connections.enter_async_context(_connection(port))
        for _, writer in (stalled, normal):
            writer.write(_post(REGISTER)[:-20])
            await writer.drain()
        await asyncio.sleep(0.2)  # let the server read both heads

        server.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)
        normal[1].write(_post(REGISTER)[-20:])
        answer = await asyncio.wait_for(normal[0].read(), PATIENCE_SECONDS)
        exit_code = await asyncio.to_thread(server.wait, PATIENCE_SECONDS)
        cut_off = await asyncio.wait_for(stalled[0].read(), PATIENCE_SECONDS)

    assert answer.startswith(b"HTTP/1.1 201 Created"), answer
    assert exit_code is not None
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
        b"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


async def _until_listening(port: int, server: "subprocess.Popen[bytes]") -> None:
    for _ in range(PATIENCE_SECONDS * 20):
        assert server.poll() is None, "the server exited"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    pytest.fail("the server did not start")
