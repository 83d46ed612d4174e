"""Page queries against a real database, using the items table."""

import pytest
from fastapi import FastAPI
from sqlalchemy import bindparam

from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.core.pagination import (
    PageParams,
    page_query,
    read_page,
)
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import ItemRead
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import UserRead
from tests.conftest import Account

CHEAPER_THAN = page_query(
    Item,
    ItemRead,
    filters=[Item.price_cents < bindparam("price")],
    order_by=[Item.price_cents.desc()],
)


@pytest.fixture
def database(app: FastAPI) -> Database:
    application_database: Database = app.state.database
    return application_database


async def add_items(user: Account, count: int) -> None:
    for index in range(count):
        response = await user.client.post(
            "/api/v1/items", json={"name": f"item-{index}", "price_cents": index + 1}
        )
        assert response.status_code == 201, response.text


async def test_a_page_applies_filters_and_order_and_counts_every_match(
    database: Database, user: Account
) -> None:
    await add_items(user, 5)

    page = await read_page(
        database, CHEAPER_THAN, ItemRead, PageParams(limit=2, offset=1), {"price": 5}
    )

    assert [item.name for item in page.items] == ["item-2", "item-1"]
    assert all(isinstance(item, ItemRead) for item in page.items)
    assert (page.total, page.limit, page.offset) == (4, 2, 1)


def test_a_page_reads_only_the_columns_its_schema_shows() -> None:
    users = page_query(User, UserRead)

    assert "password_hash" not in str(users)
    assert {column.name for column in users.selected_columns[:-1]} == set(UserRead.model_fields)


@pytest.mark.parametrize(("added", "offset"), [(0, 0), (3, 7)])
async def test_a_page_without_rows_still_has_the_total(
    database: Database, user: Account, added: int, offset: int
) -> None:
    await add_items(user, added)

    page = await read_page(
        database, CHEAPER_THAN, ItemRead, PageParams(limit=5, offset=offset), {"price": 99}
    )

    assert (page.items, page.total) == ([], added)
