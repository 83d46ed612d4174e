"""Who is calling, and may they? Every protected route depends on these."""

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from {{ cookiecutter.package_name }}.auth import service
from {{ cookiecutter.package_name }}.auth.lockout import LoginLockout
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.permissions import Permission
from {{ cookiecutter.package_name }}.auth.service import Principal
from {{ cookiecutter.package_name }}.auth.tokens import TokenClaims, TokenCodec, TokenType
from {{ cookiecutter.package_name }}.core.db import DatabaseDep
from {{ cookiecutter.package_name }}.core.errors import NotAuthenticated, PermissionDenied
from {{ cookiecutter.package_name }}.core.logging import security_log

LOGIN_PATH = "/api/v1/auth/login"

# The scheme the document declares on every route that authenticates its caller
# (`route_policy.declare_security`). No route depends on it: FastAPI would solve the scopes
# of every dependency above a security scheme on each request, a tenth of `users/me`'s time,
# to read the header `bearer_claims` already reads.
bearer_token = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, auto_error=False)


async def get_token_codec(request: Request) -> TokenCodec:
    """The application's token codec, built once at startup."""
    codec: TokenCodec = request.app.state.token_codec
    return codec


async def get_password_hasher(request: Request) -> PasswordHasher:
    """The application's password hasher, built once at startup."""
    hasher: PasswordHasher = request.app.state.password_hasher
    return hasher


async def get_login_lockout(request: Request) -> LoginLockout:
    """The application's login lockout, built once at startup."""
    lockout: LoginLockout = request.app.state.login_lockout
    return lockout


TokenCodecDep = Annotated[TokenCodec, Depends(get_token_codec)]
PasswordHasherDep = Annotated[PasswordHasher, Depends(get_password_hasher)]
LoginLockoutDep = Annotated[LoginLockout, Depends(get_login_lockout)]


async def bearer_claims(request: Request) -> TokenClaims | NotAuthenticated | None:
    """The bearer token's verified claims, why it was refused, or None when there is none.

    Verified once a request: rate limiting keys on it, `current_principal` loads its user.
    Read from the header directly, so that public routes declare no security requirement.
    The codec is taken from the application rather than as a dependency of its own: every
    request runs this, and each dependency costs FastAPI a step of its own to solve.
    """
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if scheme.lower() != "bearer" or not token:
        return None
    codec: TokenCodec = request.app.state.token_codec
    try:
        return codec.verify(token, TokenType.ACCESS)
    except NotAuthenticated as refused:
        return refused


BearerClaims = Annotated[TokenClaims | NotAuthenticated | None, Depends(bearer_claims)]


async def current_principal(
    database: DatabaseDep,
    claims: BearerClaims,
) -> Principal:
    """The caller behind the bearer token; 401 when it is missing, invalid or revoked."""
    if claims is None:
        raise NotAuthenticated("Send an access token as `Authorization: Bearer <token>`.")
    if isinstance(claims, NotAuthenticated):
        raise claims
    principal = await service.authenticate(database, claims)
    structlog.contextvars.bind_contextvars(user_id=str(principal.user.id))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class require:  # noqa: N801 - reads as a function at the route: `Depends(require(...))`
    """A dependency that lets the request through only if the caller has `permission`.

    An object rather than a closure, so that the permission a route needs can be read off its
    dependencies (`route_policy.required_permissions`).
    """

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        """The caller, if they hold the permission; 403 problem+json otherwise."""
        if self.permission not in principal.permissions:
            security_log.warning(
                "permission_denied",
                user_id=str(principal.user.id),
                permission=self.permission.value,
            )
            raise PermissionDenied(f"This needs the `{self.permission.value}` permission.")
        return principal
