"""The relay: hands due outbox rows on, marks them sent once the hand-off succeeded, and
schedules the periodic jobs.

Each relay has an id of its own and claims rows under a lease; several may run at once, in
one process or many. A relay that dies holding rows leaves them to the next one once the
lease runs out; the inbox keeps a message handed on twice from acting twice.
"""

import asyncio
import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from {{ cookiecutter.package_name }}.core import metrics
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.models import utc_now
from {{ cookiecutter.package_name }}.messaging import outbox
from {{ cookiecutter.package_name }}.messaging.messages import Envelope, Job
from {{ cookiecutter.package_name }}.messaging.models import MessageState
from {{ cookiecutter.package_name }}.settings import Settings

logger = structlog.get_logger(__name__)

# Hands one message on: to the consumers in this process, or to a broker. Returns once the
# hand-off is confirmed; raises when it failed.
Deliver = Callable[[Envelope], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Periodic:
    """`job` runs once every `every` seconds, whichever relays are running."""

    job: Job
    every: float


def describe(error: BaseException) -> str:
    """What the row's `last_error` says about a failure."""
    if isinstance(error, TimeoutError):
        return "TimeoutError: the hand-off outlasted its share of the lease"
    return f"{type(error).__name__}: {error}"


class Relay:
    """Claims due outbox rows and hands them on with `deliver`."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        deliver: Deliver,
        periodic: Sequence[Periodic] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.settings = settings
        self.deliver = deliver
        self.periodic = periodic
        self.clock = clock
        self.id = uuid.uuid4()
        self.retry = outbox.RetryPolicy.from_settings(settings, settings.outbox_max_attempts)
        self._scheduled: dict[str, int] = {}

    async def run_once(self) -> int:
        """Claim one batch of due rows, hand them on (OUTBOX_CONCURRENCY at a time, in no
        promised order) and mark those handed on sent; how many were."""
        now = self.clock()
        lease = outbox.Lease(self.id, now + timedelta(seconds=self.settings.outbox_lease_seconds))
        async with self.database.sessionmaker() as session, session.begin():
            claimed = await outbox.claim(session, lease, now, self.settings.outbox_batch_size)
        if not claimed:
            return 0
        slots = asyncio.Semaphore(self.settings.outbox_concurrency)
        # Every hand-off ends well before the lease does, so that no other relay takes a row
        # this one is still handing on; one that takes longer counts as a failed attempt.
        deadline = asyncio.get_running_loop().time() + self.settings.outbox_lease_seconds * 0.8

        async def hand_on(envelope: Envelope) -> Envelope | None:
            async with slots:
                try:
                    async with asyncio.timeout_at(deadline):
                        await self.deliver(envelope)
                except Exception as error:  # any failure is retried, then dead
                    await self._failed(envelope, lease, describe(error))
                    return None
            return envelope

        handed = [e for e in await asyncio.gather(*map(hand_on, claimed)) if e is not None]
        if handed:
            # One write for the batch: a relay that dies before it leaves the rows to be
            # handed on again once the lease runs out, which the inbox makes harmless.
            async with self.database.sessionmaker() as session, session.begin():
                await outbox.mark_sent(session, [e.id for e in handed], lease, self.clock())
        for envelope in handed:
            metrics.MESSAGES_SENT.labels(envelope.kind.value).inc()
        return len(handed)

    async def _failed(self, envelope: Envelope, lease: outbox.Lease, error: str) -> None:
        """Record a failed hand-off; if even that fails, the row is due again once its lease
        runs out, and the batch's other rows are still marked."""
        try:
            async with self.database.sessionmaker() as session, session.begin():
                state = await outbox.mark_failed(
                    session, envelope.id, lease, self.clock(), error, self.retry
                )
        except Exception:
            logger.exception("message_failure_unrecorded", message_id=str(envelope.id))
            return
        if state == MessageState.DEAD:
            metrics.MESSAGES_DEAD.labels(envelope.kind.value).inc()
            logger.error(
                "message_dead", message_id=str(envelope.id), name=envelope.name, error=error
            )
        elif state == MessageState.PENDING:
            metrics.MESSAGES_RETRIED.labels(envelope.kind.value).inc()
            logger.warning(
                "message_retry", message_id=str(envelope.id), name=envelope.name, error=error
            )

    async def schedule_periodic(self) -> None:
        """Add each periodic job's row for the current slot, once per slot and relay."""
        now = self.clock()
        for periodic in self.periodic:
            slot = math.floor(now.timestamp() / periodic.every)
            if self._scheduled.get(periodic.job.TYPE) == slot:
                continue
            with suppress(IntegrityError):  # another relay added this slot's row first
                async with self.database.sessionmaker() as session, session.begin():
                    outbox.schedule(session, periodic.job, slot, now)
            self._scheduled[periodic.job.TYPE] = slot

    async def observe_backlog(self) -> None:
        """Count the waiting rows for the backlog gauges."""
        async with self.database.sessionmaker() as session:
            count, oldest = await outbox.backlog(session, self.clock())
        metrics.OUTBOX_BACKLOG.set(count)
        metrics.OUTBOX_OLDEST_AGE.set(oldest)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set: a full batch is followed at once by the next, otherwise
        the relay waits `OUTBOX_POLL_SECONDS`. An error (the database down, say) is logged
        and the relay carries on after the wait."""
        logger.info("relay_started", relay_id=str(self.id))
        while not stop.is_set():
            busy = False
            try:
                await self.schedule_periodic()
                busy = await self.run_once() >= self.settings.outbox_batch_size
                await self.observe_backlog()
            except Exception:
                logger.exception("relay_failed", relay_id=str(self.id))
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.outbox_poll_seconds)
        logger.info("relay_stopped", relay_id=str(self.id))
