"""The OpenAPI document describes every operation and every error it can return."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient


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
