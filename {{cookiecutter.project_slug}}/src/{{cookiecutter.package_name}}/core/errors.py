"""The one error hierarchy that services raise; `core.problems` maps it to HTTP once."""

from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ErrorCode:
    """One `code` a client may receive: its status, what it means, what the client should do."""

    status: int
    meaning: str
    action: str


# Every code the service answers with, the hierarchy's own and those raise sites narrow them
# to. `docs/errors.md` is generated from it (the `errors` command), `GET /errors` serves it,
# and each problem's `type` points to its entry there; a test fails when a code the service
# uses is missing, or when the document is stale.
CATALOGUE: dict[str, ErrorCode] = {
    "bad_request": ErrorCode(
        400, "The request could not be read as sent.", "Fix the request; do not retry it as is."
    ),
    "malformed_json": ErrorCode(
        400, "The body is not valid JSON.", "Send a well-formed JSON document."
    ),
    "invalid_host": ErrorCode(
        400,
        "The `Host` header names a host the service does not answer to, or is missing.",
        "Call the service by one of its published host names.",
    ),
    "cors_refused": ErrorCode(
        400,
        "A CORS preflight came from an origin, or asked for a method or header, not allowed.",
        "Call from an allowed origin, or ask the operators to allow yours.",
    ),
    "wrong_current_password": ErrorCode(
        400,
        "A password change sent a `current_password` that is not the account's password.",
        "Ask the user for their current password again.",
    ),
    "password_is_email": ErrorCode(
        400,
        "The new password is the account's email address.",
        "Choose another password.",
    ),
    "not_authenticated": ErrorCode(
        401,
        "No bearer token was sent (or, for `/metrics`, not the scrape token).",
        "Log in and send the access token as `Authorization: Bearer <token>`.",
    ),
    "invalid_token": ErrorCode(
        401,
        "The token is malformed, signed with another key, of the wrong type, or its session "
        "has ended (logout, deactivation, deletion or a password change).",
        "Log in again; do not retry with the same token.",
    ),
    "token_expired": ErrorCode(
        401,
        "The access token has expired.",
        "Exchange the refresh token for a new pair at `/api/v1/auth/refresh`, then retry.",
    ),
    "invalid_credentials": ErrorCode(
        401,
        "Login failed: unknown email, wrong password or inactive account (which of them is "
        "not said).",
        "Check the email and password; repeated failures lock the account for a while.",
    ),
    "refresh_token_reused": ErrorCode(
        401,
        "A refresh token was presented twice, as only a stolen copy would be; the session has "
        "ended.",
        "Log in again.",
    ),
    "permission_denied": ErrorCode(
        403,
        "The caller's role lacks the permission the route needs.",
        "Do not retry; ask an administrator if the access is needed.",
    ),
    "not_found": ErrorCode(
        404,
        "No route matches the path (or, for `/metrics`, no scrape token is configured).",
        "Check the URL against the API document.",
    ),
    "item_not_found": ErrorCode(
        404,
        "No item has this id, or it belongs to someone else.",
        "Check the id; list your items to find it.",
    ),
    "user_not_found": ErrorCode(
        404, "No account has this id.", "Check the id; list the users to find it."
    ),
    "method_not_allowed": ErrorCode(
        405,
        "The route exists but does not take this method; `Allow` lists those it takes.",
        "Use one of the methods in `Allow`.",
    ),
    "request_timeout": ErrorCode(
        408,
        "The request head did not arrive in time (sent by the server before the application: "
        "no `instance` or `request_id`).",
        "Send the request again, in one go.",
    ),
    "conflict": ErrorCode(
        409,
        "The request clashes with the current state, such as a value that must be unique.",
        "Read the resource again, then change the request.",
    ),
    "email_taken": ErrorCode(
        409,
        "The email, or one that reads the same (a Cyrillic `\u0430` for a Latin `a`), is "
        "registered.",
        "Log in, or register another address.",
    ),
    "item_name_taken": ErrorCode(
        409, "The owner already has an item with this name.", "Choose another name."
    ),
    "self_lockout": ErrorCode(
        409,
        "An administrator tried to change their own role or activation, or delete themselves.",
        "Have another administrator make the change.",
    ),
    "payload_too_large": ErrorCode(
        413, "The body is over the service's size limit.", "Send a smaller body."
    ),
    "unsupported_media_type": ErrorCode(
        415, "The body is not `application/json`.", "Send JSON with that content type."
    ),
    "validation_failed": ErrorCode(
        422,
        "One or more fields failed validation; `errors` names each field, why, and a stable "
        "`type` such as `control_character` or `mixed_scripts`.",
        "Fix the fields listed in `errors`.",
    ),
    "rate_limited": ErrorCode(
        429,
        "A rate limit is used up, or the account is locked out after failed logins.",
        "Wait the seconds in `Retry-After`; the `RateLimit` headers show what is left.",
    ),
    "header_fields_too_large": ErrorCode(
        431,
        "The request head, or one header line, is over the server's limit (sent by the server "
        "before the application).",
        "Send fewer or shorter headers (cookies, say).",
    ),
    "internal_error": ErrorCode(
        500,
        "A bug in the service; its log holds the trace under the same `request_id`.",
        "Retry later, and report the `request_id` if it persists.",
    ),
    "database_unavailable": ErrorCode(
        503,
        "`/health/ready`: the database cannot serve now, or lacks its migrated schema.",
        "Orchestrators: send no traffic until it is ready again.",
    ),
    "rate_limit_unavailable": ErrorCode(
        503,
        "The rate-limit counts cannot be reached, and the service is set to refuse requests "
        "it cannot count.",
        "Retry after the seconds in `Retry-After`.",
    ),
    "service_unavailable": ErrorCode(
        503,
        "The database cannot serve the request now: unreachable, out of connections, a "
        "statement or lock timed out, or its tables missing.",
        "Retry after the seconds in `Retry-After`; the request changed nothing.",
    ),
}


def catalogue_markdown() -> str:
    """The catalogue as `docs/errors.md` holds it, one section per code, by status."""
    lines = [
        "# Errors",
        "",
        "Every error is `application/problem+json` (RFC 9457) with a stable `code`; its `type`",
        "is `/errors#<code>`, this entry as the service serves it. Generated by",
        "`{{ cookiecutter.project_slug }} errors > docs/errors.md`; do not edit by hand.",
    ]
    for code, entry in sorted(CATALOGUE.items(), key=lambda item: (item[1].status, item[0])):
        lines += ["", f"## `{code}`", "", f"{entry.status}. {entry.meaning}", ""]
        lines += [f"What to do: {entry.action}"]
    return "\n".join(lines) + "\n"
