"""The outbox: `publish` and `enqueue` for application code, and the relay's side of it
(claim, mark sent, mark failed) and the operators' (dead rows, requeue).

`publish` and `enqueue` only add a row to the caller's session: the message exists if and
only if the business write beside it commits.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.models import UTCDateTime, utc_now
from {{ cookiecutter.package_name }}.messaging.messages import (
    Envelope,
    Event,
    Job,
    Message,
)
from {{ cookiecutter.package_name }}.messaging.models import MessageState, OutboxMessage
from {{ cookiecutter.package_name }}.settings import Settings


def publish(session: AsyncSession, event: Event) -> uuid.UUID:
    """Add `event` to the outbox, to be sent once the session commits; its message id."""
    return _add(session, event, utc_now())


def enqueue(session: AsyncSession, job: Job, *, delay: timedelta | None = None) -> uuid.UUID:
    """Add `job` to the outbox, to run once the session commits (not before `delay` has
    passed); its message id."""
    return _add(session, job, utc_now() + (delay or timedelta()))


def _add(
    session: AsyncSession, message: Message, due: datetime, message_id: uuid.UUID | None = None
) -> uuid.UUID:
    row = OutboxMessage(
        id=message_id or uuid.uuid4(),
        kind=message.KIND,
        name=message.TYPE,
        version=message.VERSION,
        payload=message.model_dump(mode="json"),
        available_at=due,
    )
    session.add(row)
    return row.id


def periodic_id(job: Job, slot: int) -> uuid.UUID:
    """The one message id of `job` in time slot `slot`: every relay that schedules it for
    the same slot writes the same row, so the job runs once per slot."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"periodic:{job.TYPE}:v{job.VERSION}:{slot}")


def schedule(session: AsyncSession, job: Job, slot: int, due: datetime) -> uuid.UUID:
    """Add the periodic `job` of slot `slot`; a second relay adding it too fails to commit."""
    return _add(session, job, due, periodic_id(job, slot))


@dataclass(frozen=True, slots=True)
class Lease:
    """Who claims rows (a relay's id), and until when they are theirs."""

    holder: uuid.UUID
    until: datetime


async def claim(session: AsyncSession, lease: Lease, now: datetime, limit: int) -> list[Envelope]:
    """Take up to `limit` due rows under `lease`, oldest due first.

    On PostgreSQL rows another relay is claiming are skipped (`FOR UPDATE SKIP LOCKED`), so
    relays never wait for each other; SQLite runs one write at a time, which has the same
    effect. A row whose earlier lease ran out is due again.
    """
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == MessageState.PENDING,
            OutboxMessage.available_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.available_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = await session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(claimed_until=lease.until, claimed_by=lease.holder)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return sorted(
        (Envelope(row.id, row.kind, row.name, row.version, row.payload) for row in claimed.all()),
        key=lambda envelope: envelope.id,
    )


async def mark_sent(
    session: AsyncSession, message_ids: Sequence[uuid.UUID], lease: Lease, now: datetime
) -> int:
    """Record that the hand-off of claimed rows succeeded; how many were still this lease's
    (a row whose lease ran out may be another relay's now)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.claimed_by == lease.holder)
        .values(state=MessageState.SENT, sent_at=now, claimed_until=None)
    )
    return int(getattr(result, "rowcount", 0))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a failing message is tried, and how long to wait between tries: `base`
    seconds after the first failure, doubling up to `ceiling`."""

    attempts: int
    base: float
    ceiling: float

    @classmethod
    def from_settings(cls, settings: Settings, attempts: int) -> "RetryPolicy":
        """`attempts` tries, waiting OUTBOX_RETRY_BASE_SECONDS up to OUTBOX_RETRY_MAX_SECONDS."""
        return cls(attempts, settings.outbox_retry_base_seconds, settings.outbox_retry_max_seconds)

    def delay(self, failures: int) -> timedelta:
        """How long to wait after the `failures`-th failure."""
        return timedelta(seconds=min(self.ceiling, self.base * 2 ** (failures - 1)))


async def mark_failed(
    session: AsyncSession,
    message_id: uuid.UUID,
    lease: Lease,
    now: datetime,
    error: str,
    retry: RetryPolicy,
) -> MessageState | None:
    """Record a failed hand-off: due again after a growing delay, or dead after the last
    attempt. The row's new state; None if the lease was lost."""
    row = await session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None or row.claimed_by != lease.holder:
        return None
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_until = None
    if row.attempts >= retry.attempts:
        row.state = MessageState.DEAD
    else:
        row.available_at = now + retry.delay(row.attempts)
    return row.state


async def dead(session: AsyncSession, limit: int = 100) -> list[OutboxMessage]:
    """Dead rows, the most recent first."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == MessageState.DEAD)
        .order_by(OutboxMessage.created_at.desc())
        .limit(limit)
    )
    return list(rows)


async def requeue(session: AsyncSession, message_ids: list[uuid.UUID] | None) -> int:
    """Make dead rows pending again with a fresh count of attempts (all of them when
    `message_ids` is None); how many were."""
    query = update(OutboxMessage).where(OutboxMessage.state == MessageState.DEAD)
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    result = await session.execute(
        query.values(
            state=MessageState.PENDING, attempts=0, available_at=utc_now(), claimed_until=None
        )
    )
    return int(getattr(result, "rowcount", 0))


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """How many pending rows are due, and how long the one due first has waited, in seconds
    (a job queued with a delay waits from when it is due)."""
    due_since = type_coerce(func.min(OutboxMessage.available_at), UTCDateTime)
    count, oldest = (
        await session.execute(
            select(func.count(), due_since).where(
                OutboxMessage.state == MessageState.PENDING, OutboxMessage.available_at <= now
            )
        )
    ).one()
    if oldest is None:
        return 0, 0.0
    return int(count), max(0.0, (now - oldest).total_seconds())
