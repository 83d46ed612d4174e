"""The generic repository against a real database, using the items table."""

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import Conflict
from {{ cookiecutter.package_name }}.core.repository import Repository
from {{ cookiecutter.package_name }}.items.models import Item
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
