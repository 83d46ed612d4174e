"""The OpenAPI document describes every operation and every error it can return."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import Account
from tests.problem_assertions import assert_problem

ITEMS = "/api/v1/items"
EXPORTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"
REFRESH = "run `uv run {{ cookiecutter.project_slug }} openapi > docs/openapi.json`"


@pytest.fixture(scope="module")
def schema(shared_app: FastAPI) -> dict[str, Any]:
    """The application's document, built once."""
    return shared_app.openapi()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_the_exported_document_is_current(schema: dict[str, Any]) -> None:
    exported = json.loads(EXPORTED.read_text(encoding="utf-8"))

    assert exported == json.loads(json.dumps(schema)), f"docs/openapi.json is stale: {REFRESH}"


def test_document_has_title_version_and_tags(schema: dict[str, Any]) -> None:
    assert schema["info"]["title"] == "{{ cookiecutter.project_name }}"
    assert schema["info"]["version"] == "{{ cookiecutter.version }}"
    assert {tag["name"] for tag in schema["tags"]} == {"auth", "users", "items", "health"}


def test_every_operation_has_a_summary_description_tag_500_and_503(
    schema: dict[str, Any],
) -> None:
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert operation["summary"], where
        assert operation["description"], where
        assert operation["tags"], where
        assert {"500", "503"} <= set(operation["responses"]), where


def test_error_responses_are_problem_json_only(schema: dict[str, Any]) -> None:
    for _, _, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"]
                assert response["content"]["application/problem+json"]["example"]["status"] == int(
                    status
                )


def test_operations_with_a_body_declare_body_errors(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(operation["responses"]), f"{method} {path}"


def test_request_schemas_carry_examples(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]

    for name in ("ItemCreate", "ItemUpdate", "ItemRead"):
        assert components[name]["examples"], name


async def test_docs_page_is_served(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "swagger-ui" in response.text


def test_a_patch_field_takes_null_only_where_the_document_says_so(
    schema: dict[str, Any],
) -> None:
    fields = schema["components"]["schemas"]["ItemUpdate"]["properties"]

    assert fields["quantity"]["type"] == "integer"
    assert "anyOf" not in fields["quantity"]
    assert "default" not in fields["quantity"]
    assert {"type": "null"} in fields["description"]["anyOf"]


async def test_patch_refuses_null_where_the_document_does(user: Account) -> None:
    created = await user.client.post(ITEMS, json={"name": "Cup", "price_cents": 100})
    item = f"{ITEMS}/{created.json()['id']}"

    refused = await user.client.patch(item, json={"quantity": None})
    cleared = await user.client.patch(item, json={"description": None})

    assert_problem(refused, 422, "validation_failed")
    assert cleared.status_code == 200


@pytest.mark.parametrize(
    ("price", "status"), [(227.0, 201), (227, 201), (227.5, 422), ("227", 422), (True, 422)]
)
async def test_an_integer_may_be_written_with_a_zero_fraction(
    user: Account, price: object, status: int
) -> None:
    # JSON Schema's `integer` admits 227.0; the service does too, and nothing else.
    response = await user.client.post(ITEMS, json={"name": f"Cup {price!r}", "price_cents": price})

    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["price_cents"] == 227


@pytest.mark.parametrize(
    ("email", "documented"),
    [("katherine@example.com", True), ("katherine@mail.test", False), ("k@host.LOCAL", False)],
)
async def test_the_document_says_which_emails_registration_refuses(
    schema: dict[str, Any], client: AsyncClient, email: str, documented: bool
) -> None:
    email_schema = schema["components"]["schemas"]["UserRegister"]["properties"]["email"]
    account = {"email": email, "password": "correct-horse-battery", "full_name": "Katherine"}

    response = await client.post("/api/v1/auth/register", json=account)

    assert (re.match(email_schema["pattern"], email) is not None) is documented
    assert (response.status_code == 201) is documented, response.text


async def test_a_method_users_me_lacks_is_a_405_naming_its_own(admin: Account) -> None:
    response = await admin.client.delete("/api/v1/users/me")

    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, PATCH"
