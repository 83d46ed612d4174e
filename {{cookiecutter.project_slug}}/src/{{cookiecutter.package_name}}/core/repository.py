"""One generic async repository for the queries every feature needs."""

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, UnaryExpression, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import Conflict
from {{ cookiecutter.package_name }}.core.models import Base
from {{ cookiecutter.package_name }}.core.pagination import Page, PageParams

ModelT = TypeVar("ModelT", bound=Base)
SchemaT = TypeVar("SchemaT", bound=BaseModel)

Filters = Sequence[ColumnElement[bool]]
Ordering = Sequence[UnaryExpression[Any] | ColumnElement[Any]]


class Repository(Generic[ModelT]):
    """Get, list, count, create, update and delete rows of one model.

    It flushes but never commits: the request's session dependency owns the transaction.
    A unique or foreign-key violation on flush becomes a `Conflict`.
    """

    def __init__(self, session: AsyncSession, model: type[ModelT]) -> None:
        self.session = session
        self.model = model

    async def get(self, id_: object, *, filters: Filters = ()) -> ModelT | None:
        """The row with this primary key that also matches `filters`, or None."""
        query = select(self.model).where(self.model.__mapper__.primary_key[0] == id_, *filters)
        return (await self.session.scalars(query)).one_or_none()

    async def list(
        self,
        *,
        filters: Filters = (),
        order_by: Ordering = (),
        limit: int,
        offset: int = 0,
    ) -> list[ModelT]:
        """One page of rows matching `filters`, in a stable order."""
        primary_key = self.model.__mapper__.primary_key[0]
        query = (
            select(self.model)
            .where(*filters)
            .order_by(*order_by, primary_key)
            .limit(limit)
            .offset(offset)
        )
        return list((await self.session.scalars(query)).all())

    async def page(
        self,
        params: PageParams,
        schema: type[SchemaT],
        *,
        filters: Filters = (),
        order_by: Ordering = (),
    ) -> Page[SchemaT]:
        """The page `params` asks for, as `schema` objects, with the total across pages."""
        rows = await self.list(
            filters=filters, order_by=order_by, limit=params.limit, offset=params.offset
        )
        return Page(
            items=[schema.model_validate(row) for row in rows],
            total=await self.count(filters=filters),
            limit=params.limit,
            offset=params.offset,
        )

    async def count(self, *, filters: Filters = ()) -> int:
        """How many rows match `filters`."""
        query = select(func.count()).select_from(self.model).where(*filters)
        return (await self.session.execute(query)).scalar_one()

    async def create(self, values: Mapping[str, Any]) -> ModelT:
        """Insert a row and return it with its generated columns loaded."""
        instance = self.model(**values)
        self.session.add(instance)
        await self._flush()
        await self.session.refresh(instance)
        return instance

    async def update(self, instance: ModelT, values: Mapping[str, Any]) -> ModelT:
        """Apply `values` to `instance` and write them."""
        for name, value in values.items():
            setattr(instance, name, value)
        await self._flush()
        await self.session.refresh(instance)
        return instance

    async def delete(self, instance: ModelT) -> None:
        """Delete `instance`."""
        await self.session.delete(instance)
        await self._flush()

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as error:
            name = self.model.__name__.lower()
            raise Conflict(f"This {name} conflicts with an existing one.") from error
