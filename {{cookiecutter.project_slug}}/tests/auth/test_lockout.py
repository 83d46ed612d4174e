"""Login lockout: failures for one account refuse its logins until the window passes."""

import time

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.settings import Settings
from tests.conftest import PASSWORD, Account, login
from tests.problem_assertions import assert_problem

WINDOW_SECONDS = 15 * 60


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Three failed logins lock an account for 15 minutes."""
    return settings.model_copy(update={"rate_limit_login_failures": "3/15 minutes"})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Wall-clock time the rate-limit storage sees; append to move it forward."""
    offsets = [0.0]
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + sum(offsets))
    return offsets


async def test_failures_lock_the_account_whatever_the_password(
    client: AsyncClient, user: Account
) -> None:
    failures = [(await login(client, user.email, "wrong")).status_code for _ in range(3)]
    locked = await login(client, user.email)

    assert failures == [401, 401, 401]
    body = assert_problem(locked, 429, "rate_limited")
    assert body["detail"] == "Too many failed logins for this account; try again later."
    assert WINDOW_SECONDS - 5 <= int(locked.headers["retry-after"]) <= WINDOW_SECONDS
    assert locked.headers["ratelimit-policy"] == f'"login_failures";q=3;w={WINDOW_SECONDS}'


async def test_an_unknown_account_gets_the_same_answer(client: AsyncClient, user: Account) -> None:
    for email in (user.email, "nobody@example.com"):
        for _ in range(3):
            await login(client, email, "wrong")

    known, unknown = await login(client, user.email), await login(client, "nobody@example.com")

    assert (known.status_code, unknown.status_code) == (429, 429)
    assert known.json()["detail"] == unknown.json()["detail"]
    assert known.headers["ratelimit-policy"] == unknown.headers["ratelimit-policy"]


async def test_the_lock_ends_when_the_window_passes(
    client: AsyncClient, user: Account, clock: list[float]
) -> None:
    for _ in range(3):
        await login(client, user.email, "wrong")
    assert (await login(client, user.email)).status_code == 429

    clock.append(WINDOW_SECONDS + 1)

    assert (await login(client, user.email, PASSWORD)).status_code == 200


async def test_a_successful_login_forgets_earlier_failures(
    client: AsyncClient, user: Account
) -> None:
    for _ in range(2):
        await login(client, user.email, "wrong")
    assert (await login(client, user.email)).status_code == 200
    for _ in range(2):
        await login(client, user.email, "wrong")

    assert (await login(client, user.email)).status_code == 200


async def test_other_accounts_are_not_locked(client: AsyncClient, user: Account) -> None:
    for _ in range(3):
        await login(client, "grace@example.com", "wrong")

    assert (await login(client, user.email)).status_code == 200
