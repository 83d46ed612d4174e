"""A message exists if and only if the write beside it commits."""

import uuid
from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.items.schemas import ItemCreate
from {{ cookiecutter.package_name }}.items.service import create_item
from {{ cookiecutter.package_name }}.messaging.models import MessageKind, MessageState
from {{ cookiecutter.package_name }}.messaging.outbox import enqueue, publish
from {{ cookiecutter.package_name }}.users.messages import SendWelcomeEmail, UserRegistered
from tests.conftest import Account
from tests.messaging.conftest import outbox_rows


async def test_a_rolled_back_write_leaves_neither_the_row_nor_its_event(
    session: AsyncSession, user: Account
) -> None:
    await create_item(session, ItemCreate(name="Mug", price_cents=1299), owner_id=user.id)
    await session.flush()
    await session.rollback()

    assert await outbox_rows(session) == []
    assert await session.scalar(select(func.count()).select_from(Item)) == 0


async def test_a_committed_write_leaves_its_event_pending(
    session: AsyncSession, user: Account
) -> None:
    item = await create_item(session, ItemCreate(name="Mug", price_cents=1299), owner_id=user.id)
    item_id = item.id
    await session.commit()

    [row] = await outbox_rows(session)
    assert (row.kind, row.name, row.version, row.state) == (
        MessageKind.EVENT,
        "item.created",
        1,
        MessageState.PENDING,
    )
    assert row.payload == {
        "item_id": str(item_id),
        "owner_id": str(user.id),
        "name": "Mug",
        "price_cents": 1299,
    }


async def test_a_refused_request_publishes_nothing(
    client: AsyncClient, user: Account, session: AsyncSession
) -> None:
    body = {"name": "Mug", "price_cents": 1299}
    assert (await user.client.post("/api/v1/items", json=body)).status_code == 201
    assert (await user.client.post("/api/v1/items", json=body)).status_code == 409

    assert [row.name for row in await outbox_rows(session)] == ["item.created"]


async def test_registration_announces_the_new_user(
    client: AsyncClient, session: AsyncSession
) -> None:
    body = {"email": "new@example.com", "password": "correct-horse-battery", "full_name": "New"}
    created = (await client.post("/api/v1/auth/register", json=body)).json()

    [row] = await outbox_rows(session)
    assert row.name == "user.registered"
    assert UserRegistered.model_validate(row.payload).user_id == uuid.UUID(created["id"])


async def test_a_job_waits_for_its_delay(session: AsyncSession) -> None:
    job = SendWelcomeEmail(user_id=uuid.uuid4(), email="ada@example.com", full_name="Ada")
    enqueue(session, job)
    enqueue(session, job, delay=timedelta(hours=1))
    await session.commit()

    first, later = await outbox_rows(session)
    assert first.kind == later.kind == MessageKind.JOB
    assert (later.available_at - first.available_at) >= timedelta(minutes=59)


def test_a_message_refuses_fields_it_does_not_have() -> None:
    with pytest.raises(ValueError, match="extra"):
        UserRegistered.model_validate(
            {"user_id": str(uuid.uuid4()), "email": "a@example.com", "full_name": "A", "x": 1}
        )


async def test_publish_returns_the_id_the_row_gets(session: AsyncSession) -> None:
    event = UserRegistered(user_id=uuid.uuid4(), email="a@example.com", full_name="A")
    message_id = publish(session, event)
    await session.commit()

    assert [row.id for row in await outbox_rows(session)] == [message_id]
