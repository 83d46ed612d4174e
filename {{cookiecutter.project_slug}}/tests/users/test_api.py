"""The caller's own account, and administration of everyone's."""

import logging
import uuid

import pytest
from httpx import AsyncClient

from tests.conftest import ME_URL, PASSWORD, Account, logged_events, login
from tests.problem_assertions import assert_problem

USERS_URL = "/api/v1/users"


async def test_me_returns_the_caller(user: Account) -> None:
    response = await user.client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)
    assert "password_hash" not in response.json()


async def test_me_can_change_the_name(user: Account) -> None:
    response = await user.client.patch(ME_URL, json={"full_name": "Ada King"})

    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada King"


@pytest.mark.parametrize(
    "body",
    [{"role": "admin"}, {"is_active": False}, {"email": "new@example.com"}, {"full_name": None}],
)
async def test_me_refuses_privileged_fields_and_nulls(
    user: Account, body: dict[str, object]
) -> None:
    assert_problem(await user.client.patch(ME_URL, json=body), 422, "validation_failed")
    assert (await user.client.get(ME_URL)).json()["role"] == "user"


async def test_a_password_change_needs_the_current_password(user: Account) -> None:
    missing = await user.client.patch(ME_URL, json={"password": "a-brand-new-passphrase"})
    wrong = await user.client.patch(
        ME_URL, json={"password": "a-brand-new-passphrase", "current_password": "not-it-at-all"}
    )

    assert_problem(missing, 422, "validation_failed")
    assert_problem(wrong, 400, "wrong_current_password")


async def test_admin_routes_are_403_for_a_plain_user(
    user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    target = f"{USERS_URL}/{user.id}"

    with caplog.at_level(logging.INFO):
        responses = [
            await user.client.get(USERS_URL),
            await user.client.get(target),
            await user.client.patch(target, json={"role": "admin"}),
            await user.client.delete(target),
        ]

    for response in responses:
        assert_problem(response, 403, "permission_denied")
    assert (await user.client.get(ME_URL)).json()["role"] == "user"
    denials = logged_events(caplog)
    assert [d["user_id"] for d in denials if d["event"] == "permission_denied"] == [
        str(user.id)
    ] * 4


async def test_admin_routes_are_401_without_a_token(client: AsyncClient) -> None:
    response = await client.get(USERS_URL)

    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_admin_lists_and_reads_users(admin: Account, user: Account) -> None:
    listing = await admin.client.get(USERS_URL, params={"limit": 1})
    one = await admin.client.get(f"{USERS_URL}/{user.id}")

    assert listing.status_code == 200
    assert (listing.json()["total"], len(listing.json()["items"])) == (3, 1)
    assert one.json()["email"] == user.email
    assert_problem(await admin.client.get(f"{USERS_URL}/{uuid.uuid4()}"), 404, "user_not_found")


async def test_admin_changes_role_and_activation_and_it_is_logged(
    admin: Account, user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    target = f"{USERS_URL}/{user.id}"

    with caplog.at_level(logging.INFO):
        promoted = await admin.client.patch(target, json={"role": "admin", "full_name": "Ada"})
        deactivated = await admin.client.patch(target, json={"is_active": False})

    assert promoted.json()["role"] == "admin"
    assert deactivated.json()["is_active"] is False
    events = {event["event"]: event for event in logged_events(caplog)}
    assert events["role_changed"]["user_id"] == str(user.id)
    assert events["role_changed"]["by"] == str(admin.id)
    assert events["activation_changed"]["active"] is False
    assert_problem(await admin.client.patch(target, json={"role": None}), 422, "validation_failed")


async def test_admins_cannot_lock_themselves_out(admin: Account) -> None:
    own = f"{USERS_URL}/{admin.id}"

    assert_problem(await admin.client.patch(own, json={"role": "user"}), 409, "self_lockout")
    assert_problem(await admin.client.delete(own), 409, "self_lockout")
    assert (await admin.client.patch(own, json={"full_name": "Root"})).status_code == 200


async def test_admin_deletes_a_user_with_their_items(
    admin: Account, user: Account, client: AsyncClient
) -> None:
    await user.client.post("/api/v1/items", json={"name": "Mug", "price_cents": 1})

    assert (await admin.client.delete(f"{USERS_URL}/{user.id}")).status_code == 204

    assert (await admin.client.get("/api/v1/items")).json()["total"] == 0
    assert_problem(await login(client, user.email), 401, "invalid_credentials")


async def test_a_new_password_may_not_be_the_email(user: Account) -> None:
    response = await user.client.patch(
        ME_URL, json={"password": user.email.upper(), "current_password": PASSWORD}
    )

    assert_problem(response, 400, "password_is_email")


async def test_a_wrong_current_password_is_a_security_event(
    user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await user.client.patch(
            ME_URL, json={"password": "a-brand-new-passphrase", "current_password": "guess-1234"}
        )

    events = logged_events(caplog)
    assert {"event": "password_change_failed", "user_id": str(user.id)}.items() <= events[0].items()


@pytest.mark.parametrize("body", [{"is_active": "false"}, {"is_active": 0}, {"role": "owner"}])
async def test_admin_updates_are_strictly_typed(
    admin: Account, user: Account, body: dict[str, object]
) -> None:
    response = await admin.client.patch(f"{USERS_URL}/{user.id}", json=body)

    assert_problem(response, 422, "validation_failed")
