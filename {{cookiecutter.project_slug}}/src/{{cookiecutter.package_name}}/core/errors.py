"""The one error hierarchy that services raise; `core.problems` maps it to HTTP once."""

from collections.abc import Mapping
from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error the service reports to clients.

    Each subclass fixes an HTTP status, a stable snake_case `code` and a short title.
    A raise site may narrow the code (`Conflict(code="email_taken")`) and adds a detail.
    """

    status: ClassVar[int] = 500
    code: str = "internal_error"
    title: ClassVar[str] = "Internal Server Error"
    default_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
        keep_changes: bool = False,
    ) -> None:
        self.detail = detail or self.title
        # Most errors undo the request's writes; a few must keep them (a revocation, say).
        self.keep_changes = keep_changes
        if code is not None:
            self.code = code
        self.headers = {**self.default_headers, **(headers or {})}
        self.extensions = dict(extensions or {})
        super().__init__(self.detail)


class BadRequest(AppError):
    """The request is well-formed but cannot be processed as sent."""

    status = 400
    code = "bad_request"
    title = "Bad Request"


class NotAuthenticated(AppError):
    """No valid credentials were presented."""

    status = 401
    code = "not_authenticated"
    title = "Not Authenticated"
    default_headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class PermissionDenied(AppError):
    """The caller is known but may not do this."""

    status = 403
    code = "permission_denied"
    title = "Permission Denied"


class NotFound(AppError):
    """The resource does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"
    title = "Not Found"


class Conflict(AppError):
    """The request clashes with the current state, such as a duplicate unique value."""

    status = 409
    code = "conflict"
    title = "Conflict"


class RateLimited(AppError):
    """The caller has used up a rate limit; `Retry-After` says when to try again."""

    status = 429
    code = "rate_limited"
    title = "Too Many Requests"


# Seconds a client should wait before retrying a 503. No one can know how long an outage will
# last, so this is a constant rather than a setting: it spreads retries out, and matches the
# default pool and busy timeouts, so a retry waits about as long as the failed request did.
RETRY_UNAVAILABLE_AFTER_SECONDS = 5


class ServiceUnavailable(AppError):
    """A dependency the service needs cannot serve now; `Retry-After` says when to try again."""

    status = 503
    code = "service_unavailable"
    title = "Service Unavailable"
    default_headers: ClassVar[Mapping[str, str]] = {
        "Retry-After": str(RETRY_UNAVAILABLE_AFTER_SECONDS)
    }
