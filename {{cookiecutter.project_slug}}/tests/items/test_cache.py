"""GET /api/v1/items/{id} reads through the cache the settings choose; writes invalidate it."""

import uuid
from typing import Any

from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.cache import CacheStats
from tests.conftest import Account
from tests.problem_assertions import assert_problem

URL = "/api/v1/items"


async def created(owner: Account) -> dict[str, Any]:
    """An item `owner` created through the API."""
    response = await owner.client.post(URL, json={"name": "Mug", "price_cents": 100})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stats(app: FastAPI) -> CacheStats:
    """The application's cache counters."""
    counters: CacheStats = app.state.cache.stats
    return counters


async def test_a_second_read_is_a_cache_hit(app: FastAPI, user: Account) -> None:
    item = await created(user)

    answers = [await user.client.get(f"{URL}/{item['id']}") for _ in range(2)]

    assert [answer.json() for answer in answers] == [item, item]
    assert stats(app) == CacheStats(hits=1, misses=1, errors=0)


async def test_a_change_is_seen_on_the_next_read(app: FastAPI, user: Account) -> None:
    item = await created(user)
    await user.client.get(f"{URL}/{item['id']}")

    await user.client.patch(f"{URL}/{item['id']}", json={"price_cents": 250})
    after = await user.client.get(f"{URL}/{item['id']}")

    assert after.json()["price_cents"] == 250
    assert stats(app).misses == 2


async def test_a_deleted_item_is_not_served_from_the_cache(app: FastAPI, user: Account) -> None:
    item = await created(user)
    await user.client.get(f"{URL}/{item['id']}")

    await user.client.delete(f"{URL}/{item['id']}")

    assert_problem(await user.client.get(f"{URL}/{item['id']}"), 404, "item_not_found")
    assert stats(app).hits == 0


async def test_another_users_item_stays_a_404_when_it_is_cached(
    app: FastAPI, user: Account, other_user: Account, admin: Account
) -> None:
    item = await created(user)
    await user.client.get(f"{URL}/{item['id']}")

    refused = await other_user.client.get(f"{URL}/{item['id']}")
    managed = await admin.client.get(f"{URL}/{item['id']}")

    assert_problem(refused, 404, "item_not_found")
    assert managed.json() == item
    assert stats(app) == CacheStats(hits=2, misses=1, errors=0)


async def test_another_users_read_of_an_uncached_item_is_a_404_too(
    app: FastAPI, user: Account, other_user: Account
) -> None:
    item = await created(user)

    refused = await other_user.client.get(f"{URL}/{item['id']}")
    owned = await user.client.get(f"{URL}/{item['id']}")

    assert_problem(refused, 404, "item_not_found")
    assert owned.json() == item


async def test_an_unknown_item_is_a_404_every_time(app: FastAPI, user: Account) -> None:
    target = f"{URL}/{uuid.uuid4()}"

    for _ in range(2):
        assert_problem(await user.client.get(target), 404, "item_not_found")
    assert stats(app) == CacheStats(hits=0, misses=2, errors=0)
