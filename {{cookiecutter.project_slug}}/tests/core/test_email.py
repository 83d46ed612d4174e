"""Email goes to the log by default, or through an SMTP server (one started by the test)."""

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.email import (
    LogEmail,
    SmtpEmail,
    compose,
    email_sender,
)
from {{ cookiecutter.package_name }}.messaging.registry import service_dispatcher
from {{ cookiecutter.package_name }}.messaging.relay import Relay
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import logged_events
from tests.messaging.conftest import drain


class Mailbox:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _: SMTP, __: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server on a free loopback port, and what it received."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def smtp_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
        }
    )


async def test_an_email_is_sent_through_the_smtp_server(
    settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    sender = email_sender(smtp_settings(settings, port))
    assert isinstance(sender, SmtpEmail)

    await sender.send(compose(settings, to="ada@example.com", subject="Hi", body="Hello.\n"))

    [received] = box.messages
    assert (received["To"], received["Subject"], received["From"]) == (
        "ada@example.com",
        "Hi",
        settings.email_from,
    )


async def test_an_unreachable_server_is_an_error(
    settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = SmtpEmail(smtp_settings(settings, closed_port))

    with pytest.raises(aiosmtplib.SMTPConnectError):
        await sender.send(compose(settings, to="ada@example.com", subject="Hi", body="."))


async def test_a_new_user_is_welcomed_through_the_smtp_server(
    app: FastAPI, client: AsyncClient, settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    smtp = smtp_settings(settings, port)
    dispatcher = service_dispatcher(app.state.database, smtp)
    body = {"email": "new@example.com", "password": "correct-horse-battery", "full_name": "New"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201

    await drain(Relay(app.state.database, smtp, dispatcher.handle))

    [received] = box.messages
    assert (received["To"], received["Subject"]) == ("new@example.com", "Welcome")


async def test_by_default_an_email_is_only_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    sender = email_sender(settings)
    assert isinstance(sender, LogEmail)

    with caplog.at_level("DEBUG"):
        await sender.send(compose(settings, to="ada@example.com", subject="Hi", body="Hello."))

    events = {event["event"]: event for event in logged_events(caplog, "email")}
    assert (events["email_logged"]["to"], events["email_logged"]["subject"]) == (
        "ada@example.com",
        "Hi",
    )
    assert events["email_body"]["body"] == "Hello.\n"
