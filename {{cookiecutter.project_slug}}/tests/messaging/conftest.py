"""Fixtures: a dispatcher with every handler of the service, sending email to a list; relays
on the test's database, on a clock the test moves."""

import asyncio
{%- if cookiecutter.messaging != "local" %}
import uuid
from collections.abc import AsyncIterator
{%- if cookiecutter.messaging == "nats" %}
from contextlib import suppress
{%- endif %}
{%- endif %}
from datetime import datetime, timedelta
from email.message import EmailMessage

{% if cookiecutter.messaging == "rabbitmq" -%}
import aio_pika
{% elif cookiecutter.messaging == "nats" -%}
import nats
{% endif -%}
import pytest
from fastapi import FastAPI
{%- if cookiecutter.messaging == "nats" %}
from nats.js.errors import NotFoundError
{%- endif %}
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.models import utc_now
{%- if cookiecutter.messaging != "local" %}
from {{ cookiecutter.package_name }}.messaging.broker import Broker
{%- endif %}
from {{ cookiecutter.package_name }}.messaging.handlers import Dispatcher
{%- if cookiecutter.messaging == "rabbitmq" %}
from {{ cookiecutter.package_name }}.messaging.messages import Job, Message
{%- endif %}
from {{ cookiecutter.package_name }}.messaging.models import OutboxMessage
from {{ cookiecutter.package_name }}.messaging.registry import CONSUMERS, JOB_HANDLERS
from {{ cookiecutter.package_name }}.messaging.relay import Deliver, Periodic, Relay
from {{ cookiecutter.package_name }}.settings import Settings


class RecordedEmail:
    """An email sender that keeps what it is given; `arrived` wakes whoever waits for one."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.arrived = asyncio.Queue[EmailMessage]()

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
        self.arrived.put_nowait(message)


class Clock:
    """The time, moved ahead by the test to run out leases and retry delays."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.ahead

    def advance(self, seconds: float) -> None:
        self.ahead += timedelta(seconds=seconds)

    def move_to(self, moment: datetime) -> None:
        self.ahead = moment - utc_now()


@pytest.fixture
def email() -> RecordedEmail:
    return RecordedEmail()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher(app: FastAPI, settings: Settings, email: RecordedEmail) -> Dispatcher:
    """The service's consumers and job handlers, on the test's database."""
    return Dispatcher(app.state.database, settings, email, CONSUMERS, JOB_HANDLERS)


class RelayFactory:
    """Makes relays on the test's database; each has an id of its own."""

    def __init__(self, app: FastAPI, settings: Settings, clock: Clock) -> None:
        self.app, self.settings, self.clock = app, settings, clock

    def __call__(self, deliver: Deliver, periodic: tuple[Periodic, ...] = ()) -> Relay:
        return Relay(self.app.state.database, self.settings, deliver, periodic, self.clock)


@pytest.fixture
def make_relay(app: FastAPI, settings: Settings, clock: Clock) -> RelayFactory:
    return RelayFactory(app, settings, clock)


@pytest.fixture
def relay(make_relay: RelayFactory, dispatcher: Dispatcher) -> Relay:
    """A relay handing messages to this process's handlers."""
    return make_relay(dispatcher.handle)


async def drain(*relays: Relay) -> None:
    """Run the relays until none finds anything due."""
    while sum(await asyncio.gather(*(relay.run_once() for relay in relays))):
        pass


async def outbox_rows(session: AsyncSession, name: str | None = None) -> list[OutboxMessage]:
    """The outbox, oldest first, read afresh; only messages named `name` if given."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at)
    if name is not None:
        query = query.where(OutboxMessage.name == name)
    session.expire_all()
    return list(await session.scalars(query))
{%- if cookiecutter.messaging != "local" %}


@pytest.fixture
async def broker_settings(settings: Settings) -> AsyncIterator[Settings]:
    """Settings naming everything on the broker after a prefix of the test's own; all of it
    is deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield settings.model_copy(
        update={
            "broker_prefix": prefix,
            "broker_delivery_limit": 2,
            "outbox_poll_seconds": 0.05,
            "outbox_retry_base_seconds": 0.05,
        }
    )
    url = settings.broker_url.get_secret_value()
{%- if cookiecutter.messaging == "rabbitmq" %}
    jobs = [message for message in Message.registry.values() if issubclass(message, Job)]
    queues = [
        *(f"{prefix}.{consumer.name}" for consumer in CONSUMERS),
        *(f"{prefix}.job:{job.TYPE}" for job in jobs),
        f"{prefix}.dead",
    ]
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
        for exchange in (prefix, f"{prefix}.dead"):
            await channel.exchange_delete(exchange)
{%- else %}
    connection = await nats.connect(url)
    try:
        with suppress(NotFoundError):  # never made, when the broker was out of reach
            await connection.jetstream().delete_stream(prefix)
    finally:
        await connection.close()
{%- endif %}


@pytest.fixture
async def worker(broker_settings: Settings, dispatcher: Dispatcher) -> AsyncIterator[Broker]:
    """The worker's side, consuming in this process with the test's dispatcher."""
    consuming = Broker(broker_settings)
    consuming.consume(dispatcher)
    await consuming.start(dispatcher)
    yield consuming
    await consuming.close()
{%- endif %}
