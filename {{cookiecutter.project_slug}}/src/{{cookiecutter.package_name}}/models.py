"""Every table, imported in one place so `Base.metadata` is complete for Alembic and tests."""

from {{ cookiecutter.package_name }}.core.models import Base
from {{ cookiecutter.package_name }}.items.models import Item

__all__ = ["Base", "Item"]
