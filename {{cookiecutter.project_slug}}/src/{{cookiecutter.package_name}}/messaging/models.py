"""The outbox, where messages wait to be handed on, and the inbox, which remembers what each
consumer has handled."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.package_name }}.core.models import Base, UTCDateTime, utc_now


class MessageKind(StrEnum):
    """An event tells what happened, to any consumer; a job asks for one piece of work."""

    EVENT = "event"
    JOB = "job"


class MessageState(StrEnum):
    """Pending until handed on (`sent`), or until it failed too often (`dead`)."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(Base):
    """A message written with the business change it describes, waiting for the relay.

    A relay owns a row while `claimed_until` lies ahead; when a relay dies holding it, the
    lease runs out and another takes the row again.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The relay's query: pending rows by when they are due.
        Index("ix_outbox_messages_due", "state", "available_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[MessageKind] = mapped_column(
        Enum(MessageKind, native_enum=False, length=16, values_callable=list)
    )
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[MessageState] = mapped_column(
        Enum(MessageState, native_enum=False, length=16, values_callable=list),
        default=MessageState.PENDING,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Not indexed: only the daily purge reads it, through the state's index.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxMessage(Base):
    """That `consumer` has handled message `message_id`, committed with its effect."""

    __tablename__ = "inbox_messages"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
