"""Alembic environment: runs migrations through the service's own async engine."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from {{ cookiecutter.package_name }}.core.db import create_engine
from {{ cookiecutter.package_name }}.models import Base
from {{ cookiecutter.package_name }}.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _settings() -> Settings:
    url = config.attributes.get("database_url")
    return Settings(database_url=url) if url else Settings()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    # Migrations are what create a SQLite database; the service only ever opens one.
    engine = create_engine(_settings(), create_missing_file=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()  # a failed migration must not leave its connection open


if context.is_offline_mode():
    context.configure(
        url=_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
