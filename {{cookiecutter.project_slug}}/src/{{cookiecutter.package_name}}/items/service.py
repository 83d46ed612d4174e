"""Item use cases. Knows nothing of HTTP: takes a session (or, for reads outside a unit of
work, the database) and schemas, raises domain errors.

Single items are read through the cache (`read_item`); every write to an item invalidates
its entry.
"""

import uuid
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, UnaryExpression, Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.cache import Cache
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.errors import Conflict, NotFound
from {{ cookiecutter.package_name }}.core.pagination import (
    Page,
    page_query,
    read_page,
)
from {{ cookiecutter.package_name }}.core.repository import Repository, columns_shown
from {{ cookiecutter.package_name }}.items.messages import ItemCreated
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import (
    ItemCreate,
    ItemListParams,
    ItemRead,
    ItemSort,
    ItemUpdate,
)
from {{ cookiecutter.package_name }}.messaging.outbox import publish

_SORT_COLUMNS = {
    "name": Item.name,
    "price_cents": Item.price_cents,
    "created_at": Item.created_at,
}


def _ordering(sort: ItemSort) -> UnaryExpression[object]:
    column = _SORT_COLUMNS[sort.removeprefix("-")]
    return column.desc() if sort.startswith("-") else column.asc()


def _containing(text: str) -> str:
    """A case-insensitive LIKE pattern matching `text` anywhere, its wildcards taken
    literally (escaped with a backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@cache
def _listing(sort: ItemSort, *, by_owner: bool, by_name: bool) -> Select[Any]:
    """The page query of one kind of listing, built once (`core.pagination.page_query`)."""
    filters: list[ColumnElement[bool]] = []
    if by_owner:
        filters.append(Item.owner_id == bindparam("owner_id", type_=Uuid()))
    if by_name:
        filters.append(Item.name.ilike(bindparam("name_pattern"), escape="\\"))
    return page_query(Item, ItemRead, filters=filters, order_by=[_ordering(sort)])


def _name_taken(name: str) -> Conflict:
    return Conflict(f"The owner already has an item named {name!r}.", code="item_name_taken")


def _not_found(item_id: uuid.UUID) -> NotFound:
    return NotFound(f"Item {item_id} was not found.", code="item_not_found")


def _owned_by(owner_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """Filters limiting items to one owner; none when `owner_id` is None (every owner)."""
    return [] if owner_id is None else [Item.owner_id == owner_id]


def _cache_key(item_id: uuid.UUID) -> str:
    return f"item:{item_id}"


async def get_item(
    session: AsyncSession, item_id: uuid.UUID, *, owner_id: uuid.UUID | None
) -> Item:
    """The item with this id among `owner_id`'s; `NotFound` if there is none."""
    item = await Repository(session, Item).get(item_id, filters=_owned_by(owner_id))
    if item is None:
        raise _not_found(item_id)
    return item


_ONE_ITEM = select(*columns_shown(Item, ItemRead)).where(
    Item.id == bindparam("item_id", type_=Uuid())
)


async def read_item(
    database: Database, cache: Cache, item_id: uuid.UUID, *, owner_id: uuid.UUID | None
) -> ItemRead:
    """`get_item` as clients see the item, served from the cache when it holds it, and read
    outside any unit of work when it does not.

    The cache holds each item once, for whoever asked first, so ownership is checked on
    every read, cached or not: another owner's item stays `NotFound`.
    """

    async def load() -> ItemRead:
        row = await database.read(_ONE_ITEM, {"item_id": item_id})
        if row is None:
            raise _not_found(item_id)
        return ItemRead.model_validate(row._asdict())

    item = await cache.get_or_load(_cache_key(item_id), ItemRead, load)
    if owner_id is not None and item.owner_id != owner_id:
        raise _not_found(item_id)
    return item


async def list_items(
    database: Database, params: ItemListParams, *, owner_id: uuid.UUID | None
) -> Page[ItemRead]:
    """One page of `owner_id`'s items whose name contains `params.search`, in `params.sort`
    order."""
    search = params.search
    query = _listing(params.sort, by_owner=owner_id is not None, by_name=search is not None)
    values = {"owner_id": owner_id, "name_pattern": _containing(search) if search else None}
    return await read_page(database, query, ItemRead, params, values)


async def create_item(session: AsyncSession, data: ItemCreate, *, owner_id: uuid.UUID) -> Item:
    """Store a new item for `owner_id`; `Conflict` if they already have one of that name."""
    try:
        item = await Repository(session, Item).create({**data.model_dump(), "owner_id": owner_id})
    except Conflict as error:
        raise _name_taken(data.name) from error
    created = ItemCreated(
        item_id=item.id, owner_id=owner_id, name=item.name, price_cents=item.price_cents
    )
    publish(session, created)
    return item


async def update_item(session: AsyncSession, cache: Cache, item: Item, data: ItemUpdate) -> Item:
    """Apply the fields sent in `data`; `Conflict` if the new name is taken."""
    changes = data.model_dump(exclude_unset=True)
    try:
        updated = await Repository(session, Item).update(item, changes)
    except Conflict as error:
        raise _name_taken(changes["name"]) from error
    await cache.invalidate(_cache_key(item.id))
    return updated


async def delete_item(session: AsyncSession, cache: Cache, item: Item) -> None:
    """Delete `item`."""
    await Repository(session, Item).delete(item)
    await cache.invalidate(_cache_key(item.id))
