"""No log line carries a raw control character, whichever format the logs are in."""

import json
import unicodedata

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.logging import (
    configure_logging,
    escape_unprintable,
)
from {{ cookiecutter.package_name }}.settings import Settings

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

    [line] = access_lines(capsys.readouterr().out)
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
