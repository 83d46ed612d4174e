"""One generic async repository for the queries every feature needs."""

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import Conflict
from {{ cookiecutter.package_name }}.core.models import Base

ModelT = TypeVar("ModelT", bound=Base)

Filters = Sequence[ColumnElement[bool]]


def columns_shown(model: type[Base], schema: type[BaseModel]) -> list[Any]:
    """The mapped columns of `model` that `schema` shows, for a read straight into `schema`
    objects: nothing it leaves out (a password hash, say) is read."""
    return [getattr(model, name) for name in schema.model_fields]


class Repository(Generic[ModelT]):
    """Get, create, update and delete rows of one model; pages are read with
    `core.pagination`.

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
