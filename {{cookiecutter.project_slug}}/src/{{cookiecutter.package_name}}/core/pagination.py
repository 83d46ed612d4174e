"""Limit/offset pagination: the query parameters and the page envelope."""

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from {{ cookiecutter.package_name }}.core.schemas import ResponseSchema

MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000

T = TypeVar("T")


class PageParams(BaseModel):
    """Which slice of a collection to return."""

    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET, description="Rows to skip.")


PageParamsDep = Annotated[PageParams, Query()]


class Page(ResponseSchema, Generic[T]):
    """One page of a collection and the size of the whole."""

    items: list[T]
    total: int = Field(description="Rows matching the filters, across all pages.")
    limit: int = Field(description="Rows per page, as requested.")
    offset: int = Field(description="Rows skipped, as requested.")
