"""Item use cases called directly, without HTTP."""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import Conflict, NotFound
from {{ cookiecutter.package_name }}.core.pagination import PageParams
from {{ cookiecutter.package_name }}.items import service
from {{ cookiecutter.package_name }}.items.schemas import ItemCreate, ItemSort, ItemUpdate


async def test_create_then_get_round_trips(session: AsyncSession) -> None:
    item = await service.create_item(session, ItemCreate(name="Kettle", price_cents=4500))

    loaded = await service.get_item(session, item.id)

    assert loaded is item
    assert loaded.created_at.tzinfo is not None
    assert loaded.quantity == 0


async def test_get_missing_raises_not_found(session: AsyncSession) -> None:
    with pytest.raises(NotFound) as caught:
        await service.get_item(session, uuid.uuid4())

    assert caught.value.code == "item_not_found"


async def test_duplicate_name_raises_conflict(session: AsyncSession) -> None:
    await service.create_item(session, ItemCreate(name="Kettle", price_cents=1))

    with pytest.raises(Conflict) as caught:
        await service.create_item(session, ItemCreate(name="Kettle", price_cents=2))

    assert caught.value.code == "item_name_taken"
    assert caught.value.status == 409


async def test_service_flushes_but_leaves_the_commit_to_the_caller(session: AsyncSession) -> None:
    await service.create_item(session, ItemCreate(name="Kettle", price_cents=1))

    assert session.in_transaction()
    await session.rollback()
    page = await service.list_items(session, PageParams(), search=None, sort=ItemSort.CREATED_DESC)
    assert page.total == 0


async def test_update_applies_only_set_fields(session: AsyncSession) -> None:
    item = await service.create_item(
        session, ItemCreate(name="Kettle", description="steel", price_cents=1)
    )

    await service.update_item(session, item, ItemUpdate(quantity=7))

    assert (item.quantity, item.description, item.price_cents) == (7, "steel", 1)


async def test_delete_removes_the_item(session: AsyncSession) -> None:
    item = await service.create_item(session, ItemCreate(name="Kettle", price_cents=1))

    await service.delete_item(session, item)

    with pytest.raises(NotFound):
        await service.get_item(session, item.id)
