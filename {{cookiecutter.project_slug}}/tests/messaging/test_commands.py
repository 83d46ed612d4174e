"""The `relay` and `outbox` commands."""

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.messaging import commands{% if cookiecutter.messaging == "local" %}, registry{% endif %}
from {{ cookiecutter.package_name }}.messaging.models import MessageState
from {{ cookiecutter.package_name }}.messaging.outbox import enqueue
from {{ cookiecutter.package_name }}.settings import Settings, get_settings
from {{ cookiecutter.package_name }}.users.messages import SendWelcomeEmail
from tests.conftest import DatabaseForTest
from tests.messaging.conftest import RecordedEmail, outbox_rows


async def queue_one(session: AsyncSession, state: MessageState) -> uuid.UUID:
    message_id = enqueue(
        session, SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="")
    )
    [row] = await outbox_rows(session)
    if state == MessageState.DEAD:
        row.state, row.attempts, row.last_error = state, 8, "SMTPConnectError: refused"
    await session.commit()
    return message_id


async def test_dead_messages_are_listed_and_requeued(
    use_database: Callable[[str], None],
    test_database: DatabaseForTest,
    session: AsyncSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    message_id = await queue_one(session, MessageState.DEAD)
    use_database(test_database.url)

    await asyncio.to_thread(main, ["outbox", "dead"])
    listed = capsys.readouterr().out
    await asyncio.to_thread(main, ["outbox", "requeue", str(message_id)])
    requeued = capsys.readouterr().out
    await asyncio.to_thread(main, ["outbox", "dead"])

    assert listed == (f"{message_id}  email.welcome v1  8 attempts  SMTPConnectError: refused\n")
    assert requeued == "Requeued 1 message.\n"
    assert capsys.readouterr().out == "No dead messages.\n"
    [row] = await outbox_rows(session)
    assert (row.state, row.attempts) == (MessageState.PENDING, 0)


def test_requeue_needs_the_messages_named_or_all() -> None:
    with pytest.raises(SystemExit, match="name the messages to requeue, or pass --all"):
        main(["outbox", "requeue"])


{% if cookiecutter.messaging != "local" -%}
@pytest.mark.usefixtures("worker")
{% endif -%}
async def test_the_relay_command_hands_messages_on_until_stopped(
{%- if cookiecutter.messaging == "local" %}
    settings: Settings,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    email: RecordedEmail,
{%- else %}
    broker_settings: Settings, session: AsyncSession, email: RecordedEmail
{%- endif %}
) -> None:
{%- if cookiecutter.messaging == "local" %}
    monkeypatch.setattr(registry, "email_sender", lambda _: email)
{%- else %}
    settings = broker_settings  # the worker, consuming in this process, sends to `email`
{%- endif %}
    await queue_one(session, MessageState.PENDING)
    stop = asyncio.Event()

    relaying = asyncio.create_task(commands.run_relay(settings, stop))
    message = await asyncio.wait_for(email.arrived.get(), timeout=10)
    stop.set()
    await relaying

    assert message["To"] == "a@example.com"
    [row] = await outbox_rows(session, SendWelcomeEmail.TYPE)
    assert row.state == MessageState.SENT


def test_relay_runs_the_relay_on_the_settings(
    monkeypatch: pytest.MonkeyPatch, use_database: Callable[[str], None]
) -> None:
    ran: list[Settings] = []

    async def relay(settings: Settings) -> None:
        ran.append(settings)

    monkeypatch.setattr(commands, "run_relay", relay)
    main(["relay"])

    assert ran == [get_settings()]
