"""Rules every route keeps (`route_policy.RULES`), checked on the live application so that
they hold for the routes added next: authenticated unless public, rate limited, typed and with
its errors declared, versioned, with a unique operation id, and taking only bounded input that
refuses unknown fields.

The last test adds routes that break each rule to an application of its own and sees them
named.
"""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from {{ cookiecutter.package_name }}.route_policy import (
    RULES,
    document,
    name,
    operations,
    path,
    routes,
    shared_operation_ids,
    unbounded_inputs,
    unversioned,
    without_authentication,
    without_declared_errors,
    without_rate_limit,
    without_response_model,
)


def test_the_rules_see_every_documented_operation(app: FastAPI) -> None:
    # Included routers are served through wrappers; a walk that missed them
    # would find nothing wrong with anything.
    seen = {f"{method} {path(route)}" for route in routes(app) for method in route.methods or ()}
    assert seen == {operation for operation, _ in operations(document(app))}
    assert "PATCH /api/v1/users/{user_id}" in {name(route) for route in routes(app)}


@pytest.mark.parametrize("rule", RULES.values(), ids=RULES.keys())
def test_every_route_keeps_the_rule(app: FastAPI, rule: Callable[[FastAPI], list[str]]) -> None:
    assert rule(app) == []


class Loose(BaseModel):
    """A body that takes unknown fields, a string of any length and an integer of any size."""

    note: str
    count: int


def test_each_rule_names_a_route_that_breaks_it(fresh_app: FastAPI) -> None:
    async def untyped() -> dict[str, str]:
        return {}

    async def loose(body: Loose) -> Loose:
        return body

    fresh_app.add_api_route("/api/v1/untyped", untyped, response_model=None)
    fresh_app.add_api_route("/api/v1/loose", loose, methods=["POST"], operation_id="twice")
    fresh_app.add_api_route("/unversioned", loose, methods=["PUT"], operation_id="twice")

    assert without_authentication(fresh_app) == ["GET /api/v1/untyped", "POST /api/v1/loose"]
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
