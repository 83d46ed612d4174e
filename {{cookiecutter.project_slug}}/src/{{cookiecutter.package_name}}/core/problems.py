"""RFC 9457 problem details: the single error format of every response.

`install_problem_handlers` maps the domain errors of `core.errors`, the framework's own
HTTP errors, request validation, database integrity errors and a database that cannot serve
now (`core.unavailable`) to `application/problem+json`. Unhandled exceptions are turned into
a 500 by `core.middleware.RequestMiddleware`.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.errors import AppError, ServiceUnavailable
from {{ cookiecutter.package_name }}.core.unavailable import (
    POSSIBLY_UNAVAILABLE,
    is_unavailable,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
# A problem's `type` is its entry in the error catalogue the service serves (`errors.py`).
PROBLEM_TYPE_PREFIX = "/errors#"

logger = structlog.get_logger(__name__)

# Codes for errors the framework raises itself (unknown route, wrong method, body too large).
HTTP_STATUS_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class Problem(BaseModel):
    """An error response (RFC 9457 problem details)."""

    type: str = Field(description="URI identifying the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="HTTP status code.")
    detail: str = Field(description="What went wrong in this occurrence.")
    instance: str = Field(description="The request path that produced the problem.")
    code: str = Field(description="Stable machine-readable error code.")
    request_id: str = Field(description="Correlates the response with the service's logs.")


class FieldError(BaseModel):
    """One failed check in a request."""

    loc: list[str | int] = Field(description="Where the bad value is, e.g. ['body', 'name'].")
    msg: str = Field(description="Why it was rejected.")
    type: str = Field(description="Stable kind of failure, e.g. 'string_too_long'.")


class ValidationProblem(Problem):
    """A 422 problem listing every field that failed validation."""

    errors: list[FieldError]


class ProblemResponse(JSONResponse):
    """A JSON response served as `application/problem+json`."""

    media_type = PROBLEM_MEDIA_TYPE


def request_id_of(request: Request) -> str:
    """The id `RequestMiddleware` gave this request."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    request_id: str,
    title: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of one problem response."""
    return {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id,
        **(extensions or {}),
    }


async def send_problem(
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    status: int,
    code: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer a request with a problem from pure ASGI code, before any route handles it."""
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        instance=scope["path"],
        request_id=str(scope.get("state", {}).get("request_id", "")),
    )
    await ProblemResponse(body, status_code=status, headers=headers)(scope, receive, send)


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> ProblemResponse:
    """Build the problem response for `request`."""
    body = problem_body(
        status=status,
        code=code,
        detail=detail,
        title=title,
        instance=request.url.path,
        request_id=request_id_of(request),
        extensions=extensions,
    )
    return ProblemResponse(body, status_code=status, headers=headers)


async def app_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    """Map a domain error raised by a service or dependency."""
    error = cast("AppError", exc)
    return problem(
        request,
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers=error.headers,
        extensions=error.extensions,
    )


async def http_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    """Map the framework's own HTTP errors (unknown route, wrong method, body too large)."""
    error = cast("HTTPException", exc)
    status = error.status_code
    code = HTTP_STATUS_CODES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
    headers = dict(error.headers or {})
    if status == 405:  # noqa: PLR2004
        headers["Allow"] = _allowed_methods(request)
    return problem(request, status=status, code=code, detail=error.detail, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path; the router names only the first route."""
    routes = request.app.router.routes

    def accepted(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] is Match.FULL for route in routes)

    return ", ".join(m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") if accepted(m))


async def validation_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    """Map request validation: malformed JSON 400, non-JSON body 415, anything else 422."""
    error = cast("RequestValidationError", exc)
    errors = error.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return problem(
            request, status=400, code="malformed_json", detail="The body is not valid JSON."
        )
    if isinstance(error.body, bytes):
        # FastAPI only hands raw bytes to a JSON body field when the content type is not JSON.
        return problem(
            request,
            status=415,
            code="unsupported_media_type",
            detail="Send the body as application/json.",
        )
    field_errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    count = len(field_errors)
    return problem(
        request,
        status=422,
        code="validation_failed",
        detail=f"{count} field{'' if count == 1 else 's'} failed validation; see `errors`.",
        extensions={"errors": field_errors},
    )


async def integrity_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    """Map a constraint violation that reached commit time to a 409."""
    logger.warning("integrity_error", error=str(getattr(exc, "orig", exc)))
    return problem(
        request,
        status=409,
        code="conflict",
        detail="The request conflicts with the current state of a resource.",
    )


async def unavailable_error_handler(request: Request, exc: Exception) -> ProblemResponse:
    """Map a database that cannot serve now to a 503 with `Retry-After`; let a bug through."""
    if not is_unavailable(exc):
        raise exc  # RequestMiddleware logs it and answers 500
    reason = getattr(exc, "orig", None) or exc
    logger.warning("service_unavailable", error=type(exc).__name__, reason=str(reason))
    unavailable = ServiceUnavailable("The database cannot serve the request now; retry later.")
    return await app_error_handler(request, unavailable)


def install_problem_handlers(app: FastAPI) -> None:
    """Register every error mapping on `app`, once."""
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    for error in POSSIBLY_UNAVAILABLE:
        app.add_exception_handler(error, unavailable_error_handler)
