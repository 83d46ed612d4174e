"""Item text through the API: a name is one line, a description may hold several."""

import pytest
from httpx import AsyncClient

from tests.problem_assertions import assert_problem

URL = "/api/v1/items"


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("name", "Mug\x00"),
        ("name", "\x1b[31mMug"),
        ("name", "Mug \u202egpj.exe"),
        ("name", "Mug\nsecond line"),
        ("description", "Porcelain\x00"),
        ("description", "Porcelain \u202e"),
    ],
    ids=["nul", "esc", "rtl-override", "newline", "nul-in-description", "rtl-in-description"],
)
async def test_control_characters_are_refused_with_the_field_named(
    client: AsyncClient, field: str, text: str
) -> None:
    item = {"name": "Mug", "price_cents": 1299, field: text}

    body = assert_problem(await client.post(URL, json=item), 422, "validation_failed")

    assert [(e["loc"], e["type"]) for e in body["errors"]] == [
        (["body", field], "control_character")
    ]


async def test_a_description_keeps_its_lines(client: AsyncClient) -> None:
    description = "Porcelain.\n\n\tHolds 90 ml;\r\ndishwasher safe."
    item = {"name": "Cup", "price_cents": 1, "description": description}

    created = await client.post(URL, json=item)
    url = f"{URL}/{created.json()['id']}"
    changed = await client.patch(url, json={"description": "One\nTwo"})
    renamed = await client.patch(url, json={"name": "Cup\nTwo"})

    assert created.json()["description"] == description
    assert changed.json()["description"] == "One\nTwo"
    body = assert_problem(renamed, 422, "validation_failed")
    assert body["errors"][0]["loc"] == ["body", "name"]
