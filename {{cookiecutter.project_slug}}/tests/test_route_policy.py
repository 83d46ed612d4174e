"""Rules every route keeps, checked on the live application so that they hold for the routes
added next: rate limited, typed and with its errors declared, versioned, with a unique
operation id, and taking only bounded input that refuses unknown fields.

Each check returns the routes that break it, by name; the last test adds routes that break
each rule to an application of its own and sees them named.
"""

import warnings
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from {{ cookiecutter.package_name }}.auth.limits import RateLimit

# Routes outside the versioned API, and outside its rate limits: probes, which orchestrators
# call every few seconds and which must answer while the limits' store is down.
UNVERSIONED = {"/health/live", "/health/ready"}
VERSIONED_PREFIX = "/api/v"
# Strings bounded by their format, so they need no `maxLength`.
BOUNDED_FORMATS = {"uuid", "date-time", "date", "time"}
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

Document = dict[str, Any]


def routes(app: FastAPI) -> list[APIRoute]:
    """The application's documented operations."""
    return [
        route for route in app.routes if isinstance(route, APIRoute) and route.include_in_schema
    ]


def name(route: APIRoute) -> str:
    return f"{','.join(sorted(route.methods or ()))} {route.path}"


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency in a route's tree, its router's included."""
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from calls(sub)


def document(app: FastAPI) -> Document:
    """The OpenAPI document, built afresh (a duplicate operation id only warns)."""
    app.openapi_schema = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return app.openapi()


def operations(schema: Document) -> Iterator[tuple[str, Document]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def without_rate_limit(app: FastAPI) -> list[str]:
    return [
        name(route)
        for route in routes(app)
        if route.path not in UNVERSIONED
        and not any(isinstance(call, RateLimit) for call in calls(route.dependant))
    ]


def without_response_model(app: FastAPI) -> list[str]:
    return [
        name(route)
        for route in routes(app)
        if route.response_model is None and route.status_code != HTTPStatus.NO_CONTENT
    ]


def without_declared_errors(app: FastAPI) -> list[str]:
    # 500 and 503 are declared for every operation by the application; a route declares
    # the 4xx it can answer. Probes answer no 4xx: they are up, or not.
    return [
        operation_name
        for operation_name, operation in operations(document(app))
        if operation_name.split(" ", 1)[1] not in UNVERSIONED
        and not any(code.startswith("4") for code in operation["responses"])
    ]


def unversioned(app: FastAPI) -> list[str]:
    return [
        name(route)
        for route in routes(app)
        if not route.path.startswith(VERSIONED_PREFIX) and route.path not in UNVERSIONED
    ]


def shared_operation_ids(app: FastAPI) -> list[str]:
    seen: dict[str, str] = {}
    shared = []
    for operation_name, operation in operations(document(app)):
        operation_id = operation["operationId"]
        if operation_id in seen:
            shared.append(f"{operation_name} (as {seen[operation_id]})")
        seen[operation_id] = operation_name
    return shared


def unbounded_inputs(app: FastAPI) -> list[str]:
    """Request bodies and parameters that allow unknown fields, or strings or lists with no
    upper bound, each named with where it is."""
    schema = document(app)
    components = schema.get("components", {}).get("schemas", {})
    found: list[str] = []

    def visit(node: Document, where: str, *, form: bool) -> None:
        if "$ref" in node:
            visit(components[node["$ref"].rsplit("/", 1)[1]], where, form=form)
            return
        for option in node.get("anyOf", []) + node.get("allOf", []) + node.get("oneOf", []):
            visit(option, where, form=form)
        kind = node.get("type")
        if kind == "object":
            # A form's fields are read by name, so other fields are never seen at all.
            if node.get("additionalProperties", True) is not False and not form:
                found.append(f"{where}: allows unknown fields")
            for field, sub in node.get("properties", {}).items():
                visit(sub, f"{where}.{field}", form=form)
        elif kind == "string":
            bounded = {"maxLength", "enum", "const"} & node.keys()
            if not bounded and node.get("format") not in BOUNDED_FORMATS:
                found.append(f"{where}: a string of any length")
        elif kind == "integer":
            low = {"minimum", "exclusiveMinimum"} & node.keys()
            high = {"maximum", "exclusiveMaximum"} & node.keys()
            if not (low and high):
                found.append(f"{where}: an integer of any size")
        elif kind == "array":
            if "maxItems" not in node:
                found.append(f"{where}: a list of any length")
            visit(node.get("items", {}), f"{where}[]", form=form)

    for operation_name, operation in operations(schema):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            visit(content["schema"], operation_name, form=media_type == FORM_MEDIA_TYPE)
        for parameter in operation.get("parameters", []):
            where = f"{operation_name} {parameter['name']}"
            visit(parameter["schema"], where, form=False)
    return found


CHECKS = [
    without_rate_limit,
    without_response_model,
    without_declared_errors,
    unversioned,
    shared_operation_ids,
    unbounded_inputs,
]


@pytest.mark.parametrize("check", CHECKS)
def test_every_route_keeps_the_rule(app: FastAPI, check: Callable[[FastAPI], list[str]]) -> None:
    assert check(app) == []


class Loose(BaseModel):
    """A body that takes unknown fields, a string of any length and an integer of any size."""

    note: str
    count: int


def test_each_check_names_a_route_that_breaks_it(fresh_app: FastAPI) -> None:
    async def untyped() -> dict[str, str]:
        return {}

    async def loose(body: Loose) -> Loose:
        return body

    fresh_app.add_api_route("/api/v1/untyped", untyped, response_model=None)
    fresh_app.add_api_route("/api/v1/loose", loose, methods=["POST"], operation_id="twice")
    fresh_app.add_api_route("/unversioned", loose, methods=["PUT"], operation_id="twice")

    assert "GET /api/v1/untyped" in without_rate_limit(fresh_app)
    assert "GET /api/v1/untyped" in without_response_model(fresh_app)
    assert "GET /api/v1/untyped" in without_declared_errors(fresh_app)
    assert unversioned(fresh_app) == ["PUT /unversioned"]
    assert shared_operation_ids(fresh_app) == ["PUT /unversioned (as POST /api/v1/loose)"]
    assert {
        "POST /api/v1/loose: allows unknown fields",
        "POST /api/v1/loose.note: a string of any length",
        "POST /api/v1/loose.count: an integer of any size",
    } <= set(unbounded_inputs(fresh_app))
