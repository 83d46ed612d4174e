"""An email that reads like a taken one is taken; an address keeps to one script before the @."""

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import Conflict
from {{ cookiecutter.package_name }}.core.repository import Repository
from {{ cookiecutter.package_name }}.users.lookalikes import email_skeleton
from {{ cookiecutter.package_name }}.users.models import User
from tests.conftest import PASSWORD, Account
from tests.problem_assertions import assert_problem

REGISTER_URL = "/api/v1/auth/register"
ADMIN = "admin@example.com"
CYRILLIC_A = "\N{CYRILLIC SMALL LETTER A}dmin@example.com"
DOTLESS_I = "adm\N{LATIN SMALL LETTER DOTLESS I}n@example.com"
CAPITAL_I_WITH_DOT = "ADM\N{LATIN CAPITAL LETTER I WITH DOT ABOVE}N@example.com"
# "cope" spelled in Cyrillic letters only: es, o, er, ie.
ALL_CYRILLIC_COPE = "\u0441\u043e\u0440\u0435@example.com"


async def register(client: AsyncClient, email: str) -> Response:
    """Register `email` through the API."""
    return await client.post(
        REGISTER_URL, json={"email": email, "password": PASSWORD, "full_name": "Someone"}
    )


async def emails_reading_like(session: AsyncSession, email: str) -> list[str]:
    """Stored emails whose skeleton is that of `email`."""
    query = select(User.email).where(User.email_skeleton == email_skeleton(email))
    return list((await session.scalars(query)).all())


@pytest.mark.parametrize(
    "lookalike",
    [CYRILLIC_A, DOTLESS_I, CAPITAL_I_WITH_DOT, "ADMIN@example.com"],
    ids=["cyrillic-a", "dotless-i", "capital-i-with-dot", "capitals"],
)
def test_lookalikes_share_the_skeleton_of_the_address_they_imitate(lookalike: str) -> None:
    assert email_skeleton(lookalike) == email_skeleton(ADMIN)


def test_addresses_that_read_differently_keep_different_skeletons() -> None:
    emails = [ADMIN, "adam@example.com", "admin@example.org", "admin.1@example.com"]

    assert len({email_skeleton(email) for email in emails}) == len(emails)


@pytest.mark.parametrize(
    ("taken", "lookalike"),
    [(ADMIN, DOTLESS_I), (ADMIN, CAPITAL_I_WITH_DOT), ("cope@example.com", ALL_CYRILLIC_COPE)],
    ids=["dotless-i", "capital-i-with-dot", "all-cyrillic"],
)
async def test_registering_a_lookalike_is_refused_exactly_like_a_taken_email(
    client: AsyncClient, session: AsyncSession, taken: str, lookalike: str
) -> None:
    assert (await register(client, taken)).status_code == 201
    same = assert_problem(await register(client, taken), 409, "email_taken")

    refused = assert_problem(await register(client, lookalike), 409, "email_taken")

    assert {key: refused[key] for key in ("type", "title", "detail")} == {
        key: same[key] for key in ("type", "title", "detail")
    }
    assert await emails_reading_like(session, lookalike) == [taken]


async def test_a_local_part_mixing_scripts_is_refused_whether_or_not_it_imitates_someone(
    client: AsyncClient, session: AsyncSession
) -> None:
    response = await register(client, CYRILLIC_A)

    body = assert_problem(response, 422, "validation_failed")
    [error] = body["errors"]
    assert (error["loc"], error["type"]) == (["body", "email"], "mixed_scripts")
    assert "mixes scripts (Latin, Cyrillic)" in error["msg"]
    assert await emails_reading_like(session, ADMIN) == []


@pytest.mark.parametrize(
    "email",
    [
        "\u043f\u043e\u0447\u0442\u0430@example.com",  # "почта", Cyrillic
        "\u03b5\u03bb\u03ad\u03bd\u03b7@example.com",  # "ελένη", Greek
        "j\u00f6rg.m\u00fcller-2@example.com",  # Latin with accents, digits and punctuation
    ],
    ids=["cyrillic", "greek", "latin"],
)
async def test_a_local_part_in_one_script_registers(client: AsyncClient, email: str) -> None:
    response = await register(client, email)

    assert response.status_code == 201, response.text
    assert response.json()["email"] == email


async def test_an_email_change_meets_the_same_unique_skeleton(
    session: AsyncSession, user: Account, other_user: Account
) -> None:
    # No route changes an email yet; the model keeps the skeleton, the database enforces it.
    users = Repository(session, User)
    other = await users.get(other_user.id)
    assert other is not None
    imitation = user.email.replace("a", "\N{CYRILLIC SMALL LETTER A}", 1)

    with pytest.raises(Conflict):
        await users.update(other, {"email": imitation})
    await session.rollback()
    changed = await users.update(other, {"email": "grace.hopper@example.com"})

    assert changed.email_skeleton == email_skeleton("grace.hopper@example.com")
