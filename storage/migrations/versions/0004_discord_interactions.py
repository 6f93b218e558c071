"""Discord interactions acknowledged by the bot, with their tokens (answered after a restart).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discord_interactions",
        sa.Column("interaction_id", sa.String(32), nullable=False),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False, server_default=""),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("interaction_id", name="pk_discord_interactions"),
    )
    op.create_index(
        "ix_discord_interactions_state_created_at",
        "discord_interactions",
        ["state", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_discord_interactions_state_created_at", "discord_interactions")
    op.drop_table("discord_interactions")
