"""Assembles the versioned API from the feature routers.

Deny by default: every router is included behind `current_principal` (a valid access token)
unless it is listed in `PUBLIC_ROUTERS`, and every router behind the default rate limit,
which a route may replace with a stricter one. Feature routers carry their full path
(`/api/v1/items`), so the route template a request matched is the real URL template in
logs and metrics.
"""

from fastapi import APIRouter, Depends

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

api_router = APIRouter(dependencies=[Depends(DEFAULT_LIMIT)], responses=problem_responses(429))
for public in PUBLIC_ROUTERS:
    api_router.include_router(public)
for protected in PROTECTED_ROUTERS:
    api_router.include_router(
        protected, dependencies=[Depends(current_principal)], responses=problem_responses(401)
    )
