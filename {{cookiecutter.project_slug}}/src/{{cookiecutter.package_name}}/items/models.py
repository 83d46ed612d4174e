"""The `items` table."""

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.package_name }}.core.models import Base, IdMixin, TimestampMixin

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 2000


class Item(IdMixin, TimestampMixin, Base):
    """Something for sale: a unique name, a price in cents and a stock level."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_cents_non_negative"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
    )

    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    price_cents: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
