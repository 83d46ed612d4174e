{%- if cookiecutter.messaging == "rabbitmq" -%}
"""End to end through this machine's RabbitMQ: request, outbox, relay, broker, worker,
effect; marked sent only after the confirm; a poison message ends in the dead-letter queue.
{%- else -%}
"""End to end through this machine's NATS JetStream: request, outbox, relay, stream, worker,
effect; marked sent only after the stream's acknowledgement; a poison message ends on the
dead-letter subject.
{%- endif %}

Every test declares what it needs under a prefix of its own, and deletes it afterwards.
"""

import asyncio
{%- if cookiecutter.messaging == "rabbitmq" %}
import gc
{%- endif %}
import socket
import uuid
{%- if cookiecutter.messaging == "rabbitmq" %}
import warnings
{%- endif %}
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

{% if cookiecutter.messaging == "rabbitmq" -%}
import aio_pika
{% else -%}
import nats
{% endif -%}
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.cli import main
from {{ cookiecutter.package_name }}.messaging import commands, registry
from {{ cookiecutter.package_name }}.messaging.broker import Broker
from {{ cookiecutter.package_name }}.messaging.handlers import (
    Consumer,
    Context,
    Dispatcher,
    JobHandler,
)
from {{ cookiecutter.package_name }}.messaging.messages import Envelope, Job, Message
from {{ cookiecutter.package_name }}.messaging.models import MessageState
from {{ cookiecutter.package_name }}.messaging.outbox import enqueue
from {{ cookiecutter.package_name }}.messaging.registry import CONSUMERS, JOB_HANDLERS
from {{ cookiecutter.package_name }}.messaging.relay import Relay
from {{ cookiecutter.package_name }}.settings import Settings, get_settings
from {{ cookiecutter.package_name }}.users.messages import SendWelcomeEmail
from tests.messaging.conftest import RecordedEmail, outbox_rows

REGISTER = {"email": "new@example.com", "password": "correct-horse-battery", "full_name": "New"}


class Poison(Job):
    """A job its handler always fails on."""

    TYPE = "test.poison"


class Observed(Dispatcher):
    """A dispatcher that reports every message it was handed, and whether it acted on it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled = asyncio.Queue[tuple[uuid.UUID, bool]]()

    async def handle_once(
        self, handler: Consumer | JobHandler, message_id: uuid.UUID, message: Message
    ) -> bool:
        try:
            acted = await super().handle_once(handler, message_id, message)
        except Exception:
            self.handled.put_nowait((message_id, False))
            raise
        self.handled.put_nowait((message_id, acted))
        return acted


@pytest.fixture
def dispatcher(app: FastAPI, broker_settings: Settings, email: RecordedEmail) -> Observed:
    """Every handler of the service, and one that always fails."""
    jobs = [*JOB_HANDLERS, JobHandler(Poison, fail)]
    return Observed(app.state.database, broker_settings, email, CONSUMERS, jobs)


async def fail(_: Poison, __: Context) -> None:
    raise RuntimeError("this job always fails")


@pytest.fixture
async def publisher(broker_settings: Settings, dispatcher: Observed) -> AsyncIterator[Broker]:
    """The relay's side."""
    publishing = Broker(broker_settings)
    await publishing.connect(dispatcher)
    yield publishing
    await publishing.close()


@pytest.mark.usefixtures("worker")
async def test_a_registration_is_welcomed_through_the_broker(
    app: FastAPI,
    client: AsyncClient,
    broker_settings: Settings,
    publisher: Broker,
    email: RecordedEmail,
    session: AsyncSession,
) -> None:
    relay = Relay(app.state.database, broker_settings, publisher.deliver)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))

    assert (await client.post("/api/v1/auth/register", json=REGISTER)).status_code == 201
    message = await asyncio.wait_for(email.arrived.get(), timeout=20)
    stop.set()
    await relaying

    assert (message["To"], message["Subject"]) == ("new@example.com", "Welcome")
    rows = await outbox_rows(session)
    assert [row.name for row in rows] == ["user.registered", "email.welcome"]
    assert {row.state for row in rows} == {MessageState.SENT}


