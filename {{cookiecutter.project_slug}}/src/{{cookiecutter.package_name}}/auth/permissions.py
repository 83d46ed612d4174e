"""Roles and what they may do, in one place. Routes ask for permissions, never for roles."""

from enum import StrEnum


class Role(StrEnum):
    """A user's role."""

    USER = "user"
    ADMIN = "admin"


class Permission(StrEnum):
    """Something a route can require."""

    ITEMS_READ = "items:read"
    ITEMS_WRITE = "items:write"
    ITEMS_MANAGE_ALL = "items:manage_all"  # see and change every user's items
    USERS_ADMIN = "users:admin"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.USER: frozenset({Permission.ITEMS_READ, Permission.ITEMS_WRITE}),
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    """Every permission `role` grants; nothing for an unknown role."""
    return ROLE_PERMISSIONS.get(role, frozenset())
