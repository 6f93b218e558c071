"""The store interface the core uses, and the plain records it exchanges."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Scope of one conversation: platform × chat × thread × user.

    `user_id` is "" when the whole chat (or thread) shares one conversation.
    """

    platform: str
    chat_id: str
    thread_id: str = ""
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One turn of context. `content` is text; `image_count` remembers images sent with it."""

    role: str  # "system" | "user" | "assistant"
    content: str
    tokens: int = 0
    image_count: int = 0


@dataclass(frozen=True, slots=True)
class UserPrefs:
    """Per-user preferences; None means "use the default"."""

    model: str | None = None
    language: str | None = None
    voice: str | None = None


class JobStatus(StrEnum):
    """Lifecycle of a Midjourney job as *we* track it (not the upstream's status field)."""

    SUBMITTING = "submitting"  # recorded, submit may or may not have reached the upstream
    PENDING = "pending"  # upstream id known, not finished
    MODAL = "modal"  # waiting for the user's text before /mj/submit/modal
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"  # died between recording and learning the id: never resubmitted


@dataclass(slots=True)
class JobRecord:
    """A Midjourney (or other long) job: who owns it, where its messages are, what came back."""

    id: int  # our id; 0 before it is stored
    platform: str
    chat_id: str
    thread_id: str
    owner_id: str
    kind: str  # "imagine", "action", "blend", "describe", "shorten", "swapface", "modal"
    prompt: str
    status: JobStatus = JobStatus.SUBMITTING
    upstream_id: str | None = None
    parent_upstream_id: str | None = None
    message_id: str | None = None  # the progress/result message in the chat
    progress: str = ""
    image_url: str = ""
    fail_reason: str = ""
    # Upstream buttons as plain dicts {customId, emoji, label} in the upstream's order.
    buttons: list[dict[str, Any]] = field(default_factory=list)
    # Whatever the finished task carried that is needed to deliver it again (final prompt, ...).
    result: dict[str, Any] = field(default_factory=dict)
    delivered: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0
    # When the tracker should next look at it (epoch seconds); drives the adaptive interval.
    next_poll_at: float = 0.0
    # Whether the chat is private, as the platform said when the job started (never guessed).
    chat_private: bool = False


@dataclass(frozen=True, slots=True)
class ButtonAction:
    """What a button token stands for."""

    kind: str  # "mj" (upstream customId), "seed", "imagine" (start /imagine with payload), ...
    job_id: int | None  # our job id, when the button belongs to a job
    owner_id: str
    platform: str
    payload: str  # customId, or a prompt for "imagine" buttons
    expires_at: float


@dataclass(frozen=True, slots=True)
class PendingText:
    """A text request opened by a press and not answered yet (a modal, a ForceReply prompt).

    `kind` is the button kind whose submit completes it, `mode` what that submit does
    ("inpaint", "zoom", "remix"), `payload` its argument (an upstream customId). `asked_*` is the
    message that asked, where the platform answers by replying to it (Telegram's ForceReply).
    """

    kind: str
    mode: str
    job_id: int | None
    owner_id: str
    platform: str
    payload: str
    expires_at: float
    token: str = ""
    asked_chat_id: str | None = None
    asked_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One billable call, kept for quotas and reports."""

    platform: str
    user_id: str
    chat_id: str
    command: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    units: float = 0.0  # images, seconds of audio, characters of speech


class StoreError(Exception):
    """Base of the store's own errors (driver errors pass through unchanged)."""


class StoreLocked(StoreError):
    """Another process holds the database file; SQLite allows one process per file."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"the database {path} is in use by another modelbridge process "
            f"(lock file {path}.lock); stop that process or point DATABASE_URL at another file"
        )
        self.path = path


class JobNotFound(StoreError, LookupError):
    """No job has that id."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"no job with id {job_id}")
        self.job_id = job_id


class Store(Protocol):
    """Everything the core remembers. Implementations must be safe for concurrent coroutines."""

    async def open(self) -> None:
        """Connect, apply migrations, take the single-process lock where the backend needs one."""

    async def close(self) -> None: ...

    # users
    async def get_prefs(self, platform: str, user_id: str) -> UserPrefs: ...

    async def set_prefs(self, platform: str, user_id: str, **changes: str | None) -> UserPrefs:
        """Update the given fields (model, language, voice) and return the new prefs."""

    # conversations
    async def load_context(
        self, key: ConversationKey, max_messages: int = 200
    ) -> list[StoredMessage]:
        """The newest turns of the current conversation, oldest first, at most `max_messages`."""

    async def append_messages(
        self, key: ConversationKey, messages: list[StoredMessage], usage: UsageEvent | None = None
    ) -> None:
        """Add turns atomically (a user turn and its answer land together or not at all).

        `usage`, when given, is recorded in the same transaction (as `record_usage` would).
        """

    async def reset_conversation(self, key: ConversationKey) -> None:
        """Start a new conversation; the old one is kept but no longer loaded."""

    async def set_summary(self, key: ConversationKey, summary: str) -> None:
        """Remember a summary of turns that were trimmed away."""

    async def get_summary(self, key: ConversationKey) -> str: ...

    # jobs
    async def create_job(self, job: JobRecord) -> JobRecord:
        """Store a new job (before its submit is sent) and return it with its id."""

    async def update_job(self, job_id: int, **changes: Any) -> JobRecord:
        """Change fields of a job (by JobRecord field name) and return the new record.

        `updated_at` is set to now unless given; an unknown field raises TypeError, an unknown
        id raises JobNotFound.
        """

    async def get_job(self, job_id: int) -> JobRecord | None: ...

    async def get_job_by_upstream(self, upstream_id: str) -> JobRecord | None: ...

    async def list_jobs(self, statuses: list[JobStatus], limit: int = 1000) -> list[JobRecord]:
        """Jobs in the given statuses, oldest first."""

    async def list_undelivered(self) -> list[JobRecord]:
        """Finished (success/failure/unknown) jobs whose result has not reached the chat yet."""

    async def claim_jobs_for_poll(
        self, now: float, limit: int, *, lease_s: float | None = None
    ) -> list[JobRecord]:
        """Pending jobs due for a poll (`next_poll_at <= now`), most overdue first.

        With `lease_s`, the claimed jobs' `next_poll_at` becomes `now + lease_s` in the same
        transaction, so other processes sharing a PostgreSQL database skip them (rows are taken
        with FOR UPDATE SKIP LOCKED there); the poller sets the real next time afterwards.
        Without it the call only reads, which is right for SQLite (one process per file).
        """

    # buttons
    async def issue_tokens(self, actions: list[ButtonAction]) -> list[str]:
        """Store actions and return a short opaque token (<= 20 bytes) for each, in order."""

    async def resolve_token(self, token: str) -> ButtonAction | None:
        """The action behind a token; None when unknown or expired."""

    async def purge_expired_tokens(self, now: float) -> int:
        """Delete tokens whose `expires_at` is at or before `now`; returns how many."""

    # text requests
    async def open_text_request(self, request: PendingText) -> None:
        """Store a pending text request under its `token` (chosen by the caller, <= 20 bytes:
        random, so it cannot be guessed; chosen first, so a press is answered before the write
        lands)."""

    async def bind_text_request(self, token: str, chat_id: str, message_id: str) -> None:
        """Remember the message that asked (answers may come as replies to it)."""

    async def find_text_request(
        self,
        token: str | None = None,
        *,
        platform: str = "",
        chat_id: str = "",
        message_id: str = "",
    ) -> PendingText | None:
        """The request by its token, or by the message that asked; expired ones included."""

    async def close_text_request(self, token: str) -> bool:
        """Delete a request; True when this call removed it (so it is answered only once)."""

    async def purge_expired_text_requests(self, now: float) -> int:
        """Delete requests whose `expires_at` is at or before `now`; returns how many."""

    # usage
    async def record_usage(self, event: UsageEvent) -> None: ...

    async def usage_summary(self, platform: str, user_id: str, since: float) -> dict[str, Any]:
        """Totals of one user's usage recorded at or after `since` (epoch seconds).

        `{"calls": int, "prompt_tokens": int, "completion_tokens": int, "units": float,
        "by_command": {command: {the same four keys}}}`; all zero when nothing was recorded.
        """
