"""Timestamps are always timezone-aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from {{ cookiecutter.package_name }}.core.models import UTCDateTime

DIALECT = sqlite.dialect()


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
