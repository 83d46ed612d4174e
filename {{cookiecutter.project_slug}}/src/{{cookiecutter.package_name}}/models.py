"""Every table, imported in one place so `Base.metadata` is complete for Alembic and tests."""

from {{ cookiecutter.package_name }}.auth.models import AuthSession
from {{ cookiecutter.package_name }}.core.models import Base
from {{ cookiecutter.package_name }}.items.models import Item
from {{ cookiecutter.package_name }}.messaging.models import InboxMessage, OutboxMessage
from {{ cookiecutter.package_name }}.users.models import User

__all__ = ["AuthSession", "Base", "InboxMessage", "Item", "OutboxMessage", "User"]