async def test_a_message_the_broker_did_not_take_stays_pending(
    app: FastAPI, broker_settings: Settings, session: AsyncSession
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
{%- if cookiecutter.messaging == "rabbitmq" %}
    nowhere = f"amqp://guest:guest@127.0.0.1:{closed}/"
{%- else %}
    nowhere = f"nats://127.0.0.1:{closed}"
{%- endif %}
    unreachable = Broker(
        broker_settings.model_copy(
            update={"broker_url": SecretStr(nowhere), "broker_publish_timeout_seconds": 1}
        )
    )
    enqueue(session, Poison())
    await session.commit()

    relay = Relay(app.state.database, broker_settings, unreachable.deliver)
    assert await relay.run_once() == 0
    await unreachable.close()
{%- if cookiecutter.messaging == "rabbitmq" %}
    with warnings.catch_warnings():
        # aio-pika drops the connection a failed connect made, unclosed; collected now, its
        # close is never awaited, which is aio-pika's affair rather than this test's.
        warnings.simplefilter("ignore", RuntimeWarning)
        gc.collect()
{%- endif %}

    [row] = await outbox_rows(session)
    assert (row.state, row.attempts, row.sent_at) == (MessageState.PENDING, 1, None)
    assert row.last_error
{%- if cookiecutter.messaging == "rabbitmq" %}


async def test_a_message_no_queue_takes_is_not_marked_sent(
    app: FastAPI, broker_settings: Settings, session: AsyncSession
) -> None:
    bare = Broker(broker_settings)  # connected without declaring the service's queues
    await bare.connect()
    enqueue(session, Poison())
    await session.commit()

    assert await Relay(app.state.database, broker_settings, bare.deliver).run_once() == 0
    await bare.close()

    [row] = await outbox_rows(session)
    assert row.state == MessageState.PENDING
    assert "no queue is bound" in (row.last_error or "")
{%- endif %}


@pytest.mark.usefixtures("worker")
async def test_a_message_published_twice_acts_once(
    publisher: Broker, dispatcher: Observed, email: RecordedEmail
) -> None:
    job = SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="A")
    envelope = Envelope(uuid.uuid4(), job.KIND, job.TYPE, job.VERSION, job.model_dump(mode="json"))

    await publisher.deliver(envelope)
    await publisher.deliver(envelope)  # the relay died before marking it sent, say

{%- if cookiecutter.messaging == "rabbitmq" %}
    # RabbitMQ delivers both copies, maybe at once; the inbox lets only one act.
    handled = [await asyncio.wait_for(dispatcher.handled.get(), timeout=20) for _ in range(2)]
    assert sorted(handled) == [(envelope.id, False), (envelope.id, True)]
{%- else %}
    assert await asyncio.wait_for(dispatcher.handled.get(), timeout=20) == (envelope.id, True)
    # The stream took the second copy for what it is, a duplicate, and stored it once.
    stream = await publisher.broker.connection.jetstream().stream_info(publisher.prefix)
    assert stream.state.messages == 1
{%- endif %}
    assert len(email.sent) == 1


@pytest.mark.usefixtures("worker")
async def test_a_poison_message_is_dead_lettered_after_the_delivery_limit(
    app: FastAPI, broker_settings: Settings, publisher: Broker, dispatcher: Observed
) -> None:
{%- if cookiecutter.messaging == "rabbitmq" %}
    dead_letters = asyncio.Queue[Any]()
    connection = await aio_pika.connect(broker_settings.broker_url.get_secret_value())
    channel = await connection.channel()
    dead_queue = await channel.get_queue(f"{publisher.prefix}.dead")
    await dead_queue.consume(dead_letters.put, no_ack=True)
{%- else %}
    dead_letters = asyncio.Queue[Any]()
    connection = await nats.connect(broker_settings.broker_url.get_secret_value())
    await connection.subscribe(f"{publisher.prefix}.dead.>", cb=dead_letters.put)
{%- endif %}
    async with app.state.database.sessionmaker() as session, session.begin():
        message_id = enqueue(session, Poison())

    assert await Relay(app.state.database, broker_settings, publisher.deliver).run_once() == 1
    dead = await asyncio.wait_for(dead_letters.get(), timeout=30)
    await connection.close()

    attempts = [dispatcher.handled.get_nowait() for _ in range(dispatcher.handled.qsize())]
    assert attempts == [(message_id, False)] * (broker_settings.broker_delivery_limit + 1)
{%- if cookiecutter.messaging == "rabbitmq" %}
    assert dead.message_id == str(message_id)
{%- else %}
    assert dead.headers["message-type"] == Poison.TYPE
    assert "this job always fails" in dead.headers["error"]
{%- endif %}


async def test_the_worker_command_consumes_until_stopped(
    app: FastAPI,
    broker_settings: Settings,
    publisher: Broker,
    email: RecordedEmail,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "email_sender", lambda _: email)
    stop = asyncio.Event()
    working = asyncio.create_task(commands.run_worker(broker_settings, stop))
    async with app.state.database.sessionmaker() as session, session.begin():
        welcome = SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="")
        enqueue(session, welcome)

    assert await Relay(app.state.database, broker_settings, publisher.deliver).run_once() == 1
    message = await asyncio.wait_for(email.arrived.get(), timeout=20)
    stop.set()
    await working

    assert message["To"] == "a@example.com"


def test_worker_runs_the_worker_on_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[Settings] = []

    async def worker(settings: Settings) -> None:
        ran.append(settings)

    monkeypatch.setattr(commands, "run_worker", worker)
    main(["worker"])

    assert ran == [get_settings()]


async def test_the_worker_beats_while_the_broker_answers(
    worker: Broker, broker_settings: Settings, tmp_path: Path
) -> None:
    heartbeat = tmp_path / "heartbeat"
    beating = broker_settings.model_copy(update={"worker_heartbeat_file": heartbeat})
    stop = asyncio.Event()
    stop.set()  # one beat, then stop

    await commands.keep_heartbeat(worker, beating, stop)

    assert heartbeat.exists()
