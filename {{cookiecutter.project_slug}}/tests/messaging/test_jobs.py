"""The service's own jobs: on a schedule, whichever relays run; and the welcome email."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.auth.messages import DeleteExpiredSessions
from {{ cookiecutter.package_name }}.auth.models import AuthSession
from {{ cookiecutter.package_name }}.messaging.handlers import Dispatcher
from {{ cookiecutter.package_name }}.messaging.housekeeping import PurgeHandledMessages
from {{ cookiecutter.package_name }}.messaging.models import InboxMessage, MessageState
from {{ cookiecutter.package_name }}.messaging.outbox import enqueue
from {{ cookiecutter.package_name }}.messaging.registry import periodic_jobs
from {{ cookiecutter.package_name }}.messaging.relay import Periodic, Relay
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.users.messages import SendWelcomeEmail
from tests.conftest import Account
from tests.messaging.conftest import Clock, RelayFactory, drain, outbox_rows


async def test_a_periodic_job_is_queued_once_per_period_whatever_relays_run(
    make_relay: RelayFactory, dispatcher: Dispatcher, clock: Clock, session: AsyncSession
) -> None:
    every_hour = (Periodic(DeleteExpiredSessions(), 3600),)
    relays = [make_relay(dispatcher.handle, every_hour) for _ in range(2)]

    for relay in relays * 2:
        await relay.schedule_periodic()
    clock.advance(3600)
    for relay in relays:
        await relay.schedule_periodic()

    rows = await outbox_rows(session, DeleteExpiredSessions.TYPE)
    assert len(rows) == 2
    assert len({row.id for row in rows}) == 2


async def test_expired_sessions_are_deleted_by_their_job(
    user: Account, other_user: Account, session: AsyncSession, relay: Relay
) -> None:
    expired = await session.get(AuthSession, user.session_id)
    assert expired is not None
    expired.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    enqueue(session, DeleteExpiredSessions())
    await session.commit()

    await drain(relay)

    session.expire_all()
    remaining = set(await session.scalars(select(AuthSession.id)))
    assert user.session_id not in remaining
    assert other_user.session_id in remaining


async def test_handled_messages_are_forgotten_after_the_retention(
    session: AsyncSession, relay: Relay, settings: Settings
) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=settings.outbox_retention_days, hours=1)
    for sent_at in (long_ago, now):
        welcome = SendWelcomeEmail(user_id=uuid.uuid4(), email="a@example.com", full_name="")
        enqueue(session, welcome)
        session.add(InboxMessage(consumer="test", message_id=uuid.uuid4(), handled_at=sent_at))
    await session.flush()
    old, recent = await outbox_rows(session)
    for row, sent_at in ((old, long_ago), (recent, now)):
        row.state, row.sent_at = MessageState.SENT, sent_at
    enqueue(session, PurgeHandledMessages())
    await session.commit()

    await drain(relay)

    assert [row.id for row in await outbox_rows(session)][:1] == [recent.id]
    handled = select(func.min(InboxMessage.handled_at)).where(InboxMessage.consumer == "test")
    oldest = await session.scalar(handled)
    assert oldest is not None
    assert oldest > long_ago


async def test_the_schedule_holds_the_cleanups(settings: Settings) -> None:
    jobs = {periodic.job.TYPE: periodic.every for periodic in periodic_jobs(settings)}

    assert jobs == {
        DeleteExpiredSessions.TYPE: settings.session_cleanup_seconds,
        PurgeHandledMessages.TYPE: 86_400,
    }
