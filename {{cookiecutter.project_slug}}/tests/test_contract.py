"""The service keeps the contract its OpenAPI document states, with every schemathesis check.

Schemathesis sends each operation what the application's own document allows and what it
refuses, and checks every answer against the document with all of its checks: status codes,
headers and bodies as documented, valid input accepted and invalid input refused. A plain
user makes the calls, an administrator those a user lacks the permission for.

Each operation gets a bounded number of examples; `pytest -m deep` runs many more.
"""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import schemathesis
from httpx import Response
from hypothesis import HealthCheck
from hypothesis import settings as examples
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES

from {{ cookiecutter.package_name }}.application import create_app
from {{ cookiecutter.package_name }}.auth.permissions import Role, permissions_of
from {{ cookiecutter.package_name }}.route_policy import path, required_permissions, routes
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import SeededAccount, base_settings, http_client, own_app, token_pair

EXAMPLES = 25
DEEP_EXAMPLES = 1_000

# Valid input the service still refuses, by what it knows: a password change needs the
# current password, which no document can give (400 `wrong_current_password`).
REFUSED_BY_STATE = {("PATCH", "/api/v1/users/me"): ["400"]}
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-method": method,
                "include-path": path,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, *codes]
                    }
                },
            }
            for (method, path), codes in REFUSED_BY_STATE.items()
        ]
    }
)
# The live application's document; valid and invalid input are drawn from it.
schema = schemathesis.openapi.from_dict(create_app(base_settings()).openapi(), config=CONFIG)
schema.config.generation.update(modes=list(GenerationMode))

Send = Callable[[Case[Any]], Response]


@pytest.fixture
def send(settings: Settings, seeded_accounts: dict[str, SeededAccount]) -> Iterator[Send]:
    """Sends a case to an application of its own, on the test's database, in an event loop
    of its own: hypothesis runs each example as a plain call."""
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        app = runner.run(stack.enter_async_context(own_app(settings)))
        client = runner.run(stack.enter_async_context(http_client(app)))
        tokens = {
            name: token_pair(app, seeded_accounts[name]).access_token for name in ("user", "admin")
        }
        user_may = {permission.value for permission in permissions_of(Role.USER)}
        needs_admin = {
            (method, path(route))
            for route in routes(app)
            if not set(required_permissions(route)) <= user_may
            for method in route.methods or ()
        }

        def request(case: Case[Any]) -> Response:
            who = "admin" if (case.method.upper(), case.path) in needs_admin else "user"
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            return runner.run(client.request(**transport_kwargs(case, headers)))

        try:
            yield request
        finally:
            runner.run(stack.aclose())


def transport_kwargs(case: Case[Any], headers: dict[str, str]) -> dict[str, Any]:
    """The case as httpx's arguments: raw bodies as `content`."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)  # the API reads none
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    return kwargs


def keeps_the_contract(case: Case[Any], send: Send) -> None:
    case.validate_response(send(case))  # every check: all are on by default


@schema.parametrize()
@examples(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_the_contract(case: Case[Any], send: Send) -> None:
    keeps_the_contract(case, send)


@pytest.mark.deep
@schema.parametrize()
@examples(max_examples=DEEP_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_the_contract_deeply(case: Case[Any], send: Send) -> None:
    keeps_the_contract(case, send)
