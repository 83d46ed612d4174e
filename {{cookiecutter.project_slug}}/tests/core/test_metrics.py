"""/metrics counts real requests by route template, rate-limit refusals, cache reads and the
database pool, and is served only to whom may read it."""

import logging

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core import metrics
from {{ cookiecutter.package_name }}.core.db import SCHEMA_REVISION, Database
from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import (
    LOGIN_URL,
    ME_URL,
    SEEDED_ACCOUNTS,
    Account,
    http_client,
    own_app,
)
from tests.problem_assertions import assert_problem

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TOKEN = "a-scrape-token-of-enough-length-for-any-environment"


async def scrape(client: AsyncClient, token: str | None = None) -> Samples:
    """Every sample `/metrics` reports, by name and labels."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample of `name` with exactly these labels; 0 when there is none yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_requests_are_counted_and_timed_by_route_template(
    app: FastAPI, user: Account
) -> None:
    item = (await user.client.post("/api/v1/items", json={"name": "Cup", "price_cents": 1})).json()
    async with http_client(app) as anonymous:
        before = await scrape(anonymous)

        for _ in range(3):
            assert (await user.client.get(ME_URL)).status_code == 200
        assert (await user.client.get(f"/api/v1/items/{item['id']}")).status_code == 200
        assert (await anonymous.get(ME_URL)).status_code == 401
        assert (await anonymous.get("/no/such/route")).status_code == 404
        after = await scrape(anonymous)

    me = {"method": "GET", "route": ME_URL}
    assert grown(before, after, "http_requests_total", **me, status="2xx") == 3
    assert grown(before, after, "http_requests_total", **me, status="4xx") == 1
    assert grown(before, after, "http_request_duration_seconds_count", **me) == 4
    assert grown(before, after, "http_request_duration_seconds_sum", **me) > 0
    item_route = {"method": "GET", "route": "/api/v1/items/{item_id}", "status": "2xx"}
    assert grown(before, after, "http_requests_total", **item_route) == 1
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "4xx"}
    assert grown(before, after, "http_requests_total", **unmatched) == 1
    # A raw path is never a label: an item's id would make a series of its own.
    assert not any(item["id"] in str(labels) for _, labels in after)
    assert value(after, "http_requests_in_flight") == value(before, "http_requests_in_flight")
    assert grown(before, after, "cache_reads_total", result="miss") == 1


async def test_an_unknown_method_is_counted_as_other(client: AsyncClient) -> None:
    before = await scrape(client)

    await client.request("BREW", "/health/live")

    after = await scrape(client)
    assert grown(before, after, "http_requests_total", method="BREW", route="/health/live") == 0
    others = [
        grown(before, after, name, **dict(labels))
        for name, labels in after
        if name == "http_requests_total" and ("method", "other") in labels
    ]
    assert sum(others) == 1


async def test_a_refusal_is_counted_under_its_policy(settings: Settings) -> None:
    strict = settings.model_copy(update={"rate_limit_default": "1/minute"})
    async with own_app(strict) as app, http_client(app) as client:
        before = await scrape(client)
        statuses = [(await client.get(ME_URL)).status_code for _ in range(2)]
        after = await scrape(client)

    assert statuses == [401, 429]
    assert grown(before, after, "rate_limit_rejections_total", policy="default") == 1


async def test_a_locked_out_login_is_counted_as_a_refusal(settings: Settings) -> None:
    strict = settings.model_copy(update={"rate_limit_login_failures": "1/minute"})
    wrong = {"username": SEEDED_ACCOUNTS["user"][0], "password": "not-the-password"}
    async with own_app(strict) as app, http_client(app) as client:
        before = await scrape(client)
        statuses = [(await client.post(LOGIN_URL, data=wrong)).status_code for _ in range(2)]
        after = await scrape(client)

    assert statuses == [401, 429]
    assert grown(before, after, "rate_limit_rejections_total", policy="login_failures") == 1


async def test_the_pool_gauges_follow_its_connections(
    client: AsyncClient, settings: Settings
) -> None:
    database = Database(settings)
    before = await scrape(client)
    try:
        async with database.sessionmaker() as session:
            await session.execute(SCHEMA_REVISION)
            during = await scrape(client)
    finally:
        await database.dispose()
    after = await scrape(client)

    assert grown(before, during, "db_pool_connections_in_use") == 1
    assert grown(before, during, "db_pool_connections_open") == 1
    assert grown(before, after, "db_pool_connections_in_use") == 0
    assert grown(before, after, "db_pool_connections_open") == 0


async def test_with_a_token_a_scrape_must_send_it(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    async with own_app(guarded) as app, http_client(app) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        samples = await scrape(client, TOKEN)

    for refused in (missing, wrong):
        assert_problem(refused, 401, "not_authenticated")
        assert refused.headers["www-authenticate"] == "Bearer"
    assert samples


async def test_outside_local_environments_metrics_need_a_token(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": "production"})
    async with own_app(production) as app, http_client(app) as client:
        refused = await client.get("/metrics")

    assert_problem(refused, 404, "not_found")


async def test_metrics_are_only_read(app: FastAPI) -> None:
    async with http_client(app) as client:
        refused = await client.post("/metrics")

    assert_problem(refused, 405, "method_not_allowed")
    assert refused.headers["allow"] == "GET, HEAD"


def test_an_empty_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "")

    assert Settings(_env_file=None).metrics_token is None


async def test_a_crash_while_scraping_is_a_500_problem(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> bytes:
        raise OSError("the multiprocess folder is gone")

    monkeypatch.setattr(metrics, "exposition", broken)
    async with http_client(app) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.get("/metrics")

    assert_problem(response, 500, "internal_error")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "unhandled_exception" in caplog.text
