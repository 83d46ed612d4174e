"""Timestamps are always timezone-aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, insert, select
from sqlalchemy.dialects import sqlite

from {{ cookiecutter.package_name }}.core.models import UTCDateTime, WithUTCOffset

DIALECT = sqlite.dialect()
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, server_default=func.current_timestamp()),
)


def test_aware_values_are_stored_in_utc() -> None:
    plus_two = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))

    stored = UTCDateTime().process_bind_param(plus_two, DIALECT)

    assert stored == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_values_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), DIALECT)  # noqa: DTZ001


def test_values_read_back_are_tagged_utc() -> None:
    column = UTCDateTime()

    assert column.process_result_value(datetime(2026, 1, 1), DIALECT) == datetime(  # noqa: DTZ001
        2026, 1, 1, tzinfo=UTC
    )
    paris = datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert column.process_result_value(paris, DIALECT) == datetime(2026, 1, 1, tzinfo=UTC)
    assert column.process_result_value(None, DIALECT) is None
    assert column.process_bind_param(None, DIALECT) is None


def test_the_offset_is_appended_on_sqlite_alone_and_only_where_asked() -> None:
    asked = select(WithUTCOffset(EVENTS.c.at))

    assert "(events.at || '+00:00')" in str(asked.compile(dialect=DIALECT))
    assert "||" not in str(asked)  # as any other dialect compiles it
    assert "||" not in str(select(EVENTS.c.at).compile(dialect=DIALECT))


def test_sqlite_text_with_the_offset_parses_as_the_column_type_reads_it() -> None:
    engine = create_engine("sqlite://")
    EVENTS.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(EVENTS).values(id=1, at=datetime(2026, 1, 1, 12, tzinfo=UTC)))
        connection.execute(insert(EVENTS).values(id=2))  # the database's CURRENT_TIMESTAMP
        by_type = connection.scalars(select(EVENTS.c.at).order_by(EVENTS.c.id)).all()
        texts = connection.scalars(select(WithUTCOffset(EVENTS.c.at)).order_by(EVENTS.c.id)).all()
    engine.dispose()

    parsed = [TypeAdapter(datetime).validate_python(text) for text in texts]
    assert parsed == by_type
    assert all(value.utcoffset() == timedelta(0) for value in parsed)
