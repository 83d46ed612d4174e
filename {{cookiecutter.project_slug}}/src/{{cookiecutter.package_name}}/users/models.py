"""The `users` table."""

from sqlalchemy import Boolean, Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from {{ cookiecutter.package_name }}.auth.permissions import Role
from {{ cookiecutter.package_name }}.core.models import Base, IdMixin, TimestampMixin

EMAIL_MAX_LENGTH = 254
FULL_NAME_MAX_LENGTH = 100


class User(IdMixin, TimestampMixin, Base):
    """An account. `email` is stored lowercased, so uniqueness is case-insensitive."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    full_name: Mapped[str] = mapped_column(String(FULL_NAME_MAX_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=list),
        default=Role.USER,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
