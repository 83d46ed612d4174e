"""What clients send and receive for users. Role and activation are never self-service."""

import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Self

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.core.schemas import (
    FilledLine,
    PatchSchema,
    RequestSchema,
    ResponseSchema,
)
from {{ cookiecutter.package_name }}.users.lookalikes import mixed_scripts
from {{ cookiecutter.package_name }}.users.models import (
    EMAIL_MAX_LENGTH,
    FULL_NAME_MAX_LENGTH,
)

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128


def _compatibility_form(value: object) -> object:
    """Full-width and other compatibility letters as plain ones; non-text is left to fail."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


def _one_script_before_the_at(email: str) -> str:
    """Refuse a Cyrillic `a` among Latin letters; a name all in Cyrillic is fine."""
    scripts = mixed_scripts(email.rpartition("@")[0])
    if scripts is not None:
        found = f" ({', '.join(scripts)})" if len(scripts) > 1 else ""
        raise PydanticCustomError(
            "mixed_scripts",
            "The part before the @ mixes scripts{found}; write it in one script.",
            {"found": found},
        )
    return email


def _in_any_case(word: str) -> str:
    return "".join(f"[{letter}{letter.upper()}]" for letter in word)


# Addresses under special-use domains (`.test`, `.local`, `.invalid`, ...) are refused by the
# email validator; the schema says so, for clients and contract tests.
_NOT_UNDER_SPECIAL_USE_DOMAINS = (
    "^(?!.*@(?:.+[.])?(?:" + "|".join(map(_in_any_case, SPECIAL_USE_DOMAIN_NAMES)) + ")$)"
)

# As stored and looked up: compatibility forms first, then one case to compare.
_StoredEmail = Annotated[
    EmailStr,
    BeforeValidator(_compatibility_form),
    Field(
        max_length=EMAIL_MAX_LENGTH,
        description="Login name; compared case-insensitively, and look-alikes count as taken.",
        json_schema_extra={"pattern": _NOT_UNDER_SPECIAL_USE_DOMAINS},
    ),
    AfterValidator(str.lower),
]
# A new address: stored addresses from before the rule still log in.
Email = Annotated[_StoredEmail, AfterValidator(_one_script_before_the_at)]
_email = TypeAdapter(_StoredEmail)


def is_the_email(password: str, email: str) -> bool:
    """Whether `password` is the (normalized) `email`, in any case."""
    return password.lower() == email


def normalize_email(raw: str) -> str | None:
    """`raw` as stored (the same normalization as registration), or None if invalid."""
    try:
        return _email.validate_python(raw)
    except ValidationError:
        return None


Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description="10 to 128 characters, not the email address.",
    ),
]
FullName = Annotated[FilledLine, Field(max_length=FULL_NAME_MAX_LENGTH)]


class UserRead(ResponseSchema):
    """An account as its owner and administrators see it: never the password hash."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f0c6a52-3d8e-4d7c-9b8f-0f6e4b2a1c9d",
                    "email": "ada@example.com",
                    "full_name": "Ada Lovelace",
                    "role": "user",
                    "is_active": True,
                    "created_at": "2026-01-05T09:30:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime


class UserRegister(RequestSchema):
    """A new account. Everyone starts as an active `user`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "correct-horse-battery",
                    "full_name": "Ada Lovelace",
                }
            ]
        }
    )

    email: Email
    password: Password
    full_name: FullName

    @model_validator(mode="after")
    def _password_is_not_the_email(self) -> Self:
        if is_the_email(self.password, self.email):
            raise ValueError("password must not be the email address")
        return self


class UserSelfUpdate(PatchSchema):
    """Changes a user may make to their own account. A new password needs the current one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"full_name": "Ada King"},
                {"password": "a-new-long-passphrase", "current_password": "correct-horse-battery"},
            ],
            # What `_password_change_needs_current_password` checks, for clients to see.
            "dependentRequired": {"password": ["current_password"]},
        }
    )

    full_name: FullName | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(max_length=PASSWORD_MAX_LENGTH)] | None = None

    @model_validator(mode="after")
    def _password_change_needs_current_password(self) -> Self:
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to change the password")
        return self


class UserAdminUpdate(PatchSchema):
    """Changes an administrator may make to any account."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"role": "admin"}, {"is_active": False}]}
    )

    full_name: FullName | None = None
    role: Role | None = None
    is_active: Annotated[bool, Field(strict=True)] | None = None
