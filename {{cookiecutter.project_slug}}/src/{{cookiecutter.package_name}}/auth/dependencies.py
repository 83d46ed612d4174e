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
from {{ cookiecutter.package_name }}.core.db import Database
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


# Where a request keeps its bearer token's verified claims: its ASGI scope.
_CLAIMS = "{{ cookiecutter.package_name }}.bearer_claims"


def bearer_claims(request: Request) -> TokenClaims | NotAuthenticated | None:
    """The bearer token's verified claims, why it was refused, or None when there is none.

    Verified once a request, when first asked for, and kept in the request's scope: rate
    limiting keys on them and `current_principal` loads their user. Read from the header
    directly, so that public routes declare no security requirement.

    A function those two call, not a dependency, and the codec is taken from the
    application: FastAPI solves a dependency's own dependencies each time it appears in a
    route's tree, even when its value is cached, and these run on every request.
    """
    scope = request.scope
    if _CLAIMS in scope:
        known: TokenClaims | NotAuthenticated | None = scope[_CLAIMS]
        return known
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    claims: TokenClaims | NotAuthenticated | None = None
    if scheme.lower() == "bearer" and token:
        codec: TokenCodec = request.app.state.token_codec
        try:
            claims = codec.verify(token, TokenType.ACCESS)
        except NotAuthenticated as refused:
            claims = refused
    scope[_CLAIMS] = claims
    return claims


async def current_principal(request: Request) -> Principal:
    """The caller behind the bearer token; 401 when it is missing, invalid or revoked.

    The database is taken from the application, as `bearer_claims` takes the codec: each
    route that authenticates names this two or three times (its router, its permission,
    its handler), and FastAPI would solve a dependency of it at each.
    """
    claims = bearer_claims(request)
    if claims is None:
        raise NotAuthenticated("Send an access token as `Authorization: Bearer <token>`.")
    if isinstance(claims, NotAuthenticated):
        raise claims
    database: Database = request.app.state.database
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
