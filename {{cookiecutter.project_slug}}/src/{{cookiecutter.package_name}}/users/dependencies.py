"""Dependencies that load users named in the path."""

import uuid
from typing import Annotated

from fastapi import Depends, Path

from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.users import service
from {{ cookiecutter.package_name }}.users.models import User


async def load_user(
    session: SessionDep,
    user_id: Annotated[uuid.UUID, Path(description="The user's id.")],
) -> User:
    """The user named in the path, or a 404 problem."""
    return await service.get_user(session, user_id)


UserOr404 = Annotated[User, Depends(load_user)]
