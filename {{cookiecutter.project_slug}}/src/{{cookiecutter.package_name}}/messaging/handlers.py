"""Consumers of events and handlers of jobs, each run at most once per message.

A consumer reacts to one event type; a job type has one handler. `Dispatcher.handle` runs
every consumer of an event, or the handler of a job, each in a transaction of its own that
also records the message in the inbox: a message delivered again finds its row there and is
skipped, so the effect in the database happens once. An effect outside it (an email) happens
once unless the process dies between the effect and the commit (or, on SQLite, two
deliveries of the message run at the same moment: `handle_once`).
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from weakref import WeakValueDictionary

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core import metrics
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.email import EmailSender
from {{ cookiecutter.package_name }}.core.models import utc_now
from {{ cookiecutter.package_name }}.messaging.messages import (
    Envelope,
    Event,
    Job,
    Message,
)
from {{ cookiecutter.package_name }}.messaging.models import InboxMessage, MessageKind
from {{ cookiecutter.package_name }}.settings import Settings

logger = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler works with: a session whose transaction commits with the inbox row,
    the settings, the email sender, and the time of handling."""

    session: AsyncSession
    settings: Settings
    email: EmailSender
    now: datetime


Handler = Callable[[Any, Context], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Consumer:
    """`handle` reacts to every `event` type message; `name` keys its inbox rows, so it
    must stay the same once deployed."""

    name: str
    event: type[Event]
    handle: Handler


@dataclass(frozen=True, slots=True)
class JobHandler:
    """`handle` does the work a `job` type message asks for."""

    job: type[Job]
    handle: Handler

    @property
    def name(self) -> str:
        """Its inbox key."""
        return f"job:{self.job.TYPE}"


class _AlreadyHandled(Exception):
    """The inbox holds this message for this consumer already."""


async def _check(session: AsyncSession, inbox: InboxMessage) -> None:
    """`_AlreadyHandled` when the inbox holds this row already."""
    if await session.get(InboxMessage, (inbox.consumer, inbox.message_id)) is not None:
        raise _AlreadyHandled


async def _record(session: AsyncSession, inbox: InboxMessage) -> None:
    """Write the inbox row; `_AlreadyHandled` when it is there already."""
    session.add(inbox)
    try:
        await session.flush()
    except IntegrityError as duplicate:
        raise _AlreadyHandled from duplicate


class Dispatcher:
    """Runs the consumers and job handlers of this service for each message handed to it."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        email: EmailSender,
        consumers: Sequence[Consumer],
        jobs: Sequence[JobHandler],
    ) -> None:
        self.database = database
        self.settings = settings
        self.email = email
        self.consumers = consumers
        self.jobs = {handler.job.TYPE: handler for handler in jobs}
        # One lock per message and handler in hand; gone once no delivery holds it.
        self._turns: WeakValueDictionary[tuple[str, uuid.UUID], asyncio.Lock] = (
            WeakValueDictionary()
        )

    def handlers_of(self, envelope: Envelope) -> list[Consumer | JobHandler]:
        """Who handles `envelope`: an event's consumers, or a job's one handler."""
        if envelope.kind == MessageKind.EVENT:
            return [c for c in self.consumers if envelope.name == c.event.TYPE]
        handler = self.jobs.get(envelope.name)
        if handler is None:
            raise LookupError(f"no handler for job {envelope.name}")
        return [handler]

    async def handle(self, envelope: Envelope) -> None:
        """Run every handler of `envelope` that has not handled it yet; raises the first
        failure, after which the message is handed on again later."""
        message = envelope.open()
        for handler in self.handlers_of(envelope):
            await self.handle_once(handler, envelope.id, message)

    async def handle_once(
        self, handler: Consumer | JobHandler, message_id: uuid.UUID, message: Message
    ) -> bool:
        """Run `handler` on `message` unless its inbox holds `message_id`; whether it ran.

        Deliveries of one message to one handler take turns in this process. On PostgreSQL
        the inbox row is written first: it locks only its own key, so a delivery at the same
        moment in another process waits, then finds it and acts not. On SQLite a write locks
        the whole database, which must not stay locked while a handler waits on something
        outside it (an SMTP server, say): the inbox is read first and written last, and two
        processes handling one message at the same moment may both act outside the
        database, though only one's changes in it commit.
        """
        started = time.perf_counter()
        key = (handler.name, message_id)
        turn = self._turns.get(key) or self._turns.setdefault(key, asyncio.Lock())
        try:
            async with turn:
                await self._handle_in_turn(handler, message_id, message)
        except _AlreadyHandled:
            logger.info(
                "message_already_handled", consumer=handler.name, message_id=str(message_id)
            )
            return False
        if isinstance(handler, JobHandler):
            metrics.JOB_DURATION.labels(handler.job.TYPE).observe(time.perf_counter() - started)
        return True

    async def _handle_in_turn(
        self, handler: Consumer | JobHandler, message_id: uuid.UUID, message: Message
    ) -> None:
        """Run `handler` with its inbox row; `_AlreadyHandled` when the row is there."""
        async with self.database.sessionmaker() as session, session.begin():
            inbox = InboxMessage(consumer=handler.name, message_id=message_id)
            locks_whole_database = session.get_bind().dialect.name == "sqlite"
            if locks_whole_database:
                await _check(session, inbox)
            else:
                await _record(session, inbox)
            context = Context(session, self.settings, self.email, utc_now())
            await handler.handle(message, context)
            if locks_whole_database:
                await _record(session, inbox)
