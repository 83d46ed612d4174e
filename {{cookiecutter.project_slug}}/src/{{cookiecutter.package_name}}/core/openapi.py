"""Error responses in the OpenAPI document, declared once and reused by every route."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from {{ cookiecutter.package_name }}.core.problems import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    ValidationProblem,
    problem_body,
)

# status -> (description, example code, example detail)
_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("The body is not valid JSON.", "malformed_json", "The body is not valid JSON."),
    401: ("Missing or invalid credentials.", "not_authenticated", "Not Authenticated"),
    403: ("The caller lacks the permission.", "permission_denied", "Permission Denied"),
    404: ("The resource does not exist.", "not_found", "Not Found"),
    409: ("The request clashes with existing data.", "conflict", "Already exists."),
    413: ("The body is larger than the service accepts.", "payload_too_large", "Too large."),
    415: ("The body is not application/json.", "unsupported_media_type", "Send JSON."),
    422: ("A field failed validation.", "validation_failed", "1 field failed validation."),
    429: ("Too many requests; retry later.", "rate_limited", "Rate limit exceeded."),
    500: ("Unexpected error; the log has the details.", "internal_error", "Unexpected error."),
    503: ("A dependency is unavailable.", "service_unavailable", "Database unreachable."),
}

# Every operation that reads a JSON body can fail these ways before it runs.
BODY_ERRORS = (400, 413, 415, 422)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given error statuses, each with an example."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, code, detail = _ERRORS[status]
        example = problem_body(
            status=status,
            code=code,
            detail=detail,
            instance="/api/v1/items",
            request_id="6f1c2a7e0b9d4c3f8a5e2d1b0c9f8e7d",
        )
        if status == 422:  # noqa: PLR2004 - the one status with a richer body
            example["errors"] = [
                {"loc": ["body", "name"], "msg": "Field required", "type": "missing"}
            ]
        responses[status] = {
            "model": ValidationProblem if status == 422 else Problem,  # noqa: PLR2004
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"example": example}},
        }
    return responses


def _serve_problems_as_problem_json(schema: dict[str, Any]) -> None:
    """Move error schemas from `application/json` to `application/problem+json`."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:  # noqa: PLR2004
                    json_schema = content.pop("application/json")["schema"]
                    content.setdefault(PROBLEM_MEDIA_TYPE, {})["schema"] = json_schema


def install_openapi(app: FastAPI, *amendments: Callable[[dict[str, Any]], None]) -> None:
    """Build the document once, with every error response served as problem+json, and
    `amendments` applied to it in turn."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            _serve_problems_as_problem_json(schema)
            for amend in amendments:
                amend(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
