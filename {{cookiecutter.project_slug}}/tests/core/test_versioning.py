"""A deprecated route keeps answering, announces its deprecation and sunset on its answers,
and is marked deprecated in the OpenAPI document."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.versioning import deprecation
from tests.conftest import http_client

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
SUNSET = datetime(2026, 7, 1, tzinfo=UTC)


async def test_a_deprecated_route_announces_when_it_goes(fresh_app: FastAPI) -> None:
    async def legacy() -> dict[str, str]:
        return {"status": "still here"}

    fresh_app.add_api_route(
        "/api/v1/legacy",
        legacy,
        deprecated=True,
        dependencies=[deprecation(SINCE, SUNSET, "/api/v2/legacy")],
    )
    async with http_client(fresh_app) as client:
        response = await client.get("/api/v1/legacy")

    assert response.status_code == 200
    assert response.headers["deprecation"] == "@1767225600"
    assert response.headers["sunset"] == "Wed, 01 Jul 2026 00:00:00 GMT"
    assert response.headers["link"] == '</api/v2/legacy>; rel="successor-version"'
    assert fresh_app.openapi()["paths"]["/api/v1/legacy"]["get"]["deprecated"] is True


def test_a_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        deprecation(datetime(2026, 1, 1), SUNSET)  # noqa: DTZ001 - naive on purpose


async def test_a_sunset_in_another_zone_is_sent_in_gmt(fresh_app: FastAPI) -> None:
    async def legacy() -> dict[str, str]:
        return {}

    paris_summer = timezone(timedelta(hours=2))
    sunset = datetime(2026, 7, 1, 2, tzinfo=paris_summer)
    fresh_app.add_api_route("/api/v1/legacy", legacy, dependencies=[deprecation(SINCE, sunset)])
    async with http_client(fresh_app) as client:
        response = await client.get("/api/v1/legacy")

    assert response.headers["sunset"] == "Wed, 01 Jul 2026 00:00:00 GMT"
