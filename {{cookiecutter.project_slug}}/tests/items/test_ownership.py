"""Items belong to whoever created them; nobody else can tell they exist."""

from tests.conftest import Account
from tests.problem_assertions import assert_problem

URL = "/api/v1/items"


async def test_owner_comes_from_the_token_never_the_body(
    user: Account, other_user: Account
) -> None:
    spoofed = await user.client.post(
        URL, json={"name": "Mug", "price_cents": 1, "owner_id": str(other_user.id)}
    )
    created = await user.client.post(URL, json={"name": "Mug", "price_cents": 1})

    assert_problem(spoofed, 422, "validation_failed")
    assert created.status_code == 201
    assert (await other_user.client.get(URL)).json()["total"] == 0


async def test_another_users_item_is_a_404_for_every_operation(
    user: Account, other_user: Account
) -> None:
    item = (await user.client.post(URL, json={"name": "Mug", "price_cents": 1})).json()
    target = f"{URL}/{item['id']}"

    for response in [
        await other_user.client.get(target),
        await other_user.client.patch(target, json={"quantity": 0}),
        await other_user.client.delete(target),
    ]:
        assert_problem(response, 404, "item_not_found")
    assert (await user.client.get(target)).json() == item


async def test_each_user_lists_only_their_own_items_and_admins_list_all(
    user: Account, other_user: Account, admin: Account
) -> None:
    await user.client.post(URL, json={"name": "Mug", "price_cents": 1})
    await other_user.client.post(URL, json={"name": "Mug", "price_cents": 1})
    await other_user.client.post(URL, json={"name": "Plate", "price_cents": 1})

    assert (await user.client.get(URL)).json()["total"] == 1
    assert (await other_user.client.get(URL)).json()["total"] == 2
    assert (await admin.client.get(URL)).json()["total"] == 3


async def test_an_admin_may_change_anyones_item(user: Account, admin: Account) -> None:
    item = (await user.client.post(URL, json={"name": "Mug", "price_cents": 1})).json()

    response = await admin.client.patch(f"{URL}/{item['id']}", json={"quantity": 9})

    assert response.json()["quantity"] == 9
