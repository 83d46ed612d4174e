"""Register, log in, refresh, log out, and every way a session ends."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.auth import service
from {{ cookiecutter.package_name }}.auth.models import AuthSession
from {{ cookiecutter.package_name }}.auth.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.auth.service import Principal
from {{ cookiecutter.package_name }}.auth.tokens import TokenClaims, TokenType
from {{ cookiecutter.package_name }}.core.db import Database
from {{ cookiecutter.package_name }}.users.models import User
from tests.conftest import LOGIN_URL, ME_URL, PASSWORD, Account, logged_events, login
from tests.problem_assertions import assert_problem

REGISTER_URL = "/api/v1/auth/register"
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"


def registration(**overrides: Any) -> dict[str, Any]:
    return {"email": "Ida@Example.com", "password": PASSWORD, "full_name": "Ida"} | overrides


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored_session(session: AsyncSession, session_id: uuid.UUID) -> AuthSession:
    stored = await session.get(AuthSession, session_id)
    assert stored is not None
    await session.refresh(stored)
    return stored


async def expire_session(session: AsyncSession, session_id: uuid.UUID) -> None:
    stored = await stored_session(session, session_id)
    stored.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await session.commit()


def security_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return logged_events(caplog, ".security")


async def test_register_creates_an_active_user_without_exposing_the_hash(
    client: AsyncClient, session: AsyncSession
) -> None:
    response = await client.post(REGISTER_URL, json=registration())

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "full_name", "role", "is_active", "created_at"}
    assert (body["email"], body["role"], body["is_active"]) == ("ida@example.com", "user", True)
    stored = (await session.scalars(select(User).where(User.id == uuid.UUID(body["id"])))).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


async def test_email_is_unique_ignoring_case(client: AsyncClient) -> None:
    await client.post(REGISTER_URL, json=registration())

    response = await client.post(REGISTER_URL, json=registration(email="IDA@example.COM"))

    assert_problem(response, 409, "email_taken")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"is_active": False}, "is_active"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": 123}, "email"),
        ({"full_name": ""}, "full_name"),
    ],
)
async def test_register_rejects_privileged_or_invalid_fields(
    client: AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post(REGISTER_URL, json=registration(**overrides))

    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["body", field]


async def test_password_equal_to_the_email_is_refused(client: AsyncClient) -> None:
    same = registration(email="ada.lovelace@example.com", password="Ada.Lovelace@example.com")

    response = await client.post(REGISTER_URL, json=same)

    body = assert_problem(response, 422, "validation_failed")
    assert "must not be the email" in body["errors"][0]["msg"]


async def test_login_returns_a_bearer_pair(
    client: AsyncClient, user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await login(client, "ADA@example.com")

    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    assert body["access_token"] != body["refresh_token"]
    me = await client.get(ME_URL, headers=bearer(body["access_token"]))
    assert me.json()["email"] == "ada@example.com"
    [event] = [
        e
        for e in security_events(caplog)
        if e.get("request_id") == response.headers["x-request-id"]
    ]
    assert (event["event"], event["user_id"]) == ("login_succeeded", me.json()["id"])
    assert PASSWORD not in caplog.text
    assert body["access_token"] not in caplog.text


async def test_login_failures_are_indistinguishable(
    client: AsyncClient, user: Account, admin: Account, caplog: pytest.LogCaptureFixture
) -> None:
    await admin.client.patch(f"/api/v1/users/{user.id}", json={"is_active": False})

    with caplog.at_level(logging.INFO):
        responses = [
            await login(client, "ada@example.com", "wrong-password-1"),
            await login(client, "nobody@example.com"),
            await login(client, "ada@example.com"),  # right password, deactivated account
        ]

    bodies = [assert_problem(r, 401, "invalid_credentials") for r in responses]
    assert len({(body["title"], body["detail"]) for body in bodies}) == 1
    assert all(r.headers["www-authenticate"] == "Bearer" for r in responses)
    failures = [e for e in security_events(caplog) if e["event"] == "login_failed"]
    assert len(failures) == 3


async def test_login_accepts_the_swagger_password_form(client: AsyncClient, user: Account) -> None:
    response = await client.post(
        LOGIN_URL,
        data={"grant_type": "password", "username": user.email, "password": PASSWORD, "scope": ""},
    )

    assert response.status_code == 200


async def test_login_without_fields_is_422(client: AsyncClient) -> None:
    assert_problem(await client.post(LOGIN_URL, data={}), 422, "validation_failed")


async def test_refresh_rotates_and_each_refresh_token_works_once(
    client: AsyncClient, user: Account
) -> None:
    first = user.tokens["refresh_token"]

    rotated = await client.post(REFRESH_URL, json={"refresh_token": first})

    assert rotated.status_code == 200
    pair = rotated.json()
    assert pair["refresh_token"] != first
    assert (await client.get(ME_URL, headers=bearer(pair["access_token"]))).status_code == 200
    again = await client.post(REFRESH_URL, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


async def test_reusing_a_refresh_token_revokes_the_whole_family(
    client: AsyncClient, user: Account, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    stolen = user.tokens["refresh_token"]
    legitimate = (await client.post(REFRESH_URL, json={"refresh_token": stolen})).json()

    with caplog.at_level(logging.INFO):
        reuse = await client.post(REFRESH_URL, json={"refresh_token": stolen})

    assert_problem(reuse, 401, "refresh_token_reused")
    after = await client.post(REFRESH_URL, json={"refresh_token": legitimate["refresh_token"]})
    assert_problem(after, 401, "invalid_token")
    assert_problem(await user.client.get(ME_URL), 401, "invalid_token")
    assert_problem(
        await client.get(ME_URL, headers=bearer(legitimate["access_token"])), 401, "invalid_token"
    )
    assert (await stored_session(session, user.session_id)).revoked_at is not None
    [event] = [e for e in security_events(caplog) if e["event"] == "refresh_reuse_detected"]
    assert event["user_id"] == str(user.id)


async def test_tokens_are_not_interchangeable_over_http(client: AsyncClient, user: Account) -> None:
    as_access = await client.get(ME_URL, headers=bearer(user.tokens["refresh_token"]))
    as_refresh = await client.post(REFRESH_URL, json={"refresh_token": user.tokens["access_token"]})

    assert_problem(as_access, 401, "invalid_token")
    assert_problem(as_refresh, 401, "invalid_token")


async def test_logout_ends_the_access_token_and_its_refresh_family(
    client: AsyncClient, user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await user.client.post(LOGOUT_URL)

    assert response.status_code == 204
    assert_problem(await user.client.get(ME_URL), 401, "invalid_token")
    refresh = await client.post(REFRESH_URL, json={"refresh_token": user.tokens["refresh_token"]})
    assert_problem(refresh, 401, "invalid_token")
    assert [e["event"] for e in security_events(caplog)] == ["logout"]


async def test_logout_leaves_other_sessions_alone(client: AsyncClient, user: Account) -> None:
    second = (await login(client, user.email)).json()

    await user.client.post(LOGOUT_URL)

    assert (await client.get(ME_URL, headers=bearer(second["access_token"]))).status_code == 200


async def test_a_missing_or_garbage_token_is_401_with_www_authenticate(
    client: AsyncClient,
) -> None:
    missing = await client.get(ME_URL)
    garbage = await client.get(ME_URL, headers=bearer("not.a.jwt"))

    assert_problem(missing, 401, "not_authenticated")
    assert_problem(garbage, 401, "invalid_token")
    assert missing.headers["www-authenticate"] == garbage.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", [ME_URL, "/api/v1/items"])
async def test_a_request_verifies_its_token_and_reads_its_caller_once(
    app: FastAPI, user: Account, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    verified: list[TokenType] = []
    read: list[uuid.UUID] = []
    codec = app.state.token_codec
    verify, authenticate = codec.verify, service.authenticate

    def counting_verify(token: str, expected: TokenType) -> TokenClaims:
        verified.append(expected)
        claims: TokenClaims = verify(token, expected)
        return claims

    async def counting_authenticate(database: Database, claims: TokenClaims) -> Principal:
        read.append(claims.session_id)
        return await authenticate(database, claims)

    monkeypatch.setattr(codec, "verify", counting_verify)
    monkeypatch.setattr(service, "authenticate", counting_authenticate)

    # The rate limit, the router and the handler all ask who is calling; on items, the
    # permission and the owner scope too.
    assert (await user.client.get(path)).status_code == 200
    assert verified == [TokenType.ACCESS]
    assert read == [user.session_id]


async def test_a_deleted_users_token_stops_working_at_once(user: Account, admin: Account) -> None:
    assert (await admin.client.delete(f"/api/v1/users/{user.id}")).status_code == 204

    assert_problem(await user.client.get(ME_URL), 401, "invalid_token")


async def test_a_deactivated_users_token_and_refresh_stop_working_at_once(
    client: AsyncClient, user: Account, admin: Account
) -> None:
    await admin.client.patch(f"/api/v1/users/{user.id}", json={"is_active": False})

    assert_problem(await user.client.get(ME_URL), 401, "invalid_token")
    refresh = await client.post(REFRESH_URL, json={"refresh_token": user.tokens["refresh_token"]})
    assert_problem(refresh, 401, "invalid_token")


async def test_a_password_change_ends_every_other_session(
    client: AsyncClient, user: Account
) -> None:
    other = (await login(client, user.email)).json()

    changed = await user.client.patch(
        ME_URL, json={"password": "a-brand-new-passphrase", "current_password": PASSWORD}
    )

    assert changed.status_code == 200
    assert (await user.client.get(ME_URL)).status_code == 200
    stale = await client.get(ME_URL, headers=bearer(other["access_token"]))
    assert_problem(stale, 401, "invalid_token")
    refresh = await client.post(REFRESH_URL, json={"refresh_token": other["refresh_token"]})
    assert_problem(refresh, 401, "invalid_token")
    assert_problem(await login(client, user.email), 401, "invalid_credentials")
    assert (await login(client, user.email, "a-brand-new-passphrase")).status_code == 200


async def test_login_rehashes_a_password_made_with_old_parameters(
    client: AsyncClient, user: Account, session: AsyncSession, app: FastAPI
) -> None:
    stronger = app.state.settings.model_copy(update={"password_hash_time_cost": 2})
    app.state.password_hasher = PasswordHasher(stronger)

    assert (await login(client, user.email)).status_code == 200

    stored = await session.get(User, user.id)
    assert stored is not None
    assert "t=2" in stored.password_hash


async def test_a_refresh_token_raced_twice_succeeds_at_most_once(
    client: AsyncClient, user: Account, session: AsyncSession
) -> None:
    body = {"refresh_token": user.tokens["refresh_token"]}

    first, second = await asyncio.gather(
        client.post(REFRESH_URL, json=body), client.post(REFRESH_URL, json=body)
    )

    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 401]
    loser = first if first.status_code == 401 else second
    assert_problem(loser, 401, "refresh_token_reused")
    assert (await stored_session(session, user.session_id)).revoked_at is not None


async def test_an_expired_session_rejects_its_tokens(
    client: AsyncClient, user: Account, session: AsyncSession
) -> None:
    await expire_session(session, user.session_id)

    assert_problem(await user.client.get(ME_URL), 401, "invalid_token")
    refresh = await client.post(REFRESH_URL, json={"refresh_token": user.tokens["refresh_token"]})
    assert_problem(refresh, 401, "invalid_token")


async def test_refresh_extends_the_session_and_the_new_token_matches_it(
    client: AsyncClient, user: Account, session: AsyncSession, app: FastAPI
) -> None:
    started = (await stored_session(session, user.session_id)).expires_at

    pair = (
        await client.post(REFRESH_URL, json={"refresh_token": user.tokens["refresh_token"]})
    ).json()

    assert (await stored_session(session, user.session_id)).expires_at > started
    claims = app.state.token_codec.verify(pair["refresh_token"], TokenType.REFRESH)
    assert claims.session_id == user.session_id


async def test_token_responses_are_not_cacheable(client: AsyncClient, user: Account) -> None:
    login_response = await login(client, user.email)
    refresh_response = await client.post(
        REFRESH_URL, json={"refresh_token": login_response.json()["refresh_token"]}
    )

    for response in (login_response, refresh_response):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


async def test_passwords_keep_their_spaces(client: AsyncClient) -> None:
    spaced = "  spaced out passphrase  "
    await client.post(REGISTER_URL, json=registration(password=spaced))

    assert (await login(client, "ida@example.com", spaced)).status_code == 200
    assert_problem(
        await login(client, "ida@example.com", spaced.strip()), 401, "invalid_credentials"
    )


@pytest.mark.parametrize(
    "spelling", ["IDA@EXAMPLE.COM", " ida@example.com ", "\uff49\uff44\uff41@example.com"]
)
async def test_login_normalizes_the_email_like_registration(
    client: AsyncClient, spelling: str
) -> None:
    await client.post(REGISTER_URL, json=registration())

    assert (await login(client, spelling)).status_code == 200


async def test_a_full_width_lookalike_cannot_register_a_second_account(
    client: AsyncClient,
) -> None:
    await client.post(REGISTER_URL, json=registration())

    response = await client.post(
        REGISTER_URL, json=registration(email="\uff49\uff44\uff41@example.com")
    )

    assert_problem(response, 409, "email_taken")


async def test_a_malformed_email_at_login_still_costs_a_hash(
    client: AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | None] = []
    hasher = app.state.password_hasher
    original = hasher.verify

    async def counting_verify(password: str, password_hash: str | None) -> tuple[bool, str | None]:
        calls.append(password_hash)
        result: tuple[bool, str | None] = await original(password, password_hash)
        return result

    monkeypatch.setattr(hasher, "verify", counting_verify)

    assert_problem(await login(client, "not an email"), 401, "invalid_credentials")
    assert calls == [None]
