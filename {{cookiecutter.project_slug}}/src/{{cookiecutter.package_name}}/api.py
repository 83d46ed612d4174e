"""Assembles the versioned API from the feature routers.

Feature routers carry their full path (`/api/v1/items`), so the route template a request
matched is the real URL template in logs and metrics.
"""

from fastapi import APIRouter

from {{ cookiecutter.package_name }}.items.router import router as items_router

api_router = APIRouter()
api_router.include_router(items_router)
