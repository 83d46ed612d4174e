"""Who is calling, and may they? Every protected route depends on these."""

from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from {{ cookiecutter.package_name }}.auth import service
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.permissions import Permission
from {{ cookiecutter.package_name }}.auth.service import Principal
from {{ cookiecutter.package_name }}.auth.tokens import TokenCodec
from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.errors import NotAuthenticated, PermissionDenied
from {{ cookiecutter.package_name }}.core.logging import security_log

LOGIN_PATH = "/api/v1/auth/login"

# auto_error=False: a missing token is reported by `current_principal` as problem+json.
bearer_token = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, auto_error=False)


async def get_token_codec(request: Request) -> TokenCodec:
    """The application's token codec, built once at startup."""
    codec: TokenCodec = request.app.state.token_codec
    return codec


async def get_password_hasher(request: Request) -> PasswordHasher:
    """The application's password hasher, built once at startup."""
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]


async def current_principal(
    session: SessionDep,
    codec: TokenCodecDep,
    token: Annotated[str | None, Depends(bearer_token)],
) -> Principal:
    """The caller behind the bearer token; 401 when it is missing, invalid or revoked."""
    if not token:
        raise NotAuthenticated("Send an access token as `Authorization: Bearer <token>`.")
    principal = await service.authenticate(session, codec, token)
    structlog.contextvars.bind_contextvars(user_id=str(principal.user.id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets the request through only if the caller has `permission`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if permission not in principal.permissions:
            security_log.warning(
                "permission_denied", user_id=str(principal.user.id), permission=permission.value
            )
            raise PermissionDenied(f"This needs the `{permission.value}` permission.")
        return principal

    check.__name__ = f"require_{permission.name.lower()}"
    return check
