"""uvicorn, hardened: bounded request heads, timeouts for slow clients, bounded shutdown.

uvicorn's fast parser (httptools) reads a request head of any size, and nothing times out a
connection that sends nothing, a head that trickles in, or a body that stops halfway: each
holds memory and a socket for as long as the client likes. `HardenedHttpToolsProtocol` adds
what is missing, with limits from settings:

- a head over `SERVER_MAX_HEAD_BYTES`, or a header line over `SERVER_MAX_HEADER_LINE_BYTES`,
  is answered 431 and the connection closed, after reading at most the limit and one read;
- a connection with no complete head within `SERVER_HEAD_TIMEOUT_SECONDS` is closed (with
  408 if part of a head arrived); idle keep-alive stays uvicorn's `timeout_keep_alive`;
- a body with no new byte for `SERVER_BODY_IDLE_TIMEOUT_SECONDS` is cut off, which the
  application sees as a disconnect.

It overrides parser callbacks of uvicorn's own protocol, so `pyproject.toml` pins uvicorn's
minor version, and `tests/test_server.py` checks each rule against a real server: run it
when you raise the pin.
"""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from {{ cookiecutter.package_name }}.core.problems import PROBLEM_MEDIA_TYPE, problem_body
from {{ cookiecutter.package_name }}.core.protection import SECURITY_HEADERS
from {{ cookiecutter.package_name }}.settings import Settings, get_settings

# A header line as httptools hands it over lacks ": " and CRLF; a head line costs 4 more.
_LINE_OVERHEAD = 4


class _HeadTooLarge(Exception):
    """Raised from a parser callback, so httptools stops reading the head."""


def _problem(status: int, code: str, detail: str) -> bytes:
    """A complete HTTP response with a problem+json body that closes the connection.

    It is sent before the application sees the request, so it has no path or request id.
    """
    problem = problem_body(status=status, code=code, detail=detail, instance="", request_id="")
    body = json.dumps(problem, separators=(",", ":")).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *SECURITY_HEADERS,
    ]
    return (
        STATUS_LINE[status]
        + b"".join(b"%s: %s\r\n" % header for header in headers)
        + b"\r\n"
        + body
    )


HEAD_TOO_LARGE = _problem(431, "header_fields_too_large", "The request head is too large.")
HEAD_TIMEOUT = _problem(408, "request_timeout", "The request head did not arrive in time.")


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head limits and timeouts for slow clients."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.max_head = settings.server_max_head_bytes
        self.max_line = settings.server_max_header_line_bytes
        self.head_timeout = settings.server_head_timeout_seconds
        self.body_idle_timeout = settings.server_body_idle_timeout_seconds
        self.in_head = True  # between requests, or inside a request head
        self.head_bytes = 0  # bytes read since this head began: an upper bound of its size
        self.head_too_large = False
        self.timer: asyncio.TimerHandle | None = None

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self.timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        self.transport.write(response)
        self.transport.close()

    def _head_timed_out(self) -> None:
        self.timer = None
        if self.transport.is_closing():
            return
        if self.head_bytes:
            self._refuse(HEAD_TIMEOUT)
        else:
            self.transport.close()  # nothing was asked: a 408 could race a new request

    def _body_timed_out(self) -> None:
        self.timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request head."""
        super().connection_made(transport)
        self._arm(self.head_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock."""
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse, then enforce the head size and (re)arm the head or body timer."""
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self.in_head:
            if self.head_bytes > self.max_head:
                self._refuse(HEAD_TOO_LARGE)
            elif self.head_bytes and self.timer is None:
                self._arm(self.head_timeout, self._head_timed_out)
        elif self.cycle is not None and self.cycle.more_body:
            self._arm(self.body_idle_timeout, self._body_timed_out)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error; ours when a callback found the head too big."""
        if self.head_too_large:
            self._refuse(HEAD_TOO_LARGE)
        else:
            super().send_400_response(msg)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Refuse a header line over the limit."""
        if len(name) + len(value) > self.max_line:
            self.head_too_large = True
            raise _HeadTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """Measure a head that arrived in one large read, then stop the head clock."""
        if self.head_bytes > self.max_head:
            size = len(self.url) + sum(len(n) + len(v) + _LINE_OVERHEAD for n, v in self.headers)
            if size > self.max_head:
                self.head_too_large = True
                raise _HeadTooLarge
        self.in_head = False
        self.head_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """Expect the next head; guard the connection if the response went out already."""
        super().on_message_complete()
        self.in_head = True
        self.head_bytes = 0
        self._disarm()
        if self.cycle.response_complete and not self.transport.is_closing():
            # Body bytes after the response cancelled uvicorn's keep-alive timer.
            self._arm(self.head_timeout, self._head_timed_out)


def server_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options `serve` runs with, besides where it listens."""
    return {
        # --reload watches the code only, not the SQLite file next to it.
        "reload_dirs": [str(Path(__file__).parent)],
        "loop": "uvloop",
        "http": HardenedHttpToolsProtocol,
        "timeout_keep_alive": settings.server_keep_alive_seconds,
        "timeout_graceful_shutdown": settings.server_graceful_shutdown_seconds,
        "proxy_headers": False,  # the application believes only TRUSTED_PROXIES
        "server_header": False,
        "access_log": False,  # the service writes its own structured access log
        "log_config": None,  # keep the service's logging configuration
    }
