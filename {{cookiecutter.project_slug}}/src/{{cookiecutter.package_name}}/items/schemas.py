"""What clients send and receive for items; separate input and output shapes."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from {{ cookiecutter.package_name }}.core.pagination import PageParams
from {{ cookiecutter.package_name }}.core.schemas import (
    MULTI_LINE,
    WHOLE_NUMBER,
    FilledLine,
    PatchSchema,
    RequestSchema,
    ResponseSchema,
    SingleLine,
    Trimmed,
)
from {{ cookiecutter.package_name }}.items.models import (
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
)

Name = Annotated[
    FilledLine,
    Field(max_length=NAME_MAX_LENGTH, description="Unique per owner."),
]
Description = Annotated[
    Trimmed | None,
    MULTI_LINE,
    Field(max_length=DESCRIPTION_MAX_LENGTH, description="Free text of one or more lines."),
]
PriceCents = Annotated[
    int,
    Field(strict=True, ge=0, le=100_000_000, description="Unit price in cents (1999 = 19.99)."),
    WHOLE_NUMBER,
]
Quantity = Annotated[
    int, Field(strict=True, ge=0, le=1_000_000, description="Units in stock."), WHOLE_NUMBER
]


class ItemCreate(RequestSchema):
    """A new item."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Espresso cup",
                    "description": "Porcelain, 90 ml.",
                    "price_cents": 1299,
                    "quantity": 40,
                }
            ]
        }
    )

    name: Name
    description: Description = None
    price_cents: PriceCents
    quantity: Quantity = 0


class ItemUpdate(PatchSchema):
    """A partial change: only the fields sent are applied."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"price_cents": 1099, "quantity": 35}]}
    )

    nullable = frozenset({"description"})

    name: Name | None = None
    description: Description = None
    price_cents: PriceCents | None = None
    quantity: Quantity | None = None


class ItemRead(ResponseSchema):
    """An item as stored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b9f7c1e-5d2a-4f43-9a53-6c1f2e8d7b10",
                    "owner_id": "3f0c6a52-3d8e-4d7c-9b8f-0f6e4b2a1c9d",
                    "name": "Espresso cup",
                    "description": "Porcelain, 90 ml.",
                    "price_cents": 1299,
                    "quantity": 40,
                    "created_at": "2026-01-05T09:30:00Z",
                    "updated_at": "2026-01-05T09:30:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    description: str | None
    price_cents: int
    quantity: int
    created_at: datetime
    updated_at: datetime


class ItemSort(StrEnum):
    """Allowed sort keys; a leading '-' sorts descending."""

    NAME = "name"
    NAME_DESC = "-name"
    PRICE = "price_cents"
    PRICE_DESC = "-price_cents"
    CREATED = "created_at"
    CREATED_DESC = "-created_at"


class ItemListParams(PageParams):
    """Which items to list: a page, filtered by name and sorted."""

    search: SingleLine | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Only items whose name contains this.",
    )
    sort: ItemSort = Field(
        default=ItemSort.CREATED_DESC, description="Sort key; prefix '-' for descending."
    )
