"""Rate limits: counted per caller, exact at the boundary, with the draft's headers."""

import re

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import ME_URL, Account, login, own_app
from tests.problem_assertions import assert_problem

ITEMS_URL = "/api/v1/items"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Low limits, so that a few requests reach them."""
    return settings.model_copy(
        update={"rate_limit_default": "3/minute", "rate_limit_login": "4/minute"}
    )


def client_from(app: FastAPI, address: str, **options: str) -> AsyncClient:
    """An anonymous client whose requests come from `address`."""
    transport = ASGITransport(app=app, client=(address, 40_000))
    return AsyncClient(transport=transport, base_url="http://testserver", headers=options)


async def test_the_request_over_the_limit_gets_429_and_the_one_before_does_not(
    user: Account,
) -> None:
    allowed = [await user.client.get(ME_URL) for _ in range(3)]
    refused = await user.client.get(ME_URL)

    assert [response.status_code for response in allowed] == [200, 200, 200]
    for left, response in zip((2, 1, 0), allowed, strict=True):
        assert re.fullmatch(rf'"default";r={left};t=\d+', response.headers["ratelimit"])
    assert allowed[0].headers["ratelimit-policy"] == '"default";q=3;w=60'
    body = assert_problem(refused, 429, "rate_limited")
    assert "'default'" in body["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-policy"] == '"default";q=3;w=60'
    assert refused.headers["ratelimit"].startswith('"default";r=0;')


async def test_each_user_has_a_count_of_their_own(user: Account, other_user: Account) -> None:
    for _ in range(3):
        await user.client.get(ME_URL)

    assert (await user.client.get(ME_URL)).status_code == 429
    assert (await other_user.client.get(ME_URL)).status_code == 200


async def test_callers_without_a_valid_token_count_by_address(app: FastAPI) -> None:
    async with client_from(app, "203.0.113.7") as first, client_from(app, "203.0.113.8") as second:
        answers = [(await first.get(ITEMS_URL)).status_code for _ in range(4)]
        forged = await first.get(ITEMS_URL, headers={"Authorization": "Bearer forged"})
        elsewhere = await second.get(ITEMS_URL)

    assert answers == [401, 401, 401, 429]
    assert forged.status_code == 429
    assert elsewhere.status_code == 401


async def test_a_route_policy_replaces_the_default(app: FastAPI) -> None:
    async with client_from(app, "203.0.113.9") as client:
        logins = [
            (await login(client, "nobody@example.com", "wrong")).status_code for _ in range(5)
        ]
        listing = await client.get(ITEMS_URL)

    assert logins == [401, 401, 401, 401, 429]
    assert listing.status_code == 401  # the logins did not use up the default limit


async def test_health_probes_are_not_limited(client: AsyncClient) -> None:
    answers = {(await client.get("/health/live")).status_code for _ in range(5)}

    assert answers == {200}


async def test_forwarded_for_is_believed_only_from_trusted_proxies(settings: Settings) -> None:
    for trusted, expected in (([], [401, 401, 401, 429]), (["127.0.0.1"], [401, 401, 401, 401])):
        async with own_app(settings.model_copy(update={"trusted_proxies": trusted})) as app:
            answers = []
            for number in range(4):
                forwarded = {"X-Forwarded-For": f"198.51.100.{number}"}
                async with client_from(app, "127.0.0.1", **forwarded) as client:
                    answers.append((await client.get(ITEMS_URL)).status_code)
        assert answers == expected, trusted
