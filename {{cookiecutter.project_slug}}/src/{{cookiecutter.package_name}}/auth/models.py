"""The `auth_sessions` table: one row per login, the family of every token it issued."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.package_name }}.core.models import (
    Base,
    IdMixin,
    TimestampMixin,
    UTCDateTime,
)


class AuthSession(IdMixin, TimestampMixin, Base):
    """A login and its refresh-token family.

    Access and refresh tokens carry the session id (`sid`). Only the refresh token whose id
    is `current_refresh_id` may be exchanged; presenting an older one means it was copied,
    and the whole session is revoked. Rows are deleted once `expires_at` has passed, so the
    table holds only live or recently revoked sessions.
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    current_refresh_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
