"""With SENTRY_DSN set, an unhandled error is reported once, tagged with the request id and
the caller, and without personal data."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from fastapi import FastAPI
from pydantic import SecretStr
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from {{ cookiecutter.package_name }}.auth.dependencies import CurrentPrincipal
from {{ cookiecutter.package_name }}.core.sentry import configure_sentry
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import Account, http_client

DSN = "https://public@sentry.example.invalid/1"


class Captured(Transport):
    """Keeps the events the SDK sends, instead of sending them."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        event = envelope.get_event()
        if event is not None:
            self.events.append(dict(event))


@pytest.fixture
def sent(settings: Settings) -> Iterator[list[dict[str, Any]]]:
    """The events reported while the test runs, with SENTRY_DSN set; the SDK is closed after."""
    transport = Captured()
    with_dsn = settings.model_copy(update={"sentry_dsn": SecretStr(DSN)})
    assert configure_sentry(with_dsn, transport=transport)
    yield transport.events
    sentry_sdk.get_client().close()


async def test_an_unhandled_error_is_reported_once_with_its_tags(
    fresh_app: FastAPI, user: Account, sent: list[dict[str, Any]]
) -> None:
    @fresh_app.get("/boom")
    async def boom(principal: CurrentPrincipal) -> None:
        raise RuntimeError("boom")

    token = {"Authorization": f"Bearer {user.tokens['access_token']}"}
    cookie = uuid.uuid4().hex  # made here, so that the source lines sent cannot hold it
    async with http_client(fresh_app, headers=token) as client:
        response = await client.get("/boom", headers={"Cookie": f"session={cookie}"})

    assert response.status_code == 500
    [event] = sent
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert event["tags"]["user_id"] == str(user.id)
    assert event["environment"] == "test"
    sent_text = json.dumps(event, default=str)
    assert user.tokens["access_token"] not in sent_text
    assert cookie not in sent_text
    assert "ip_address" not in event.get("user", {})


def test_without_a_dsn_nothing_starts(settings: Settings) -> None:
    assert configure_sentry(settings.model_copy(update={"sentry_dsn": None})) is False
