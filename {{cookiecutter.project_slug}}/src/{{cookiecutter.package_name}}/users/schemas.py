"""What clients send and receive for users. Role and activation are never self-service."""

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, ConfigDict, EmailStr, Field, model_validator

from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.core.schemas import RequestSchema, ResponseSchema
from {{ cookiecutter.package_name }}.users.models import (
    EMAIL_MAX_LENGTH,
    FULL_NAME_MAX_LENGTH,
)

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128

Email = Annotated[
    EmailStr,
    Field(max_length=EMAIL_MAX_LENGTH, description="Login name; compared case-insensitively."),
    AfterValidator(str.lower),
]
Password = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=PASSWORD_MAX_LENGTH,
        description="10 to 128 characters, not the email address.",
    ),
]
FullName = Annotated[str, Field(min_length=1, max_length=FULL_NAME_MAX_LENGTH)]


class UserRead(ResponseSchema):
    """An account as others may see it: never the password hash."""

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
        if self.password.lower() == self.email:
            raise ValueError("password must not be the email address")
        return self


class UserSelfUpdate(RequestSchema):
    """Changes a user may make to their own account. A new password needs the current one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"full_name": "Ada King"},
                {"password": "a-new-long-passphrase", "current_password": "correct-horse-battery"},
            ]
        }
    )

    full_name: FullName | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(max_length=PASSWORD_MAX_LENGTH)] | None = None

    @model_validator(mode="after")
    def _password_change_needs_current_password(self) -> Self:
        if "full_name" in self.model_fields_set and self.full_name is None:
            raise ValueError("full_name may be omitted but not set to null")
        if self.password is not None and not self.current_password:
            raise ValueError("current_password is required to change the password")
        return self


class UserAdminUpdate(RequestSchema):
    """Changes an administrator may make to any account."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"role": "admin"}, {"is_active": False}]}
    )

    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"{field} may be omitted but not set to null")
        return self
