"""Checks shared by every test that expects an error response."""

from typing import Any

from httpx import Response

from {{ cookiecutter.package_name }}.core.errors import RETRY_UNAVAILABLE_AFTER_SECONDS


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """Assert `response` is problem+json with this status and code; return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def assert_unavailable(response: Response) -> None:
    """Assert `response` is the 503 of a database that cannot serve now, with `Retry-After`."""
    assert_problem(response, 503, "service_unavailable")
    assert response.headers["retry-after"] == str(RETRY_UNAVAILABLE_AFTER_SECONDS)
