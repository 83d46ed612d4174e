"""What the items feature announces."""

import uuid

import structlog

from {{ cookiecutter.package_name }}.messaging.handlers import Context
from {{ cookiecutter.package_name }}.messaging.messages import Event

logger = structlog.get_logger(__name__)


class ItemCreated(Event):
    """A user created an item."""

    TYPE = "item.created"

    item_id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    price_cents: int


async def log_item_created(event: ItemCreated, context: Context) -> None:
    """Keep a line in the log for each new item: an audit trail, and the place to start a
    projection or a notification from."""
    logger.info(
        "item_created",
        item_id=str(event.item_id),
        owner_id=str(event.owner_id),
        handled_at=context.now.isoformat(),
    )
