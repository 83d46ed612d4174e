"""Validate the answers before anything is written.

Plain Python: cookiecutter renders the one string literal below, and the rest parses and
imports as-is, so `tests/test_hooks.py` unit-tests every rule. Each rejection prints one line
naming the field, the bad value and what would be accepted, then exits 1; cookiecutter
then removes whatever it had started to write.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
SUPPORTED_DATABASES = ("sqlite", "postgresql")
SUPPORTED_CI = ("github", "none")
SUPPORTED_OBSERVABILITY = ("prometheus", "prometheus+otel")
SUPPORTED_MESSAGING = ("local", "rabbitmq", "nats")

# Top-level modules a baked service imports; a package with one of these names would shadow it.
SERVICE_IMPORTS = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anyio",
        "app",
        "argon2",
        "asyncpg",
        "conftest",
        "coverage",
        "email_validator",
        "fastapi",
        "glyphguard",
        "greenlet",
        "httptools",
        "httpx",
        "jwt",
        "limits",
        "main",
        "migrations",
        "multipart",
        "mypy",
        "opentelemetry",
        "prometheus_client",
        "pwdlib",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "redis",
        "ruff",
        "sentry_sdk",
        "sqlalchemy",
        "src",
        "starlette",
        "structlog",
        "test",
        "tests",
        "typing_extensions",
        "uvicorn",
        "uvloop",
    }
)

MAX_NAME_LENGTH = 40  # keeps every generated line within the 100-column lint limit
SLUG = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z_][a-z0-9_]*")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# PEP 440 public versions (the canonical pattern from the packaging specification).
PEP440 = re.compile(
    r"v?(?:(?:[0-9]+)!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?",
    re.IGNORECASE,
)
# Characters that cannot sit inside the Python and TOML strings these answers are written into.
UNSAFE_TEXT = re.compile(r'["\\\n\r]')


class InvalidAnswer(ValueError):
    """An answer that cannot produce a working service; the message is shown as is."""


def _shadowed(name: str) -> bool:
    return name in SERVICE_IMPORTS or name in sys.stdlib_module_names


def check_slug(value: str) -> None:
    """Directory, distribution and command name: lowercase words joined by '-' or '_'."""
    if not SLUG.fullmatch(value):
        raise InvalidAnswer(
            f"project_slug {value!r} is invalid: use lowercase letters, digits and single "
            "'-' or '_' between words, starting with a letter (e.g. 'orders-service')"
        )
    check_length("project_slug", value)
    if _shadowed(value.replace("-", "_")):
        raise InvalidAnswer(
            f"project_slug {value!r} would shadow the Python module {value!r} that the "
            "service imports; choose a more specific name (e.g. 'orders-service')"
        )


def check_length(field: str, value: str) -> None:
    """Refuse a name longer than MAX_NAME_LENGTH."""
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidAnswer(
            f"{field} {value!r} is {len(value)} characters long; use at most {MAX_NAME_LENGTH}"
        )


def check_package(value: str) -> None:
    """The import package: a lowercase identifier that is no keyword and shadows nothing."""
    if not PACKAGE.fullmatch(value):
        raise InvalidAnswer(
            f"package_name {value!r} is not a valid Python identifier: use lowercase letters, "
            "digits and '_', starting with a letter (e.g. 'orders_service')"
        )
    check_length("package_name", value)
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise InvalidAnswer(
            f"package_name {value!r} is a Python keyword; choose another (e.g. 'orders_service')"
        )
    if _shadowed(value):
        raise InvalidAnswer(
            f"package_name {value!r} would shadow the module {value!r} that the service imports; "
            "choose a more specific name (e.g. 'orders_service')"
        )


def check_email(value: str) -> None:
    """One plain address."""
    if not EMAIL.fullmatch(value):
        raise InvalidAnswer(
            f"author_email {value!r} is not an email address; expected e.g. 'you@example.com'"
        )


def check_version(value: str) -> None:
    """A PEP 440 version."""
    if not PEP440.fullmatch(value):
        raise InvalidAnswer(
            f"version {value!r} is not a PEP 440 version; expected e.g. '0.1.0' or '1.0.0rc1'"
        )


def check_choice(field: str, choices: tuple[str, ...]) -> Callable[[str], None]:
    """One of `choices`."""

    def check(value: str) -> None:
        if value not in choices:
            raise InvalidAnswer(
                f"{field} {value!r} is not supported; choose one of {', '.join(choices)}"
            )

    return check


def check_yes_no(field: str) -> Callable[[str], None]:
    """A yes/no answer, which cookiecutter has already turned into true or false."""

    def check(value: str) -> None:
        if value not in {"True", "False"}:
            raise InvalidAnswer(
                f"{field} {value!r} is not a yes/no answer; use true or false (or yes or no)"
            )

    return check


def check_text(field: str) -> Callable[[str], None]:
    """A one-line free-text answer without quotes or backslashes."""

    def check(value: str) -> None:
        if not value.strip() or UNSAFE_TEXT.search(value):
            raise InvalidAnswer(
                f"{field} {value!r} is invalid: use one non-empty line without double quotes "
                "or backslashes"
            )

    return check


CHECKS: dict[str, Callable[[str], None]] = {
    "project_name": check_text("project_name"),
    "project_slug": check_slug,
    "package_name": check_package,
    "description": check_text("description"),
    "author_name": check_text("author_name"),
    "author_email": check_email,
    "version": check_version,
    "python_version": check_choice("python_version", SUPPORTED_PYTHONS),
    "database": check_choice("database", SUPPORTED_DATABASES),
    "redis": check_yes_no("redis"),
    "observability": check_choice("observability", SUPPORTED_OBSERVABILITY),
    "messaging": check_choice("messaging", SUPPORTED_MESSAGING),
    "sentry": check_yes_no("sentry"),
    "kubernetes": check_yes_no("kubernetes"),
    "ci": check_choice("ci", SUPPORTED_CI),
}


def validate(answers: Mapping[str, object]) -> None:
    """Raise `InvalidAnswer` for the first answer that cannot work, alone or with another."""
    for field, check in CHECKS.items():
        check(str(answers[field]))
    if str(answers["kubernetes"]) == "True" and answers["database"] != "postgresql":
        raise InvalidAnswer(
            "kubernetes runs several replicas, which cannot share a SQLite file; "
            "answer database=postgresql with kubernetes=true"
        )


def main(rendered_context: str) -> int:
    """Validate the rendered context; print one line and return 1 on a bad answer."""
    try:
        validate(json.loads(rendered_context))
    except InvalidAnswer as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(r"""{{ cookiecutter | tojson }}"""))
