"""Limit/offset pagination: the query parameters, the page query and the page envelope."""

import functools
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    UnaryExpression,
    bindparam,
    func,
    select,
)

from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.models import Base
from {{ cookiecutter.package_name }}.core.repository import columns_shown
from {{ cookiecutter.package_name }}.core.schemas import ResponseSchema

MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000

T = TypeVar("T")
SchemaT = TypeVar("SchemaT", bound=BaseModel)


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


def page_query(
    model: type[Base],
    schema: type[BaseModel],
    *,
    filters: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[UnaryExpression[Any] | ColumnElement[Any]] = (),
) -> Select[Any]:
    """One page of `model`'s rows matching `filters`, in a stable order: the columns
    `schema` shows (`columns_shown`) and beside each row the total of matches
    (`count(*) OVER ()`), the page and its total in one statement.

    `limit` and `offset` are bound when it runs (`read_page`), as are any parameters the
    filters bind, so a query built once serves every page: building one costs about as much
    as running it.
    """
    return (
        select(*columns_shown(model, schema), func.count().over())
        .where(*filters)
        .order_by(*order_by, *model.__mapper__.primary_key)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


async def read_page(
    database: Database,
    query: Select[Any],
    schema: type[SchemaT],
    params: PageParams,
    values: Mapping[str, object] | None = None,
) -> Page[SchemaT]:
    """The page `params` asks of a `page_query`, read outside any unit of work
    (`Database.run_read`), its rows as `schema` objects."""
    bound = {**(values or {}), "limit": params.limit, "offset": params.offset}
    rows, total = await database.run_read(
        lambda connection: _rows_and_total(connection, query, bound)
    )
    return Page(
        items=_list_of(schema).validate_python(rows),
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


def _rows_and_total(
    connection: Connection, query: Select[Any], bound: dict[str, object]
) -> tuple[list[dict[str, Any]], int]:
    """A page's rows, each a dict by column name, and the total of matches. A page past the
    end has no row to carry the total, so a second statement reads the first row for it."""
    result = connection.execute(query, bound)
    columns = list(result.keys())[:-1]  # the last is the total's
    rows = result.all()
    # zip stops at the last column shown, leaving the total out.
    page = [dict(zip(columns, row, strict=False)) for row in rows]
    if rows or not bound["offset"]:
        return page, rows[0][-1] if rows else 0
    first = connection.execute(query, {**bound, "limit": 1, "offset": 0}).first()
    return page, first[-1] if first else 0


@functools.cache
def _list_of(schema: type[SchemaT]) -> TypeAdapter[list[SchemaT]]:
    """Validates a page's rows in one call, which costs a third of one call a row."""
    return TypeAdapter(list[schema])  # type: ignore[valid-type]
