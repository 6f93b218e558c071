"""Create every table: users, conversations, messages, jobs, button_tokens, usage.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must render exactly like storage.schema.ACTIVE (SQLite matches partial indexes textually).
_ACTIVE = sa.column("active", sa.Boolean) == sa.true()


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("voice", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("platform", "user_id", name="pk_users"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("user_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ux_conversations_active_scope",
        "conversations",
        ["platform", "chat_id", "thread_id", "user_id"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("conversation_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("image_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("upstream_id", sa.String(128), nullable=True),
        sa.Column("parent_upstream_id", sa.String(128), nullable=True),
        sa.Column("message_id", sa.String(128), nullable=True),
        sa.Column("progress", sa.String(32), nullable=False, server_default=""),
        sa.Column("image_url", sa.Text, nullable=False, server_default=""),
        sa.Column("fail_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("buttons", sa.Text, nullable=False, server_default="[]"),
        sa.Column("result", sa.Text, nullable=False, server_default="{}"),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("next_poll_at", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_jobs_status_next_poll_at", "jobs", ["status", "next_poll_at"])
    op.create_index("ix_jobs_upstream_id", "jobs", ["upstream_id"])
    op.create_table(
        "button_tokens",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_button_tokens"),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name="fk_button_tokens_job_id_jobs", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_button_tokens_expires_at", "button_tokens", ["expires_at"])
    op.create_index("ix_button_tokens_job_id", "button_tokens", ["job_id"])
    op.create_table(
        "usage",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("units", sa.Double, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage"),
    )
    op.create_index(
        "ix_usage_platform_user_id_created_at", "usage", ["platform", "user_id", "created_at"]
    )


def downgrade() -> None:
    for table in ("usage", "button_tokens", "jobs", "messages", "conversations", "users"):
        op.drop_table(table)
