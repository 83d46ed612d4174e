"""Token requests and responses."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from {{ cookiecutter.package_name }}.core.schemas import RequestSchema, SingleLine
from {{ cookiecutter.package_name }}.users.models import EMAIL_MAX_LENGTH
from {{ cookiecutter.package_name }}.users.schemas import PASSWORD_MAX_LENGTH

TOKEN_MAX_LENGTH = 4096


class TokenPair(BaseModel):
    """A short-lived access token and the refresh token that renews it (OAuth2 shape)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi...",
                    "refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0eXBlIjo...",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 scheme name
    expires_in: int = Field(description="Seconds until the access token expires.")


class LoginForm(BaseModel):
    """The OAuth2 password grant, as Swagger UI's Authorize dialog sends it.

    Other grant fields (`grant_type`, `scope`, `client_id`) are accepted and ignored.
    """

    username: Annotated[
        SingleLine,
        Field(min_length=1, max_length=EMAIL_MAX_LENGTH, description="The account's email."),
    ]
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class RefreshRequest(RequestSchema):
    """A refresh token to exchange for a new pair; each one works once."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "eyJhbGciOi..."}]})

    refresh_token: Annotated[str, Field(min_length=1, max_length=TOKEN_MAX_LENGTH)]
