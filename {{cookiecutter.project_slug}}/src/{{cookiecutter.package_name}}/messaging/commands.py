"""What the `relay` and `outbox` commands do (`cli.py` parses their arguments)."""

import asyncio
import signal
import uuid
from collections.abc import Sequence

from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.email import email_sender
from {{ cookiecutter.package_name }}.messaging import outbox
from {{ cookiecutter.package_name }}.messaging.handlers import Dispatcher
from {{ cookiecutter.package_name }}.messaging.registry import CONSUMERS, JOB_HANDLERS, build_relay
from {{ cookiecutter.package_name }}.settings import Settings


async def run_relay(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Relay until SIGINT or SIGTERM (or `stop`), then finish the message in hand."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    database = Database(settings)
    dispatcher = Dispatcher(database, settings, email_sender(settings), CONSUMERS, JOB_HANDLERS)
    try:
        await build_relay(database, settings, dispatcher).run(stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await database.dispose()


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
