"""Deny by default: every API operation needs a valid access token unless it is public."""

import re
import uuid

from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.api import PROTECTED_ROUTERS
from {{ cookiecutter.package_name }}.route_policy import required_permissions
from tests.conftest import LOGIN_URL
from tests.problem_assertions import assert_problem

PUBLIC_OPERATIONS = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
}


async def test_every_non_public_api_operation_is_401_without_a_token(
    app: FastAPI, client: AsyncClient
) -> None:
    operations = [
        (method, path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in item
    ]
    assert set(operations) >= PUBLIC_OPERATIONS

    for method, path in operations:
        if (method, path) in PUBLIC_OPERATIONS:
            continue
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        response = await client.request(method, url, json={})
        assert_problem(response, 401, "not_authenticated")


def test_the_document_declares_the_password_flow_for_swagger(app: FastAPI) -> None:
    schema = app.openapi()

    [scheme] = schema["components"]["securitySchemes"].values()
    assert scheme["flows"]["password"]["tokenUrl"] == LOGIN_URL
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            protected = path.startswith("/api/") and (method, path) not in PUBLIC_OPERATIONS
            assert bool(operation.get("security")) == protected, f"{method} {path}"
            if protected:
                assert "401" in operation["responses"], f"{method} {path}"


# Routes every signed-in user may call on their own behalf; all others name a permission.
ANY_SIGNED_IN_USER = {
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me"),
}


def test_every_protected_route_names_a_permission_or_is_self_service() -> None:
    for router in PROTECTED_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods or ():
                operation = (method, route.path)
                permissions = required_permissions(route)
                assert permissions or operation in ANY_SIGNED_IN_USER, operation
