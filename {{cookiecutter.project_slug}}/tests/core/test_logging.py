"""No log line carries a raw control character, whichever format the logs are in, and no
access-log line is held for good."""

import asyncio
import functools
import io
import json
import logging
import unicodedata

import pytest
import structlog
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.logging import (
    AccessLog,
    configure_logging,
    escape_unprintable,
)
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import printed

# NUL, an ANSI "erase screen", a forged line and a right-to-left override, percent-encoded.
HOSTILE_PATH = "/api/v1/items/%00%1b%5b2J%0aforged%e2%80%ae"
DECODED = "/api/v1/items/\x00\x1b[2J\nforged\u202e"


def unprintable(text: str) -> list[str]:
    """The control and bidi formatting characters in `text`."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


def access_lines(output: str) -> list[str]:
    """The access-log lines in `output`."""
    return [line for line in output.splitlines() if "forged" in line]


@pytest.mark.parametrize("log_json", [False, True], ids=["console", "json"])
async def test_a_hostile_request_path_is_logged_on_one_line_without_raw_controls(
    client: AsyncClient,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    log_json: bool,
) -> None:
    configure_logging(settings.model_copy(update={"log_json": log_json, "log_level": "INFO"}))

    await client.get(HOSTILE_PATH)

    [line] = access_lines(await printed(capsys))
    assert unprintable(line) == []
    if log_json:
        assert json.loads(line)["path"] == DECODED
    else:
        assert "path=/api/v1/items/\\x00\\x1b[2J\\nforged\\u202e" in line


def test_a_traceback_keeps_its_line_breaks_and_loses_the_rest() -> None:
    event = {"event": "boom\x1b", "exception": "Traceback:\n  ValueError: \x1b[31m", "n": 1}

    escaped = escape_unprintable(None, "error", event)

    assert escaped == {
        "event": "boom\\x1b",
        "exception": "Traceback:\n  ValueError: \\x1b[31m",
        "n": 1,
    }


def test_an_access_line_held_when_its_loop_stopped_goes_out_with_the_next() -> None:
    stream = io.StringIO()
    access_log = AccessLog([structlog.processors.JSONRenderer()], logging.INFO, stream)
    stopped = asyncio.new_event_loop()
    stopped.call_soon(stopped.stop)
    stopped.call_soon(functools.partial(access_log.request, path="/first"))
    stopped.run_forever()  # stops before the turn that would write the line
    stopped.close()

    async def serve_another() -> None:
        access_log.request(path="/second")

    asyncio.run(serve_another())

    written = [json.loads(line)["path"] for line in stream.getvalue().splitlines()]
    assert written == ["/first", "/second"]
