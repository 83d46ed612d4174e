"""The shared fixtures: a module that overrides `settings` gets an application built from them."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import DatabaseForTest, settings_for
from tests.problem_assertions import assert_problem

SMALL_BODY = 16


@pytest.fixture
def settings(test_database: DatabaseForTest) -> Settings:
    return settings_for(test_database).model_copy(update={"max_body_size": SMALL_BODY})


async def test_overridden_settings_get_an_application_of_their_own(
    app: FastAPI, shared_app: FastAPI, client: AsyncClient
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b"x" * (SMALL_BODY + 1),
        headers={"content-type": "application/json"},
    )

    assert app is not shared_app
    assert_problem(response, 413, "payload_too_large")
