"""The login form refuses control characters in the username, with the field named."""

from httpx import AsyncClient

from tests.conftest import Account, login
from tests.problem_assertions import assert_problem


async def test_a_login_username_with_a_control_character_is_refused(
    client: AsyncClient, user: Account
) -> None:
    response = await login(client, f"{user.email}\x00")

    body = assert_problem(response, 422, "validation_failed")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", "username"], "control_character")
    ]
