"""Per-chat switches set by an admin with /settings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_settings",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("answer_all", sa.Boolean, nullable=True),
        sa.Column("auto_transcribe", sa.Boolean, nullable=True),
        sa.Column("context_scope", sa.String(8), nullable=True),
        sa.Column("updated_at", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("platform", "chat_id", name="pk_chat_settings"),
    )


def downgrade() -> None:
    op.drop_table("chat_settings")
