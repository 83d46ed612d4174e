"""The `items` table."""

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.package_name }}.core.models import Base, IdMixin, TimestampMixin

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 2000


class Item(IdMixin, TimestampMixin, Base):
    """Something for sale, owned by one user: a name unique per owner, a price and a stock."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_cents_non_negative"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        UniqueConstraint("owner_id", "name"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    price_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
