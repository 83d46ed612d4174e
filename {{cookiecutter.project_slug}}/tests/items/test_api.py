"""The items API end to end: HTTP in, database state out."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.pagination import MAX_PAGE_SIZE
from {{ cookiecutter.package_name }}.items.models import Item
from tests.conftest import Account
from tests.problem_assertions import assert_problem

URL = "/api/v1/items"


def new_item(**overrides: Any) -> dict[str, Any]:
    """A valid create body."""
    return {"name": "Espresso cup", "description": "90 ml", "price_cents": 1299, "quantity": 4} | (
        overrides
    )


async def create(client: AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Create an item through the API and return its body."""
    response = await client.post(URL, json=new_item(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_returns_201_with_location_and_stores_the_item(
    client: AsyncClient, session: AsyncSession, user: Account
) -> None:
    response = await client.post(URL, json=new_item())

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"http://testserver{URL}/{body['id']}"
    assert body["name"] == "Espresso cup"
    assert body["price_cents"] == 1299
    assert body["owner_id"] == str(user.id)
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    stored = await session.get(Item, uuid.UUID(body["id"]))
    assert stored is not None
    assert stored.quantity == 4


async def test_create_trims_whitespace_and_defaults_quantity(client: AsyncClient) -> None:
    response = await client.post(URL, json={"name": "  Mug  ", "price_cents": 100})
    body = response.json()

    assert body["name"] == "Mug"
    assert body["quantity"] == 0


async def test_create_with_a_taken_name_is_409(client: AsyncClient) -> None:
    await create(client)

    response = await client.post(URL, json=new_item())

    body = assert_problem(response, 409, "item_name_taken")
    assert "Espresso cup" in body["detail"]


@pytest.mark.parametrize(
    ("field", "value", "error_type"),
    [
        ("name", "", "string_too_short"),
        ("name", "x" * 101, "string_too_long"),
        ("price_cents", -1, "greater_than_equal"),
        ("quantity", 1_000_001, "less_than_equal"),
        ("owner", "someone", "extra_forbidden"),
        ("price_cents", "100", "int_type"),
        ("quantity", True, "int_type"),
        ("quantity", 1.5, "int_type"),
    ],
)
async def test_create_rejects_invalid_fields_with_422(
    client: AsyncClient, field: str, value: object, error_type: str
) -> None:
    response = await client.post(URL, json=new_item(**{field: value}))

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [
        {"loc": ["body", field], "msg": body["errors"][0]["msg"], "type": error_type}
    ]


async def test_create_without_body_lists_missing_body(client: AsyncClient) -> None:
    response = await client.post(URL, json=None)

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["type"] == "missing"


async def test_get_returns_the_item(client: AsyncClient) -> None:
    created = await create(client)

    response = await client.get(f"{URL}/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_id_is_404(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/{uuid.uuid4()}")

    assert_problem(response, 404, "item_not_found")


async def test_get_with_a_malformed_id_is_422(client: AsyncClient) -> None:
    response = await client.get(f"{URL}/not-a-uuid")

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["path", "item_id"]


async def test_list_pages_counts_and_sorts(client: AsyncClient) -> None:
    for name, price in [("b", 300), ("a", 100), ("c", 200)]:
        await create(client, name=name, price_cents=price)

    response = await client.get(URL, params={"sort": "price_cents", "limit": 2, "offset": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert (body["limit"], body["offset"]) == (2, 1)
    assert [item["name"] for item in body["items"]] == ["c", "b"]


async def test_list_sorts_descending_by_name(client: AsyncClient) -> None:
    for name in ["b", "a", "c"]:
        await create(client, name=name)

    response = await client.get(URL, params={"sort": "-name"})

    assert [item["name"] for item in response.json()["items"]] == ["c", "b", "a"]


async def test_list_filters_by_name_and_takes_wildcards_literally(client: AsyncClient) -> None:
    for name in ["Blue mug", "Red MUG", "Plate", "100% mug"]:
        await create(client, name=name)

    mugs = (await client.get(URL, params={"search": "mug"})).json()
    percent = (await client.get(URL, params={"search": "%"})).json()

    assert sorted(item["name"] for item in mugs["items"]) == ["100% mug", "Blue mug", "Red MUG"]
    assert mugs["total"] == 3
    assert [item["name"] for item in percent["items"]] == ["100% mug"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": MAX_PAGE_SIZE + 1},
        {"limit": 0},
        {"offset": -1},
        {"sort": "description"},
        {"search": ""},
        {"search": "mug\x00"},
        {"offset": 3, "search": "\x1b[2J"},
    ],
)
async def test_list_rejects_out_of_range_parameters(
    client: AsyncClient, params: dict[str, str | int]
) -> None:
    response = await client.get(URL, params=params)

    assert_problem(response, 422, "validation_failed")


async def test_patch_changes_only_the_fields_sent(client: AsyncClient) -> None:
    created = await create(client)

    response = await client.patch(f"{URL}/{created['id']}", json={"price_cents": 999})

    assert response.status_code == 200
    body = response.json()
    assert body["price_cents"] == 999
    assert body["name"] == created["name"]
    assert body["updated_at"] >= created["updated_at"]


async def test_patch_to_null_on_a_required_field_is_422(client: AsyncClient) -> None:
    created = await create(client)

    response = await client.patch(f"{URL}/{created['id']}", json={"name": None})

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["body", "name"]


async def test_patch_to_a_taken_name_is_409(client: AsyncClient) -> None:
    await create(client, name="first")
    second = await create(client, name="second")

    response = await client.patch(f"{URL}/{second['id']}", json={"name": "first"})

    assert_problem(response, 409, "item_name_taken")


async def test_patch_unknown_id_is_404(client: AsyncClient) -> None:
    response = await client.patch(f"{URL}/{uuid.uuid4()}", json={"quantity": 1})

    assert_problem(response, 404, "item_not_found")


async def test_delete_returns_204_and_removes_the_row(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = await create(client)

    response = await client.delete(f"{URL}/{created['id']}")

    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    assert (await session.scalars(select(Item))).all() == []
    assert_problem(await client.get(f"{URL}/{created['id']}"), 404, "item_not_found")
