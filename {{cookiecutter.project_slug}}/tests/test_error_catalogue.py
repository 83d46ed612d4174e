"""Every error code the service answers with is catalogued, `docs/errors.md` is the
catalogue as it stands, and every problem's `type` lands on its entry in `GET /errors`."""

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

import {{ cookiecutter.package_name }}
from {{ cookiecutter.package_name }}.core.errors import (
    CATALOGUE,
    AppError,
    catalogue_markdown,
)
from {{ cookiecutter.package_name }}.core.problems import (
    HTTP_STATUS_CODES,
    PROBLEM_TYPE_PREFIX,
)

SOURCE = Path({{ cookiecutter.package_name }}.__file__).parent
DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
REFRESH = "run `uv run {{ cookiecutter.project_slug }} errors > docs/errors.md`"
# `code="..."` at a raise site, a class's `code = "..."`, the server's own problems, and a
# status returned with its code.
CODE_IN_SOURCE = re.compile(r'\bcode\s*=\s*"([a-z_]+)"|(?:_problem\(|return )\d{3}, "([a-z_]+)"')


def hierarchy(cls: type[AppError] = AppError) -> list[type[AppError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in hierarchy(child))]


def codes_in_source() -> set[str]:
    return {
        first or second
        for path in SOURCE.rglob("*.py")
        for first, second in CODE_IN_SOURCE.findall(path.read_text(encoding="utf-8"))
    }


def test_every_code_the_service_uses_is_catalogued() -> None:
    used = codes_in_source() | set(HTTP_STATUS_CODES.values())

    assert {"email_taken", "request_timeout", "method_not_allowed"} <= used  # the scan works
    assert used - set(CATALOGUE) == set()


def test_each_class_of_the_hierarchy_is_catalogued_with_its_status() -> None:
    for error in hierarchy():
        assert CATALOGUE[error.code].status == error.status, error.__name__


def test_the_document_is_the_catalogue() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == catalogue_markdown(), (
        f"docs/errors.md is stale: {REFRESH}"
    )


async def test_every_problem_type_lands_on_its_entry(app: FastAPI, client: AsyncClient) -> None:
    page = await client.get("/errors")
    problems = [
        response.get("content", {}).get("application/problem+json", {})
        for item in app.openapi()["paths"].values()
        for operation in item.values()
        for response in operation["responses"].values()
    ]
    examples: list[dict[str, Any]] = [problem["example"] for problem in problems if problem]

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for code in CATALOGUE:
        assert f'<section id="{code}">' in page.text, code
    assert examples
    for example in examples:
        assert example["type"] == PROBLEM_TYPE_PREFIX + example["code"]
        assert example["code"] in CATALOGUE


async def test_a_problem_answered_points_into_the_catalogue(client: AsyncClient) -> None:
    body = (await client.get("/api/v1/nowhere")).json()

    assert body["type"] == "/errors#not_found"
