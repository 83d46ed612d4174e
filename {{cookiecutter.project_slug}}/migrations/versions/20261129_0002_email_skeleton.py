"""Look-alike emails: store each account's email skeleton, unique.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

# The service's own function: the stored keys must be exactly those it computes.
from {{ cookiecutter.package_name }}.users.lookalikes import email_skeleton

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("email_skeleton", sa.Text()),
)


def _skeletons_of_existing_accounts() -> list[dict[str, object]]:
    """One row per account; stops if two existing emails already read alike."""
    owners: dict[str, object] = {}
    for user_id, email in op.get_bind().execute(sa.select(users.c.id, users.c.email)):
        key = email_skeleton(email)
        if key in owners:
            raise RuntimeError(
                f"Users {owners[key]} and {user_id} have emails that read alike; "
                "change one of them, then upgrade again."
            )
        owners[key] = user_id
    return [{"user_id": user_id, "key": key} for key, user_id in owners.items()]


def upgrade() -> None:
    """Apply this revision."""
    if context.is_offline_mode():
        raise RuntimeError("Revision 0002 computes skeletons in Python; run it without --sql.")
    # Checked before any change: SQLite cannot roll back the table changes below.
    rows = _skeletons_of_existing_accounts()
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_skeleton", sa.Text(), nullable=True))
    if rows:
        op.get_bind().execute(
            users.update()
            .where(users.c.id == sa.bindparam("user_id"))
            .values(email_skeleton=sa.bindparam("key")),
            rows,
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email_skeleton", existing_type=sa.Text(), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_email_skeleton"), ["email_skeleton"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_email_skeleton"), type_="unique")
        batch.drop_column("email_skeleton")
