"""The tables, as SQLAlchemy Core objects; the Alembic migrations must produce exactly this."""

from __future__ import annotations

import sqlalchemy as sa

# Stable constraint names, so later migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)

users = sa.Table(
    "users",
    metadata,
    sa.Column("platform", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(128), nullable=True),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("voice", sa.String(64), nullable=True),
    sa.Column("updated_at", sa.Double, nullable=False, server_default="0"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("thread_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("user_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)

# The partial-index predicate. Written the same way in the index, the upsert's conflict target
# and the lookups, because SQLite only matches a partial index on an identical term.
ACTIVE = conversations.c.active == sa.true()

# At most one active conversation per scope; it is also the index every context lookup uses.
sa.Index(
    "ux_conversations_active_scope",
    conversations.c.platform,
    conversations.c.chat_id,
    conversations.c.thread_id,
    conversations.c.user_id,
    unique=True,
    sqlite_where=ACTIVE,
    postgresql_where=ACTIVE,
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "conversation_id",
        sa.Integer,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("image_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Double, nullable=False),
    sqlite_autoincrement=True,
)

# "Newest N of one conversation" walks this index backwards from its end: cost ~ N, not history.
sa.Index("ix_messages_conversation_id_id", messages.c.conversation_id, messages.c.id)

jobs = sa.Table(
    "jobs",
    metadata,
    # AUTOINCREMENT on SQLite: ids are never reused, since button tokens outlive their jobs.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
    sa.Column("buttons", sa.Text, nullable=False, server_default="[]"),  # JSON
    sa.Column("result", sa.Text, nullable=False, server_default="{}"),  # JSON
    sa.Column("delivered", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("next_poll_at", sa.Double, nullable=False, server_default="0"),
    sa.Column("chat_private", sa.Boolean, nullable=False, server_default=sa.false()),
    sqlite_autoincrement=True,
)

# Serves list_jobs (status prefix) and the poll claim (status, then due time).
sa.Index("ix_jobs_status_next_poll_at", jobs.c.status, jobs.c.next_poll_at)
sa.Index("ix_jobs_upstream_id", jobs.c.upstream_id)

button_tokens = sa.Table(
    "button_tokens",
    metadata,
    sa.Column("token", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

sa.Index("ix_button_tokens_expires_at", button_tokens.c.expires_at)
sa.Index("ix_button_tokens_job_id", button_tokens.c.job_id)

text_requests = sa.Table(
    "text_requests",
    metadata,
    sa.Column("token", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("asked_chat_id", sa.String(64), nullable=True),
    sa.Column("asked_message_id", sa.String(128), nullable=True),
    sa.Column("expires_at", sa.Double, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

sa.Index("ix_text_requests_expires_at", text_requests.c.expires_at)
# A ForceReply answer is found by the message it replies to.
sa.Index(
    "ix_text_requests_platform_asked_chat_id_asked_message_id",
    text_requests.c.platform,
    text_requests.c.asked_chat_id,
    text_requests.c.asked_message_id,
)

usage = sa.Table(
    "usage",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("chat_id", sa.String(64), nullable=False),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("model", sa.String(128), nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("units", sa.Double, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Double, nullable=False),
)

# Quotas ask "this user since T".
sa.Index(
    "ix_usage_platform_user_id_created_at", usage.c.platform, usage.c.user_id, usage.c.created_at
)
