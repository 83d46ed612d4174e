"""Account text: a name is one line, free of control characters."""

import pytest
from httpx import AsyncClient

from tests.conftest import ME_URL, PASSWORD, Account
from tests.problem_assertions import assert_problem

REGISTER_URL = "/api/v1/auth/register"
NAMES = ["Ida\x00", "\x1b[2JIda", "Ida \u202enimda", "Ida\nLovelace"]


@pytest.mark.parametrize("name", NAMES, ids=["nul", "esc", "rtl-override", "newline"])
async def test_a_name_with_control_characters_is_refused(
    client: AsyncClient, user: Account, name: str
) -> None:
    account = {"email": "ida@example.com", "password": PASSWORD, "full_name": name}

    registered = await client.post(REGISTER_URL, json=account)
    renamed = await user.client.patch(ME_URL, json={"full_name": name})

    for response in (registered, renamed):
        body = assert_problem(response, 422, "validation_failed")
        assert [(e["loc"], e["type"]) for e in body["errors"]] == [
            (["body", "full_name"], "control_character")
        ]
