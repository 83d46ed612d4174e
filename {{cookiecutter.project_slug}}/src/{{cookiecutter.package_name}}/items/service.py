"""Item use cases. Knows nothing of HTTP: takes a session and schemas, raises domain errors.

Single items are read through the cache (`read_item`); every write to an item invalidates
its entry.
"""

import uuid

from sqlalchemy import ColumnElement, UnaryExpression
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.cache import Cache
from {{ cookiecutter.package_name }}.core.errors import Conflict, NotFound
from {{ cookiecutter.package_name }}.core.pagination import Page, PageParams
from {{ cookiecutter.package_name }}.core.repository import Repository
from {{ cookiecutter.package_name }}.items.messages import ItemCreated
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import (
    ItemCreate,
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


def _name_contains(text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match with LIKE wildcards in `text` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Item.name.ilike(f"%{escaped}%", escape="\\")


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


async def read_item(
    session: AsyncSession, cache: Cache, item_id: uuid.UUID, *, owner_id: uuid.UUID | None
) -> ItemRead:
    """`get_item` as clients see the item, served from the cache when it holds it.

    The cache holds each item once, for whoever asked first, so ownership is checked on
    every read, cached or not: another owner's item stays `NotFound`.
    """

    async def load() -> ItemRead:
        return ItemRead.model_validate(await get_item(session, item_id, owner_id=None))

    item = await cache.get_or_load(_cache_key(item_id), ItemRead, load)
    if owner_id is not None and item.owner_id != owner_id:
        raise _not_found(item_id)
    return item


async def list_items(
    session: AsyncSession,
    page: PageParams,
    *,
    owner_id: uuid.UUID | None,
    search: str | None,
    sort: ItemSort,
) -> Page[ItemRead]:
    """One page of `owner_id`'s items whose name contains `search`, in `sort` order."""
    filters = _owned_by(owner_id) + ([_name_contains(search)] if search else [])
    return await Repository(session, Item).page(
        page, ItemRead, filters=filters, order_by=[_ordering(sort)]
    )


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
