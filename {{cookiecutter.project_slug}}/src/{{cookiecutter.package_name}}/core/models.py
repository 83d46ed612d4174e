"""The declarative base and column types every feature's models share."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, MetaData, TypeDecorator, Uuid, func
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

# Named constraints give Alembic stable names to diff and drop.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _SelectedInUTC(GenericFunction[datetime]):
    """A `UTCDateTime` column as a SELECT returns it (`UTCDateTime.column_expression`)."""

    _register = False
    inherit_cache = True


@compiles(_SelectedInUTC)
def _as_stored(element: _SelectedInUTC, compiler: SQLCompiler, **kw: object) -> str:
    """A server keeps the offset: the column as it is."""
    return compiler.process(element.clauses, **kw)


@compiles(_SelectedInUTC, "sqlite")
def _with_utc_offset(element: _SelectedInUTC, compiler: SQLCompiler, **kw: object) -> str:
    """SQLite keeps a UTC time as text with no offset; selected with `+00:00` after it, it is
    ISO 8601 text that any parser reads as UTC. NULL stays NULL."""
    return f"({compiler.process(element.clauses, **kw)} || '+00:00')"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset, so values are normalised on the way in, and selected with the
    UTC offset appended (only in a statement's outermost columns, never where it compares,
    orders or copies the stored text): read as the driver returns them, they are still
    aware, which lets a schema parse them itself (`core.repository.columns_shown`).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def column_expression(self, colexpr: ColumnElement[Any]) -> ColumnElement[datetime]:
        """The column as selected: on SQLite, its text with the UTC offset."""
        return _SelectedInUTC(colexpr, type_=self)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; pass a timezone-aware value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Values read back, in UTC (any naive one, written by other means, taken as UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base class of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    """A random UUID primary key: not guessable, safe to expose."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    """`created_at` and `updated_at`, both UTC and set by the application."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, onupdate=utc_now, server_default=func.current_timestamp()
    )
