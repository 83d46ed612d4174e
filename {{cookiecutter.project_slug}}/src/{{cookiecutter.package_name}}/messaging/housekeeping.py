"""The outbox's and inbox's own housekeeping, run in the background."""

from datetime import timedelta

from sqlalchemy import delete

from {{ cookiecutter.package_name }}.messaging.handlers import Context
from {{ cookiecutter.package_name }}.messaging.messages import Job
from {{ cookiecutter.package_name }}.messaging.models import (
    InboxMessage,
    MessageState,
    OutboxMessage,
)


class PurgeHandledMessages(Job):
    """Delete sent outbox rows and inbox rows older than `OUTBOX_RETENTION_DAYS`.

    The inbox must remember a message longer than it can be delivered again: a week is far
    beyond any lease or broker redelivery.
    """

    TYPE = "messaging.purge_handled"


async def purge_handled_messages(_: PurgeHandledMessages, context: Context) -> None:
    """Delete what the retention has passed."""
    before = context.now - timedelta(days=context.settings.outbox_retention_days)
    await context.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.state == MessageState.SENT, OutboxMessage.sent_at < before
        )
    )
    await context.session.execute(delete(InboxMessage).where(InboxMessage.handled_at < before))
