"""Dependencies that load and validate items, so handlers receive a usable object."""

import uuid
from typing import Annotated

from fastapi import Depends, Path

from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.items import service
from {{ cookiecutter.package_name }}.items.models import Item


async def load_item(
    session: SessionDep,
    item_id: Annotated[uuid.UUID, Path(description="The item's id.")],
) -> Item:
    """The item named in the path, or a 404 problem."""
    return await service.get_item(session, item_id)


ItemOr404 = Annotated[Item, Depends(load_item)]
