"""The `users` table."""

from sqlalchemy import Boolean, Enum, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.core.models import Base, IdMixin, TimestampMixin
from {{ cookiecutter.package_name }}.users.lookalikes import email_skeleton

EMAIL_MAX_LENGTH = 254
FULL_NAME_MAX_LENGTH = 100


class User(IdMixin, TimestampMixin, Base):
    """An account. `email` is stored lowercased, so uniqueness is case-insensitive.

    `email_skeleton` follows every change of `email` and is unique too, so an address
    that reads like another account's (`admin@` with a Cyrillic `a`) is refused as taken.
    """

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    # Text: a skeleton can be several times longer than its address (Hangul jamo).
    email_skeleton: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str] = mapped_column(String(FULL_NAME_MAX_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=list),
        default=Role.USER,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @validates("email")
    def _keep_the_skeleton_in_step(self, _key: str, email: str) -> str:
        self.email_skeleton = email_skeleton(email)
        return email
