"""Account use cases: profile changes, password changes, administration."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.auth import service as auth_service
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.errors import BadRequest, Conflict, NotFound
from {{ cookiecutter.package_name }}.core.logging import security_log
from {{ cookiecutter.package_name }}.core.pagination import (
    Page,
    PageParams,
    page_query,
    read_page,
)
from {{ cookiecutter.package_name }}.core.repository import Repository
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import (
    UserAdminUpdate,
    UserRead,
    UserSelfUpdate,
    is_the_email,
)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The user with this id; `NotFound` if there is none."""
    user = await Repository(session, User).get(user_id)
    if user is None:
        raise NotFound(f"User {user_id} was not found.", code="user_not_found")
    return user


_OLDEST_FIRST = page_query(User, UserRead, order_by=[User.created_at.asc()])


async def list_users(database: Database, page: PageParams) -> Page[UserRead]:
    """One page of users, oldest first."""
    return await read_page(database, _OLDEST_FIRST, UserRead, page)


async def update_self(
    session: AsyncSession,
    hasher: PasswordHasher,
    user_id: uuid.UUID,
    data: UserSelfUpdate,
    *,
    current_session: uuid.UUID,
) -> User:
    """Change the caller's own name or password; a new password ends their other sessions."""
    user = await Repository(session, User).get(user_id)
    if user is None:  # deleted since authentication read it
        raise auth_service.session_ended()
    changes: dict[str, object] = {}
    if data.full_name is not None:
        changes["full_name"] = data.full_name
    if data.password is not None and data.current_password is not None:
        valid, _ = await hasher.verify(data.current_password, user.password_hash)
        if not valid:
            security_log.warning("password_change_failed", user_id=str(user.id))
            raise BadRequest("The current password is incorrect.", code="wrong_current_password")
        if is_the_email(data.password, user.email):
            raise BadRequest(
                "The password must not be the email address.", code="password_is_email"
            )
        changes["password_hash"] = await hasher.hash(data.password)
        await auth_service.revoke_sessions(session, user.id, keep=current_session)
    updated = await Repository(session, User).update(user, changes)
    if "password_hash" in changes:
        security_log.info("password_changed", user_id=str(user.id))
    return updated


async def update_user(
    session: AsyncSession, admin: auth_service.Caller, user: User, data: UserAdminUpdate
) -> User:
    """An administrator's change to any account; deactivation ends its sessions at once."""
    changes = data.model_dump(exclude_unset=True)
    if user.id == admin.id and ("role" in changes or "is_active" in changes):
        raise Conflict(
            "Administrators cannot change their own role or activation.", code="self_lockout"
        )
    role_changed = "role" in changes and changes["role"] != user.role
    activation_changed = "is_active" in changes and changes["is_active"] != user.is_active
    if activation_changed and not changes["is_active"]:
        await auth_service.revoke_sessions(session, user.id)
    updated = await Repository(session, User).update(user, changes)
    if role_changed:
        security_log.info("role_changed", user_id=str(user.id), by=str(admin.id), role=user.role)
    if activation_changed:
        security_log.info(
            "activation_changed", user_id=str(user.id), by=str(admin.id), active=user.is_active
        )
    return updated


async def delete_user(session: AsyncSession, admin: auth_service.Caller, user: User) -> None:
    """Delete an account with its items and sessions."""
    if user.id == admin.id:
        raise Conflict("Administrators cannot delete themselves.", code="self_lockout")
    await Repository(session, User).delete(user)
    security_log.info("user_deleted", user_id=str(user.id), by=str(admin.id))
