"""The generic repository against a real database, using the items table."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated

import pytest
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import NullType

from {{ cookiecutter.package_name }}.core.errors import Conflict
from {{ cookiecutter.package_name }}.core.repository import Repository, columns_shown
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import ItemRead
from tests.conftest import Account

Add = Callable[..., Awaitable[Item]]


@pytest.fixture
def repository(session: AsyncSession) -> Repository[Item]:
    return Repository(session, Item)


@pytest.fixture
def add(repository: Repository[Item], user: Account) -> Add:
    async def add_item(name: str, price: int = 1) -> Item:
        values = {"name": name, "price_cents": price, "quantity": 0, "owner_id": user.id}
        return await repository.create(values)

    return add_item


async def test_create_loads_generated_columns(add: Add) -> None:
    item = await add("a")

    assert isinstance(item.id, uuid.UUID)
    assert item.created_at.tzinfo is not None


async def test_get_honours_extra_filters(repository: Repository[Item], add: Add) -> None:
    item = await add("a", price=5)

    assert await repository.get(item.id) is item
    assert await repository.get(item.id, filters=[Item.price_cents > 10]) is None


async def test_update_and_delete(repository: Repository[Item], add: Add) -> None:
    item = await add("a")

    await repository.update(item, {"quantity": 3})
    assert (await repository.get(item.id)) is item
    assert item.quantity == 3

    await repository.delete(item)
    assert await repository.get(item.id) is None


async def test_unique_violation_becomes_conflict(add: Add) -> None:
    await add("same")

    with pytest.raises(Conflict, match="conflicts with an existing one"):
        await add("same")


class IdAsText(BaseModel):
    id: str


class Nullable(BaseModel):
    id: uuid.UUID | None
    created_at: datetime | None


class Strict(BaseModel):
    model_config = ConfigDict(strict=True)

    id: uuid.UUID
    created_at: datetime


class Constrained(BaseModel):
    id: Annotated[uuid.UUID, Field(strict=True)]
    created_at: Annotated[datetime, BeforeValidator(lambda value: value)]


@pytest.mark.parametrize(
    ("schema", "read_raw"), [(Nullable, True), (Strict, False), (Constrained, False)]
)
def test_a_column_is_read_raw_only_for_a_lax_field_of_its_own_type(
    schema: type[BaseModel], read_raw: bool
) -> None:
    columns = columns_shown(Item, schema)

    assert [isinstance(column.type, NullType) for column in columns] == [read_raw] * 2


async def test_columns_a_schema_shows_read_the_same_values_as_the_orm(
    session: AsyncSession, add: Add
) -> None:
    item = await add("a")

    row = (await session.execute(select(*columns_shown(Item, ItemRead)))).one()

    shown = ItemRead.model_validate(row._asdict())
    assert shown == ItemRead.model_validate(item)
    assert shown.created_at.utcoffset() == shown.updated_at.utcoffset() == timedelta(0)


async def test_a_column_shown_as_another_type_is_still_converted_by_its_own(
    session: AsyncSession, add: Add
) -> None:
    item = await add("a")

    (value,) = (await session.execute(select(*columns_shown(Item, IdAsText)))).one()

    assert value == item.id  # a UUID, not the hex text SQLite stores
