"""Base classes that fix one configuration for every request and response schema."""

from pydantic import BaseModel, ConfigDict


class RequestSchema(BaseModel):
    """A request body: unknown fields are rejected, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseSchema(BaseModel):
    """A response body, built from ORM objects by attribute."""

    model_config = ConfigDict(from_attributes=True)
