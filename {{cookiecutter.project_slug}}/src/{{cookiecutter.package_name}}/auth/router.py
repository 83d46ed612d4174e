"""Routes to register, log in, refresh and log out."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Response, status

from {{ cookiecutter.package_name }}.auth import service
from {{ cookiecutter.package_name }}.auth.dependencies import (
    CurrentPrincipal,
    LoginLockoutDep,
    PasswordHasherDep,
    TokenCodecDep,
)
from {{ cookiecutter.package_name }}.auth.limits import RateLimit
from {{ cookiecutter.package_name }}.auth.schemas import (
    LoginForm,
    RefreshRequest,
    TokenPair,
)
from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.openapi import BODY_ERRORS, problem_responses
from {{ cookiecutter.package_name }}.users.schemas import UserRead, UserRegister

# Token responses must not be cached by browsers or proxies (RFC 6749, section 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# Public: these routes are how a caller gets a token in the first place.
public_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
# Needs a valid access token, like everything else under /api.
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@public_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account",
    responses=problem_responses(*BODY_ERRORS, 409),
    dependencies=[Depends(RateLimit("register"))],
)
async def register(data: UserRegister, session: SessionDep, hasher: PasswordHasherDep) -> UserRead:
    """Create an account with the `user` role. Emails are unique, ignoring case."""
    return UserRead.model_validate(await service.register(session, hasher, data))


@public_router.post(
    "/login",
    summary="Log in with email and password",
    responses=problem_responses(*BODY_ERRORS, 401),
    dependencies=[Depends(RateLimit("login"))],
)
async def login(
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    hasher: PasswordHasherDep,
    codec: TokenCodecDep,
    lockout: LoginLockoutDep,
    response: Response,
) -> TokenPair:
    """OAuth2 password flow (form fields `username` and `password`), as Swagger's Authorize
    button sends it. Returns a 15-minute access token and a single-use refresh token.
    After too many failed logins for one account, its logins get 429 for a while."""
    response.headers.update(NO_STORE)
    return await service.login(
        session, hasher, codec, lockout, email=form.username, password=form.password
    )


@public_router.post(
    "/refresh",
    summary="Exchange a refresh token for a new pair",
    responses=problem_responses(*BODY_ERRORS, 401),
    dependencies=[Depends(RateLimit("refresh"))],
)
async def refresh(
    data: RefreshRequest, session: SessionDep, codec: TokenCodecDep, response: Response
) -> TokenPair:
    """Each refresh token works once. Presenting one again ends its whole session."""
    response.headers.update(NO_STORE)
    return await service.refresh(session, codec, data.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Log out",
)
async def logout(principal: CurrentPrincipal, session: SessionDep) -> None:
    """End this session: its access token and refresh tokens stop working at once."""
    await service.logout(session, principal)
