"""Base classes that fix one configuration for every request and response schema."""

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationInfo, field_validator


class RequestSchema(BaseModel):
    """A request body: unknown fields are rejected.

    Strings are kept as sent; fields that should be trimmed (names) say so with `Trimmed`,
    so a password's spaces are never silently removed.
    """

    model_config = ConfigDict(extra="forbid")


Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]


class PatchSchema(RequestSchema):
    """A partial update: fields left out keep their values; only `nullable` ones take null."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("may be omitted but not set to null")
        return value


class ResponseSchema(BaseModel):
    """A response body, built from ORM objects by attribute."""

    model_config = ConfigDict(from_attributes=True)
