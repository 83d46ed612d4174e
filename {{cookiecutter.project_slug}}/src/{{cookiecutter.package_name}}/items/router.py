"""HTTP routes for items: parse, call one service function, return."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from {{ cookiecutter.package_name }}.auth.dependencies import CurrentPrincipal, require
from {{ cookiecutter.package_name }}.auth.permissions import Permission
from {{ cookiecutter.package_name }}.core.cache import CacheDep
from {{ cookiecutter.package_name }}.core.db import DatabaseDep, SessionDep
from {{ cookiecutter.package_name }}.core.openapi import BODY_ERRORS, problem_responses
from {{ cookiecutter.package_name }}.core.pagination import Page
from {{ cookiecutter.package_name }}.items import service
from {{ cookiecutter.package_name }}.items.dependencies import (
    CachedItemOr404,
    ItemOr404,
    OwnerScope,
)
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import (
    ItemCreate,
    ItemListParams,
    ItemRead,
    ItemUpdate,
)

router = APIRouter(prefix="/api/v1/items", tags=["items"], responses=problem_responses(403))
CanRead = Depends(require(Permission.ITEMS_READ))
CanWrite = Depends(require(Permission.ITEMS_WRITE))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an item",
    dependencies=[CanWrite],
    responses=problem_responses(*BODY_ERRORS, 409),
)
async def create_item(
    data: ItemCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
) -> ItemRead:
    """Create an item owned by the caller. Each owner's item names are unique; the new
    item's URL is in `Location`."""
    item = await service.create_item(session, data, owner_id=principal.user.id)
    response.headers["Location"] = str(request.url_for("get_item", item_id=str(item.id)))
    return ItemRead.model_validate(item)


@router.get("", summary="List items", dependencies=[CanRead], responses=problem_responses(422))
async def list_items(
    database: DatabaseDep, scope: OwnerScope, params: Annotated[ItemListParams, Query()]
) -> Page[ItemRead]:
    """List the caller's items (every item, for administrators) a page at a time, optionally
    filtered by name and sorted."""
    return await service.list_items(database, params, owner_id=scope)


@router.get(
    "/{item_id}",
    summary="Get an item",
    dependencies=[CanRead],
    responses=problem_responses(404, 422),
)
async def get_item(item: CachedItemOr404) -> ItemRead:
    """Return one of the caller's items; another user's item is a 404."""
    return item


@router.patch(
    "/{item_id}",
    summary="Change an item",
    dependencies=[CanWrite],
    responses=problem_responses(*BODY_ERRORS, 404, 409),
)
async def update_item(
    item: ItemOr404, data: ItemUpdate, session: SessionDep, cache: CacheDep
) -> ItemRead:
    """Change the fields sent; fields left out keep their values."""
    updated: Item = await service.update_item(session, cache, item, data)
    return ItemRead.model_validate(updated)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an item",
    dependencies=[CanWrite],
    responses=problem_responses(404, 422),
)
async def delete_item(item: ItemOr404, session: SessionDep, cache: CacheDep) -> None:
    """Delete an item for good."""
    await service.delete_item(session, cache, item)
