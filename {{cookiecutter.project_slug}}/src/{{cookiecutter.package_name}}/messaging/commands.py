"""What the messaging commands do (`cli.py` parses their arguments)."""

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager{% if cookiecutter.messaging != "local" %}, suppress{% endif %}

from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.messaging import outbox
{%- if cookiecutter.messaging != "local" %}
from {{ cookiecutter.package_name }}.messaging.broker import Broker
{%- endif %}
from {{ cookiecutter.package_name }}.messaging.handlers import Dispatcher
from {{ cookiecutter.package_name }}.messaging.registry import (
    build_relay,
    hand_off,
    service_dispatcher,
)
from {{ cookiecutter.package_name }}.settings import Settings

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@asynccontextmanager
async def serving(settings: Settings, stop: asyncio.Event) -> AsyncIterator[Dispatcher]:
    """The service's handlers on a database of their own, until SIGINT or SIGTERM sets
    `stop`; the database is closed afterwards."""
    loop = asyncio.get_running_loop()
    for signum in SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    database = Database(settings)
    try:
        yield service_dispatcher(database, settings)
    finally:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)
        await database.dispose()


async def run_relay(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Relay until SIGINT or SIGTERM (or `stop`), then finish the message in hand."""
    stop = stop or asyncio.Event()
    async with serving(settings, stop) as dispatcher, hand_off(settings, dispatcher) as deliver:
        await build_relay(dispatcher.database, settings, deliver).run(stop)
{%- if cookiecutter.messaging != "local" %}


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Consume from the broker until SIGINT or SIGTERM (or `stop`), then finish the messages
    in hand: every consumer and job handler of the service, each on its own queue."""
    stop = stop or asyncio.Event()
    async with serving(settings, stop) as dispatcher:
        broker = Broker(settings)
        broker.consume(dispatcher)
        try:
            await broker.start(dispatcher)
            await keep_heartbeat(broker, settings, stop)
        finally:
            await broker.close()


async def keep_heartbeat(broker: Broker, settings: Settings, stop: asyncio.Event) -> None:
    """Until `stop` is set, touch WORKER_HEARTBEAT_FILE (if set) every
    WORKER_HEARTBEAT_SECONDS while the broker answers: a liveness probe checks its age."""
    path = settings.worker_heartbeat_file
    while True:
        if path is not None and await broker.broker.ping(timeout=5):
            path.touch()
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.worker_heartbeat_seconds)
        if stop.is_set():
            return
{%- endif %}


async def dead_messages(settings: Settings) -> list[str]:
    """One line per dead message: id, type, attempts, and the last error."""
    database = Database(settings)
    try:
        async with database.sessionmaker() as session:
            rows = await outbox.dead(session)
    finally:
        await database.dispose()
    return [
        f"{row.id}  {row.name} v{row.version}  {row.attempts} attempts  {row.last_error}"
        for row in rows
    ]


async def requeue_dead(settings: Settings, message_ids: Sequence[uuid.UUID] | None) -> int:
    """Make dead messages pending again (all of them when `message_ids` is None)."""
    database = Database(settings)
    try:
        async with database.sessionmaker() as session, session.begin():
            ids = list(message_ids) if message_ids is not None else None
            return await outbox.requeue(session, ids)
    finally:
        await database.dispose()
