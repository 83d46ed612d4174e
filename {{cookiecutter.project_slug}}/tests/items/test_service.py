"""Item use cases called directly, without HTTP."""

import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.cache import Cache
from {{ cookiecutter.package_name }}.core.errors import Conflict, NotFound
from {{ cookiecutter.package_name }}.items import service
from {{ cookiecutter.package_name }}.items.schemas import (
    ItemCreate,
    ItemListParams,
    ItemUpdate,
)
from tests.conftest import Account


@pytest.fixture
def owner_id(user: Account) -> uuid.UUID:
    return user.id


@pytest.fixture
def cache(app: FastAPI) -> Cache:
    """The application's cache, which writes invalidate."""
    application_cache: Cache = app.state.cache
    return application_cache


async def test_create_then_get_round_trips(session: AsyncSession, owner_id: uuid.UUID) -> None:
    item = await service.create_item(
        session, ItemCreate(name="Kettle", price_cents=4500), owner_id=owner_id
    )

    loaded = await service.get_item(session, item.id, owner_id=owner_id)

    assert loaded is item
    assert loaded.owner_id == owner_id
    assert loaded.created_at.tzinfo is not None
    assert loaded.quantity == 0


async def test_get_is_scoped_to_the_owner(
    session: AsyncSession, owner_id: uuid.UUID, other_user: Account
) -> None:
    item = await service.create_item(
        session, ItemCreate(name="Kettle", price_cents=1), owner_id=owner_id
    )

    with pytest.raises(NotFound) as caught:
        await service.get_item(session, item.id, owner_id=other_user.id)

    assert caught.value.code == "item_not_found"
    assert await service.get_item(session, item.id, owner_id=None) is item


async def test_same_name_conflicts_for_one_owner_only(
    session: AsyncSession, owner_id: uuid.UUID, other_user: Account
) -> None:
    for owner in (owner_id, other_user.id):
        await service.create_item(session, ItemCreate(name="Kettle", price_cents=1), owner_id=owner)

    with pytest.raises(Conflict) as caught:
        await service.create_item(
            session, ItemCreate(name="Kettle", price_cents=2), owner_id=owner_id
        )

    assert caught.value.code == "item_name_taken"
    assert caught.value.status == 409


async def test_service_flushes_but_leaves_the_commit_to_the_caller(
    app: FastAPI, session: AsyncSession, owner_id: uuid.UUID
) -> None:
    await service.create_item(session, ItemCreate(name="Kettle", price_cents=1), owner_id=owner_id)

    assert session.in_transaction()
    await session.rollback()
    page = await service.list_items(app.state.database, ItemListParams(), owner_id=None)
    assert page.total == 0


async def test_update_applies_only_set_fields(
    session: AsyncSession, cache: Cache, owner_id: uuid.UUID
) -> None:
    item = await service.create_item(
        session, ItemCreate(name="Kettle", description="steel", price_cents=1), owner_id=owner_id
    )

    await service.update_item(session, cache, item, ItemUpdate(quantity=7))

    assert (item.quantity, item.description, item.price_cents) == (7, "steel", 1)


async def test_delete_removes_the_item(
    session: AsyncSession, cache: Cache, owner_id: uuid.UUID
) -> None:
    item = await service.create_item(
        session, ItemCreate(name="Kettle", price_cents=1), owner_id=owner_id
    )

    await service.delete_item(session, cache, item)

    with pytest.raises(NotFound):
        await service.get_item(session, item.id, owner_id=None)
