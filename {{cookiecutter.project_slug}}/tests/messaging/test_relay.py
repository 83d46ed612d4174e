"""The relay hands each message on, marks it sent only after the hand-off, retries with
growing delays, and lets the inbox keep a message handed on twice from acting twice."""

import asyncio
import uuid
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.application import relay_in_process
from {{ cookiecutter.package_name }}.messaging import outbox
from {{ cookiecutter.package_name }}.messaging.handlers import (
    Context,
    Dispatcher,
    JobHandler,
)
from {{ cookiecutter.package_name }}.messaging.messages import Envelope, Job
from {{ cookiecutter.package_name }}.messaging.models import MessageState
from {{ cookiecutter.package_name }}.messaging.outbox import Lease, enqueue
from {{ cookiecutter.package_name }}.messaging.registry import CONSUMERS, JOB_HANDLERS
from {{ cookiecutter.package_name }}.messaging.relay import Relay
{%- if cookiecutter.messaging != "local" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}
from {{ cookiecutter.package_name }}.users.messages import SendWelcomeEmail
from tests.conftest import Account, logged_events
from tests.messaging.conftest import Clock, RecordedEmail, RelayFactory, drain, outbox_rows


def sample(name: str, **labels: str) -> float:
    """The current value of a metric in this process; 0 before its first sample."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


REGISTER = {"email": "new@example.com", "password": "correct-horse-battery", "full_name": "New"}


async def register(client: AsyncClient) -> None:
    assert (await client.post("/api/v1/auth/register", json=REGISTER)).status_code == 201


async def test_a_registration_ends_in_one_welcome_email(
    client: AsyncClient, relay: Relay, email: RecordedEmail, session: AsyncSession
) -> None:
    await register(client)

    await drain(relay)  # the event, then the job its consumer queued

    [message] = email.sent
    assert (message["To"], message["Subject"]) == ("new@example.com", "Welcome")
    assert "Hello New," in message.get_content()
    rows = await outbox_rows(session)
    assert [row.name for row in rows] == ["user.registered", "email.welcome"]
    assert all(row.state == MessageState.SENT and row.sent_at for row in rows)


async def test_a_message_handed_on_twice_acts_once(
    client: AsyncClient, dispatcher: Dispatcher, relay: Relay, email: RecordedEmail
) -> None:
    job = SendWelcomeEmail(user_id=uuid.uuid4(), email="ada@example.com", full_name="Ada")
    envelope = Envelope(uuid.uuid4(), job.KIND, job.TYPE, job.VERSION, job.model_dump())

    await asyncio.gather(dispatcher.handle(envelope), dispatcher.handle(envelope))
    await dispatcher.handle(envelope)

    assert len(email.sent) == 1


async def test_a_relay_that_dies_holding_a_message_leaves_it_to_the_next(
    client: AsyncClient,
    make_relay: RelayFactory,
    dispatcher: Dispatcher,
    email: RecordedEmail,
    clock: Clock,
    session: AsyncSession,
    app: FastAPI,
) -> None:
    async with app.state.database.sessionmaker() as writer, writer.begin():
        enqueue(writer, SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name=""))
    crashed = Lease(uuid.uuid4(), clock() + timedelta(seconds=30))
    async with app.state.database.sessionmaker() as claimer, claimer.begin():
        [claimed] = await outbox.claim(claimer, crashed, clock(), limit=10)
    await dispatcher.handle(claimed)  # it acted, then died before marking the row sent
    survivor = make_relay(dispatcher.handle)

    assert await survivor.run_once() == 0  # still leased
    clock.advance(31)
    assert await survivor.run_once() == 1  # the lease ran out: handed on again

    assert len(email.sent) == 1  # the inbox kept the second hand-off from acting
    [row] = await outbox_rows(session)
    assert row.state == MessageState.SENT
    async with app.state.database.sessionmaker() as late, late.begin():
        assert await outbox.mark_sent(late, [claimed.id], crashed, clock()) == 0


class Unreachable(Exception):
    """What a failing hand-off raises."""


async def test_failures_are_retried_with_growing_delays_then_the_message_is_dead(
    make_relay: RelayFactory, clock: Clock, session: AsyncSession, app: FastAPI
) -> None:
    async def fail(_: Envelope) -> None:
        raise Unreachable("the broker is down")

    relay = make_relay(fail)
    async with app.state.database.sessionmaker() as writer, writer.begin():
        enqueue(writer, SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name=""))
    dead_before = sample("outbox_messages_dead_total", kind="job")

    delays = []
    for _ in range(relay.retry.attempts):
        assert await relay.run_once() == 0
        [row] = await outbox_rows(session)
        delays.append(round((row.available_at - clock()).total_seconds()))
        clock.move_to(row.available_at)

    assert delays[:4] == [2, 4, 8, 16]
    assert row.state == MessageState.DEAD
    assert row.attempts == relay.retry.attempts
    assert row.last_error == "Unreachable: the broker is down"
    assert sample("outbox_messages_dead_total", kind="job") == dead_before + 1
    clock.advance(3600)
    assert await relay.run_once() == 0  # dead rows are not tried again

    assert await outbox.requeue(session, None) == 1
    await session.commit()
    [row] = await outbox_rows(session)
    assert (row.state, row.attempts) == (MessageState.PENDING, 0)


async def test_a_message_no_type_describes_ends_dead_not_in_a_loop(
    relay: Relay, session: AsyncSession, clock: Clock
) -> None:
    job = SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="")
    enqueue(session, job)
    [row] = await outbox_rows(session)
    row.version = 99  # written by a newer release, say
    await session.commit()

    for _ in range(relay.retry.attempts):
        await relay.run_once()
        clock.advance(relay.retry.ceiling)

    [row] = await outbox_rows(session)
    assert row.state == MessageState.DEAD
    assert "no job type email.welcome v99" in (row.last_error or "")


class Count(Job):
    """A job that only counts how often it ran, by message."""

    TYPE = "test.count"

    number: int


@pytest.mark.only_on("postgresql")
async def test_two_relays_deliver_each_of_200_messages_exactly_once(
    app: FastAPI, session: AsyncSession
) -> None:
    ran: list[int] = []

    async def count(job: Count, _: Context) -> None:
        ran.append(job.number)
        await asyncio.sleep(0)  # let the other relay in

    handlers = [JobHandler(Count, count)]
    dispatcher = Dispatcher(app.state.database, app.state.settings, RecordedEmail(), [], handlers)
    async with app.state.database.sessionmaker() as writer, writer.begin():
        for number in range(200):
            enqueue(writer, Count(number=number))
    handed_on: list[uuid.UUID] = []

    async def deliver(envelope: Envelope) -> None:
        handed_on.append(envelope.id)
        await dispatcher.handle(envelope)

    small_batches = app.state.settings.model_copy(update={"outbox_batch_size": 10})
    first, second = (Relay(app.state.database, small_batches, deliver) for _ in range(2))

    await drain(first, second)

    assert sorted(ran) == list(range(200))
    assert len(handed_on) == len(set(handed_on)) == 200  # no row claimed twice
    rows = await outbox_rows(session)
    assert {row.state for row in rows} == {MessageState.SENT}
    assert {row.claimed_by for row in rows} == {first.id, second.id}


@pytest.mark.only_on("sqlite")
async def test_writes_beside_a_running_relay_meet_no_busy_database(
    user: Account, relay: Relay, session: AsyncSession
) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))

    answers = await asyncio.gather(
        *(
            user.client.post("/api/v1/items", json={"name": f"Item {n}", "price_cents": n})
            for n in range(40)
        )
    )
    stop.set()
    await running
    await drain(relay)

    assert [answer.status_code for answer in answers] == [201] * 40
    rows = await outbox_rows(session, "item.created")
    assert len(rows) == 40
    assert {row.state for row in rows} == {MessageState.SENT}


{% if cookiecutter.messaging != "local" -%}
@pytest.mark.usefixtures("worker")
{% endif -%}
async def test_the_application_runs_a_relay_while_it_serves(
    app: FastAPI,
    client: AsyncClient,
    email: RecordedEmail,
    dispatcher: Dispatcher,
{%- if cookiecutter.messaging != "local" %}
    broker_settings: Settings,
{%- endif %}
) -> None:
    app.state.dispatcher = dispatcher  # the handlers send to `email`
{%- if cookiecutter.messaging == "local" %}
    settings = app.state.settings
{%- else %}
    settings = broker_settings  # the relay publishes where the worker consumes
{%- endif %}
    app.state.settings = settings.model_copy(update={"outbox_relay_in_process": True})
    async with relay_in_process(app):
        await register(client)
        message = await asyncio.wait_for(email.arrived.get(), timeout=10)

    assert message["To"] == "new@example.com"


async def test_without_the_in_process_relay_nothing_runs_beside_the_app(app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(update={"outbox_relay_in_process": False})
    tasks = asyncio.all_tasks()
    async with relay_in_process(app):
        assert asyncio.all_tasks() == tasks


async def test_the_relay_reports_its_backlog(
    client: AsyncClient, relay: Relay, clock: Clock
) -> None:
    await register(client)
    clock.advance(5)

    await relay.observe_backlog()

    assert sample("outbox_backlog") == 1
    assert sample("outbox_oldest_pending_age_seconds") >= 5
    await drain(relay)
    await relay.observe_backlog()
    assert sample("outbox_backlog") == 0


async def test_a_new_item_is_kept_in_the_audit_log(
    user: Account, relay: Relay, caplog: pytest.LogCaptureFixture
) -> None:
    created = await user.client.post("/api/v1/items", json={"name": "Mug", "price_cents": 1})

    with caplog.at_level("INFO"):
        await drain(relay)

    [event] = [e for e in logged_events(caplog, "items.messages") if e["event"] == "item_created"]
    assert (event["item_id"], event["owner_id"]) == (created.json()["id"], str(user.id))


async def test_a_hand_off_that_hangs_fails_before_the_lease_runs_out(
    app: FastAPI, session: AsyncSession
) -> None:
    async def hang(_: Envelope) -> None:
        await asyncio.Event().wait()

    short_lease = app.state.settings.model_copy(update={"outbox_lease_seconds": 0.5})
    job = SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="")
    enqueue(session, job)
    await session.commit()

    assert await Relay(app.state.database, short_lease, hang).run_once() == 0

    [row] = await outbox_rows(session)
    assert (row.state, row.attempts, row.claimed_until) == (MessageState.PENDING, 1, None)
    assert (row.last_error or "").startswith("TimeoutError")


class HeldEmail(RecordedEmail):
    """An email sender that waits until the test lets it send."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, message: EmailMessage) -> None:
        self.sending.set()
        await self.release.wait()
        await super().send(message)


@pytest.mark.only_on("sqlite")
async def test_a_handler_waiting_on_its_email_holds_up_no_write(
    app: FastAPI, user: Account, session: AsyncSession
) -> None:
    email = HeldEmail()
    settings = app.state.settings
    dispatcher = Dispatcher(app.state.database, settings, email, CONSUMERS, JOB_HANDLERS)
    job = SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="")
    enqueue(session, job)
    await session.commit()
    relay = Relay(app.state.database, settings, dispatcher.handle)
    relaying = asyncio.create_task(relay.run_once())
    await asyncio.wait_for(email.sending.wait(), timeout=10)

    created = await user.client.post("/api/v1/items", json={"name": "Mug", "price_cents": 1})
    email.release.set()

    assert created.status_code == 201
    assert await relaying == 1
    assert len(email.sent) == 1
