"""Routes for the caller's own account and, for administrators, everyone's."""

from fastapi import APIRouter, Depends, Response, status

from {{ cookiecutter.package_name }}.auth.dependencies import (
    CurrentPrincipal,
    PasswordHasherDep,
    require,
)
from {{ cookiecutter.package_name }}.auth.limits import RateLimit
from {{ cookiecutter.package_name }}.auth.permissions import Permission
from {{ cookiecutter.package_name }}.core.db import DatabaseDep, SessionDep
from {{ cookiecutter.package_name }}.core.openapi import BODY_ERRORS, problem_responses
from {{ cookiecutter.package_name }}.core.pagination import Page, PageParamsDep
from {{ cookiecutter.package_name }}.users import service
from {{ cookiecutter.package_name }}.users.dependencies import UserOr404
from {{ cookiecutter.package_name }}.users.schemas import (
    UserAdminUpdate,
    UserRead,
    UserSelfUpdate,
)

router = APIRouter(prefix="/api/v1/users", tags=["users"])
# Every route on this router needs `users:admin`. Its paths take only a UUID, so `/users/me`
# never reaches them: a method `me` lacks is a 405 naming what `me` allows, not a request
# about a user called "me".
admin_router = APIRouter(
    prefix="/api/v1/users",
    tags=["users"],
    dependencies=[Depends(require(Permission.USERS_ADMIN))],
    responses=problem_responses(403),
)


@router.get("/me", summary="Get my account")
async def read_me(principal: CurrentPrincipal) -> UserRead:
    """Return the caller's account."""
    return UserRead.model_validate(principal.user)


@router.patch(
    "/me",
    summary="Change my account",
    responses=problem_responses(*BODY_ERRORS),
    dependencies=[Depends(RateLimit("password_change"))],
)
async def update_me(
    data: UserSelfUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    hasher: PasswordHasherDep,
) -> UserRead:
    """Change your name, or your password (send `current_password` too). A new password
    ends every other session of yours. Limited like password changes, since it is one."""
    user = await service.update_self(
        session, hasher, principal.user.id, data, current_session=principal.session_id
    )
    return UserRead.model_validate(user)


@admin_router.get("", summary="List users", responses=problem_responses(422))
async def list_users(database: DatabaseDep, page: PageParamsDep) -> Page[UserRead]:
    """Administrators only: every account, a page at a time."""
    return await service.list_users(database, page)


@admin_router.get("/{user_id:uuid}", summary="Get a user", responses=problem_responses(404, 422))
async def read_user(user: UserOr404) -> UserRead:
    """Administrators only: one account."""
    return UserRead.model_validate(user)


@admin_router.patch(
    "/{user_id:uuid}",
    summary="Change a user",
    responses=problem_responses(*BODY_ERRORS, 404, 409),
)
async def update_user(
    user: UserOr404,
    data: UserAdminUpdate,
    session: SessionDep,
    admin: CurrentPrincipal,
) -> UserRead:
    """Administrators only: change a name, role or activation. Deactivating ends the
    account's sessions at once."""
    return UserRead.model_validate(await service.update_user(session, admin.user, user, data))


@admin_router.delete(
    "/{user_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a user",
    responses=problem_responses(404, 409, 422),
)
async def delete_user(user: UserOr404, session: SessionDep, admin: CurrentPrincipal) -> None:
    """Administrators only: delete an account with its items and sessions."""
    await service.delete_user(session, admin.user, user)
