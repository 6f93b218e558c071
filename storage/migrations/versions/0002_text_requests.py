"""Pending text requests (modal / ForceReply answers that complete a press), and jobs' chat_private.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Jobs started before this revision did not record it; "not private" is the safe reading
    # (a group chat is never shown what a private one would be).
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("chat_private", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_table(
        "text_requests",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("asked_chat_id", sa.String(64), nullable=True),
        sa.Column("asked_message_id", sa.String(128), nullable=True),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_text_requests"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_text_requests_job_id_jobs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_text_requests_expires_at", "text_requests", ["expires_at"])
    op.create_index(
        "ix_text_requests_platform_asked_chat_id_asked_message_id",
        "text_requests",
        ["platform", "asked_chat_id", "asked_message_id"],
    )


def downgrade() -> None:
    op.drop_table("text_requests")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("chat_private")
