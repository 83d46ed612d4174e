"""Dependencies that load and validate items, so handlers receive a usable object."""

import uuid
from typing import Annotated

from fastapi import Depends, Path

from {{ cookiecutter.package_name }}.auth.dependencies import CurrentPrincipal
from {{ cookiecutter.package_name }}.auth.permissions import Permission
from {{ cookiecutter.package_name }}.core.cache import CacheDep
from {{ cookiecutter.package_name }}.core.db import DatabaseDep, SessionDep
from {{ cookiecutter.package_name }}.items import service
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import ItemRead


async def owner_scope(principal: CurrentPrincipal) -> uuid.UUID | None:
    """Whose items the caller may see: their own, or everyone's (None) for administrators."""
    if Permission.ITEMS_MANAGE_ALL in principal.permissions:
        return None
    return principal.user.id


OwnerScope = Annotated[uuid.UUID | None, Depends(owner_scope)]
ItemId = Annotated[uuid.UUID, Path(description="The item's id.")]


async def load_item(session: SessionDep, scope: OwnerScope, item_id: ItemId) -> Item:
    """The item named in the path if the caller may see it; otherwise 404, as if absent."""
    return await service.get_item(session, item_id, owner_id=scope)


async def read_item(
    database: DatabaseDep, cache: CacheDep, scope: OwnerScope, item_id: ItemId
) -> ItemRead:
    """`load_item` for reading only, through the cache: the same item, the same 404."""
    return await service.read_item(database, cache, item_id, owner_id=scope)


ItemOr404 = Annotated[Item, Depends(load_item)]
CachedItemOr404 = Annotated[ItemRead, Depends(read_item)]
