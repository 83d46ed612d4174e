"""Assembles the versioned API from the feature routers.

Deny by default: every router is included behind `current_principal` (a valid access token)
unless it is listed in `PUBLIC_ROUTERS`, and every router behind the default rate limit,
which a route may replace with a stricter one. Feature routers carry their full path
(`/api/v1/items`), so the route template a request matched is the real URL template in
logs and metrics.
"""

from fastapi import Depends, FastAPI

from {{ cookiecutter.package_name }}.auth.dependencies import current_principal
from {{ cookiecutter.package_name }}.auth.limits import DEFAULT_LIMIT
from {{ cookiecutter.package_name }}.auth.router import public_router as auth_public_router
from {{ cookiecutter.package_name }}.auth.router import router as auth_router
from {{ cookiecutter.package_name }}.core.openapi import problem_responses
from {{ cookiecutter.package_name }}.items.router import router as items_router
from {{ cookiecutter.package_name }}.users.router import admin_router as users_admin_router
from {{ cookiecutter.package_name }}.users.router import router as users_router

PUBLIC_ROUTERS = [auth_public_router]
PROTECTED_ROUTERS = [auth_router, users_router, users_admin_router, items_router]


def include_api(app: FastAPI) -> None:
    """Include every feature router in `app` itself, behind the default limit, and the
    protected ones behind `current_principal`.

    Included in the application directly: FastAPI searches an included router once to find
    the route and again to hand the request over, so routers inside an intermediate router
    would be searched twice on every request, and the one that matches three times.
    """
    limited = [Depends(DEFAULT_LIMIT)]
    for public in PUBLIC_ROUTERS:
        app.include_router(public, dependencies=limited, responses=problem_responses(429))
    for protected in PROTECTED_ROUTERS:
        app.include_router(
            protected,
            dependencies=[*limited, Depends(current_principal)],
            responses=problem_responses(401, 429),
        )
