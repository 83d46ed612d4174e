"""Timestamps are always timezone-aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, insert, select
from sqlalchemy.dialects import sqlite

from {{ cookiecutter.package_name }}.core.models import UTCDateTime

DIALECT = sqlite.dialect()
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, server_default=func.current_timestamp()),
)
COPIES = Table(
    "copies", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime)
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


def test_sqlite_selects_the_stored_text_with_the_utc_offset_and_a_server_the_column() -> None:
    query = select(EVENTS.c.at).where(EVENTS.c.at > datetime(2026, 1, 1, tzinfo=UTC))

    on_sqlite = str(query.compile(dialect=DIALECT))
    assert "SELECT (events.at || '+00:00') AS at" in on_sqlite
    assert "WHERE events.at > ?" in on_sqlite  # compared as stored
    assert "SELECT events.at AS at" in str(query)  # as any other dialect compiles it


def test_a_copy_within_the_database_keeps_the_stored_text() -> None:
    copy = insert(COPIES).from_select(["id", "at"], select(EVENTS.c.id, EVENTS.c.at))

    assert "SELECT events.id, events.at" in str(copy.compile(dialect=DIALECT))


def test_sqlite_reads_every_stored_value_back_aware_whoever_wrote_it() -> None:
    engine = create_engine("sqlite://")
    EVENTS.metadata.create_all(engine)
    written = datetime(2026, 1, 1, 12, 30, 15, 250000, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(insert(EVENTS).values(id=1, at=written))
        connection.execute(insert(EVENTS).values(id=2))  # the database's CURRENT_TIMESTAMP
        read = connection.execute(select(EVENTS.c.at).order_by(EVENTS.c.id)).scalars().all()
        as_returned = connection.exec_driver_sql("SELECT at || '+00:00' FROM events").all()
    engine.dispose()

    assert read[0] == written
    assert all(value.utcoffset() == timedelta(0) for value in read)
    assert [datetime.fromisoformat(text) for (text,) in as_returned] == read
