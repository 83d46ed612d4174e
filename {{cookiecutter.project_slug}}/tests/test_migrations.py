"""Migrations build exactly the schema the models describe, and unwind cleanly."""

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.users.lookalikes import email_skeleton
from tests.server_database import run_on

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The users table as revision 0001 leaves it.
USERS_0001 = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("full_name", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("role", sa.String()),
    sa.column("is_active", sa.Boolean()),
)


@pytest.fixture
def alembic_config(empty_database: str) -> tuple[Config, str]:
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["database_url"] = empty_database
    config.attributes["configure_logger"] = False
    return config, empty_database


def test_upgrade_head_matches_the_models(alembic_config: tuple[Config, str]) -> None:
    config, url = alembic_config

    command.upgrade(config, "head")

    def differences_from_the_models(connection: Connection) -> Any:
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert run_on(url, differences_from_the_models) == []


def test_downgrade_base_removes_every_table(alembic_config: tuple[Config, str]) -> None:
    config, url = alembic_config
    command.upgrade(config, "head")

    command.downgrade(config, "base")

    assert run_on(url, lambda connection: inspect(connection).get_table_names()) == [
        "alembic_version"
    ]


def test_0002_fills_in_the_skeletons_and_stops_first_if_two_emails_read_alike(
    alembic_config: tuple[Config, str],
) -> None:
    config, url = alembic_config
    command.upgrade(config, "0001")
    emails = ["admin@example.com", "adm\N{LATIN SMALL LETTER DOTLESS I}n@example.com"]
    rows = [
        {"id": uuid.uuid4(), "email": email, "full_name": "Name", "password_hash": "hash"}
        for email in emails
    ]
    insert = USERS_0001.insert().values(role="user", is_active=True)
    run_on(url, lambda connection: connection.execute(insert, rows))

    with pytest.raises(RuntimeError, match="emails that read alike"):
        command.upgrade(config, "head")
    columns = run_on(url, lambda connection: inspect(connection).get_columns("users"))
    assert "email_skeleton" not in {column["name"] for column in columns}
    delete = text("DELETE FROM users WHERE email = :email")
    run_on(url, lambda connection: connection.execute(delete, {"email": emails[1]}))
    command.upgrade(config, "head")

    select = text("SELECT email, email_skeleton FROM users")
    stored = run_on(url, lambda connection: connection.execute(select).all())
    assert stored == [(emails[0], email_skeleton(emails[0]))]
