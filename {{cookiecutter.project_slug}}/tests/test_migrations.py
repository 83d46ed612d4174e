"""Migrations build exactly the schema the models describe, and unwind cleanly."""

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from {{ cookiecutter.package_name }}.models import Base

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
