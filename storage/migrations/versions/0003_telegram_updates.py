"""The Telegram intake: fetched updates with their state, and the poll offset.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_updates",
        sa.Column("bot_id", sa.String(32), nullable=False),
        sa.Column("update_id", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("stored_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name="pk_telegram_updates"),
    )
    op.create_index(
        "ix_telegram_updates_state", "telegram_updates", ["bot_id", "state", "update_id"]
    )
    op.create_table(
        "telegram_offsets",
        sa.Column("bot_id", sa.String(32), nullable=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("bot_id", name="pk_telegram_offsets"),
    )


def downgrade() -> None:
    op.drop_table("telegram_offsets")
    op.drop_index("ix_telegram_updates_state", table_name="telegram_updates")
    op.drop_table("telegram_updates")
