"""What each route needs and promises, read off the live application, and the rules every
route keeps.

Each rule returns the operations that break it, by name: the route policy tests assert that
every rule finds nothing, so the rules hold for the routes added next, and the service report
(`report.py`) shows the same findings beside what each route needs.
"""

import warnings
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from {{ cookiecutter.package_name }}.api import PUBLIC_ROUTERS
from {{ cookiecutter.package_name }}.auth.dependencies import (
    bearer_token,
    current_principal,
    require,
)
from {{ cookiecutter.package_name }}.auth.limits import RateLimit

# Routes outside the versioned API, and outside its rate limits: probes, which orchestrators
# call every few seconds and which must answer while the limits' store is down.
UNVERSIONED = frozenset({"/health/live", "/health/ready"})
VERSIONED_PREFIX = "/api/v"
# Strings bounded by their format, so they need no `maxLength`.
BOUNDED_FORMATS = frozenset({"uuid", "date-time", "date", "time"})
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

Document = dict[str, Any]
# A router's own route, or a route as the application serves it: with the prefix,
# dependencies and responses of the routers that include it.
Route = APIRoute | RouteContext


def routes(app: FastAPI) -> list[RouteContext]:
    """The application's documented operations, as it serves them."""
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.include_in_schema
    ]


def path(route: Route) -> str:
    """The URL template a route serves, as the document shows it: `/api/v1/items/{item_id}`."""
    return str(route.path_format)


def name(route: Route) -> str:
    """`GET /api/v1/items`: how the rules and the report name a route."""
    return f"{','.join(sorted(route.methods or ()))} {path(route)}"


def calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    """Every dependency in a route's tree, its router's included."""
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from calls(sub)


def required_permissions(route: Route) -> list[str]:
    """The permissions a route asks for anywhere in its dependencies, sorted."""
    needed = {call.permission.value for call in calls(route.dependant) if isinstance(call, require)}
    return sorted(needed)


def authenticated(route: Route) -> bool:
    """Whether a route needs a valid access token."""
    return current_principal in calls(route.dependant)


def declare_security(app: FastAPI, schema: Document) -> None:
    """Declare the bearer token's password flow in `schema`, and ask for it on every
    operation whose route authenticates its caller: Swagger UI's "Authorize" signs in with
    it and sends the token."""
    scheme = bearer_token.scheme_name
    declared = bearer_token.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    schema.setdefault("components", {}).setdefault("securitySchemes", {})[scheme] = declared
    for route in routes(app):
        if authenticated(route):
            for method in route.methods or ():
                schema["paths"][path(route)][method.lower()]["security"] = [{scheme: []}]


def rate_limit(route: Route) -> str | None:
    """The rate-limit policy that counts a route's requests: the last one among its
    dependencies, since a route's own follow its routers'; None for an exempt route."""
    limits = [call for call in calls(route.dependant) if isinstance(call, RateLimit)]
    return limits[-1].policy if limits else None


def document(app: FastAPI) -> Document:
    """The OpenAPI document, built afresh (a duplicate operation id only warns)."""
    app.openapi_schema = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return app.openapi()


