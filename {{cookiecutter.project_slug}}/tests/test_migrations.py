"""Migrations build exactly the schema the models describe, and unwind cleanly."""

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.users.lookalikes import email_skeleton

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def alembic_config(tmp_path: Path) -> tuple[Config, str]:
    database_file = tmp_path / "migrated.db"
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["database_url"] = f"sqlite+aiosqlite:///{database_file}"
    config.attributes["configure_logger"] = False
    return config, f"sqlite:///{database_file}"


def test_upgrade_head_matches_the_models(alembic_config: tuple[Config, str]) -> None:
    config, sync_url = alembic_config

    command.upgrade(config, "head")

    engine = create_engine(sync_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_base_removes_every_table(alembic_config: tuple[Config, str]) -> None:
    config, sync_url = alembic_config
    command.upgrade(config, "head")

    command.downgrade(config, "base")

    engine = create_engine(sync_url)
    assert inspect(engine).get_table_names() == ["alembic_version"]
    engine.dispose()


def test_0002_fills_in_the_skeletons_and_stops_first_if_two_emails_read_alike(
    alembic_config: tuple[Config, str],
) -> None:
    config, sync_url = alembic_config
    command.upgrade(config, "0001")
    engine = create_engine(sync_url)
    emails = ["admin@example.com", "adm\N{LATIN SMALL LETTER DOTLESS I}n@example.com"]
    insert = text(
        "INSERT INTO users (id, email, full_name, password_hash, role, is_active) "
        "VALUES (:id, :email, 'Name', 'hash', 'user', 1)"
    )
    with engine.begin() as connection:
        connection.execute(insert, [{"id": uuid.uuid4().hex, "email": e} for e in emails])

    with pytest.raises(RuntimeError, match="emails that read alike"):
        command.upgrade(config, "head")
    assert "email_skeleton" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE email = :email"), {"email": emails[1]})
    command.upgrade(config, "head")

    with engine.connect() as connection:
        stored = connection.execute(text("SELECT email, email_skeleton FROM users")).all()
    engine.dispose()
    assert stored == [(emails[0], email_skeleton(emails[0]))]