def operations(schema: Document) -> Iterator[tuple[str, Document]]:
    """Each operation of an OpenAPI document, named `METHOD /path`."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def public_routes() -> set[tuple[str, str]]:
    """(method, path) of every route on the public allow-list (`api.PUBLIC_ROUTERS`)."""
    return {
        (method, path(route))
        for router in PUBLIC_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def without_authentication(app: FastAPI) -> list[str]:
    """API routes that need no token and are not on the public allow-list."""
    public = public_routes()
    return [
        name(route)
        for route in routes(app)
        if path(route).startswith("/api")
        and not authenticated(route)
        and not {(method, path(route)) for method in route.methods or ()} <= public
    ]


def without_rate_limit(app: FastAPI) -> list[str]:
    """Routes no rate-limit policy counts, probes aside."""
    return [
        name(route)
        for route in routes(app)
        if path(route) not in UNVERSIONED and rate_limit(route) is None
    ]


def without_response_model(app: FastAPI) -> list[str]:
    """Routes that answer with content but declare no model for it."""
    return [
        name(route)
        for route in routes(app)
        if route.response_model is None and route.status_code != HTTPStatus.NO_CONTENT
    ]


def without_declared_errors(app: FastAPI) -> list[str]:
    """Operations that declare no 4xx answer.

    500 and 503 are declared for every operation by the application; a route declares the
    4xx it can answer. Probes answer no 4xx: they are up, or not.
    """
    return [
        operation_name
        for operation_name, operation in operations(document(app))
        if operation_name.split(" ", 1)[1] not in UNVERSIONED
        and not any(code.startswith("4") for code in operation["responses"])
    ]


def unversioned(app: FastAPI) -> list[str]:
    """Routes outside a version prefix, probes aside."""
    return [
        name(route)
        for route in routes(app)
        if not path(route).startswith(VERSIONED_PREFIX) and path(route) not in UNVERSIONED
    ]


def shared_operation_ids(app: FastAPI) -> list[str]:
    """Operations whose operation id an earlier one has already."""
    seen: dict[str, str] = {}
    shared = []
    for operation_name, operation in operations(document(app)):
        operation_id = operation["operationId"]
        if operation_id in seen:
            shared.append(f"{operation_name} (as {seen[operation_id]})")
        seen[operation_id] = operation_name
    return shared


class _InputWalk:
    """Walks the input schemas of a document, noting what is unbounded and where."""

    def __init__(self, schema: Document) -> None:
        self.components: Document = schema.get("components", {}).get("schemas", {})
        self.found: list[str] = []

    def visit(self, node: Document, where: str, *, form: bool) -> None:
        if "$ref" in node:
            self.visit(self.components[node["$ref"].rsplit("/", 1)[1]], where, form=form)
            return
        for option in node.get("anyOf", []) + node.get("allOf", []) + node.get("oneOf", []):
            self.visit(option, where, form=form)
        problem = self.unbounded(node, form=form)
        if problem:
            self.found.append(f"{where}: {problem}")
        for field, sub in node.get("properties", {}).items():
            self.visit(sub, f"{where}.{field}", form=form)
        if "items" in node:
            self.visit(node["items"], f"{where}[]", form=form)

    @staticmethod
    def unbounded(node: Document, *, form: bool) -> str | None:
        kind = node.get("type")
        # A form's fields are read by name, so other fields are never seen at all.
        if kind == "object" and node.get("additionalProperties", True) is not False:
            return None if form else "allows unknown fields"
        if kind == "string" and not {"maxLength", "enum", "const"} & node.keys():
            return None if node.get("format") in BOUNDED_FORMATS else "a string of any length"
        if kind == "integer":
            low = {"minimum", "exclusiveMinimum"} & node.keys()
            high = {"maximum", "exclusiveMaximum"} & node.keys()
            return None if low and high else "an integer of any size"
        if kind == "array" and "maxItems" not in node:
            return "a list of any length"
        return None


def unbounded_inputs(app: FastAPI) -> list[str]:
    """Request bodies and parameters that allow unknown fields, or strings, integers or lists
    with no bound, each named with where it is."""
    schema = document(app)
    walk = _InputWalk(schema)
    for operation_name, operation in operations(schema):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            walk.visit(content["schema"], operation_name, form=media_type == FORM_MEDIA_TYPE)
        for parameter in operation.get("parameters", []):
            walk.visit(parameter["schema"], f"{operation_name} {parameter['name']}", form=False)
    return walk.found


# Each rule, by what it asks of a route.
RULES: dict[str, Callable[[FastAPI], list[str]]] = {
    "needs a token unless public": without_authentication,
    "is rate limited": without_rate_limit,
    "declares its response model": without_response_model,
    "declares its error responses": without_declared_errors,
    "is under a version prefix": unversioned,
    "has an operation id of its own": shared_operation_ids,
    "takes bounded input and refuses unknown fields": unbounded_inputs,
}
