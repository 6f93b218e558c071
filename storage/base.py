"""The store interface the core uses, and the plain records it exchanges."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # Only named in annotations: `import storage.base` stays free of SQLAlchemy.
    from sqlalchemy.ext.asyncio import AsyncEngine


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


@dataclass(frozen=True, slots=True)
class JobButton:
    """One upstream button of a finished task, in the upstream's words (pass `custom_id` back)."""

    custom_id: str
    label: str = ""
    emoji: str = ""


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a job carries besides its status: set when it starts, completed by its finish."""

    # Set when the job starts.
    label: str = ""  # an action: the pressed button as its parent showed it ("U2", "🔄")
    custom_id: str = ""  # an action: the pressed button's upstream customId
    image_count: int = 0  # a blend: how many images went in (0: not recorded)
    # Set by the finish.
    final_prompt: str = ""  # the prompt the upstream ran (describe/shorten: their answer)
    description: str = ""  # the upstream's description of the task
    action: str = ""  # the upstream's action name ("IMAGINE", "UPSCALE", ...)
    deadline_passed: bool = False  # ended by us: the upstream took longer than any job takes
    # Set by adoption: an unknown job's owner was told how to check (so never told twice).
    unfindable_told: bool = False


@dataclass(frozen=True, slots=True)
class JobFinish:
    """How a job ended, as the store records it; None leaves that field as it is."""

    status: JobStatus  # SUCCESS, FAILURE or UNKNOWN
    progress: str | None = None
    image_url: str | None = None
    fail_reason: str | None = None
    buttons: tuple[JobButton, ...] | None = None
    result: JobResult | None = None

    def applied_to(self, job: JobRecord) -> JobRecord:
        """The job as it reads once this finish is stored."""
        changes = {
            name: value
            for name in ("progress", "image_url", "fail_reason", "buttons", "result")
            if (value := getattr(self, name)) is not None
        }
        return dataclasses.replace(job, status=self.status, **changes)


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
    # The upstream's buttons, in its order.
    buttons: tuple[JobButton, ...] = ()
    # What is needed to show it again (final prompt, the pressed button, ...).
    result: JobResult = field(default_factory=JobResult)
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

    @property
    def engine(self) -> AsyncEngine:
        """The open engine, for modules that keep tables of their own (platform intake,
        chat settings): their migrations are the store's."""

    async def open(self) -> None:
        """Connect, apply migrations, take the single-process lock where the backend needs one."""

    async def close(self) -> None: ...

    @property
    def shared(self) -> bool:
        """Whether other processes may use the same database (PostgreSQL): pending jobs are
        then polled by whoever claims them (`claim_jobs_for_poll` with a lease)."""
        ...

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

    # Each job write below stamps `updated_at` and returns the new record; an unknown id raises
    # JobNotFound.
    async def set_job_upstream(
        self,
        job_id: int,
        upstream_id: str,
        status: JobStatus,
        *,
        poll_lease_until: float | None = None,
    ) -> JobRecord:
        """The upstream accepted the submit: its task id, and PENDING (or MODAL: it waits).

        `poll_lease_until` (a shared store) holds the job for this process's tracker from the
        moment it is pending, so no other process claims it (see `claim_jobs_for_poll`)."""

    async def set_job_prompt(self, job_id: int, prompt: str) -> JobRecord:
        """The prompt the user gave a job waiting in MODAL, before it is sent."""

    async def set_job_message(self, job_id: int, message_id: str) -> JobRecord:
        """The job's message in the chat is now this one."""

    async def mark_modal(self, job_id: int) -> JobRecord:
        """The upstream holds the job for its owner's prompt (status MODAL)."""

    async def mark_pending(self, job_id: int) -> JobRecord:
        """The job's upstream task is to be polled again (its last step's answer was lost)."""

    async def adopt_task(self, job_id: int, upstream_id: str) -> JobRecord:
        """An unknown job turned out to be this upstream task: PENDING, to be delivered."""

    async def set_job_result(self, job_id: int, result: JobResult) -> JobRecord:
        """Replace what the job carries besides its status (see `JobResult`)."""

    async def save_progress(
        self, job_id: int, progress: str, image_url: str, message_id: str | None = None
    ) -> JobRecord:
        """The latest progress the upstream reported (and the message showing it, if it moved)."""

    async def finish_job(
        self,
        job_id: int,
        finish: JobFinish,
        *,
        delivered: bool = False,
        message_id: str | None = None,
    ) -> JobRecord:
        """The job ended (see `JobFinish`); `delivered` once its chat has been told, in
        `message_id` when that is a message of its own."""

    async def mark_delivered(self, job_id: int, message_id: str | None = None) -> JobRecord:
        """The stored result (or failure) reached the chat, in `message_id` when given."""

    async def get_job(self, job_id: int) -> JobRecord | None: ...

    async def list_jobs(self, statuses: list[JobStatus], limit: int = 1000) -> list[JobRecord]:
        """Jobs in the given statuses, oldest first."""

    async def get_job_by_upstream(self, upstream_id: str) -> JobRecord | None:
        """The job following the upstream task `upstream_id` (adoption skips tasks already
        followed), or None."""

    async def list_user_jobs(
        self, platform: str, owner_id: str, limit: int = 10
    ) -> list[JobRecord]:
        """One user's newest jobs, newest first (their /jobs list)."""

    async def find_child_job(self, parent_upstream_id: str, custom_id: str) -> JobRecord | None:
        """The newest job that the action `custom_id` on that parent task produced and that did
        not fail (so a second press shows it instead of paying again); None when there is none."""

    async def list_undelivered(self) -> list[JobRecord]:
        """Finished (success/failure/unknown) jobs whose result has not reached the chat yet."""

    async def claim_jobs_for_poll(
        self, now: float, limit: int, *, lease_s: float | None = None
    ) -> list[JobRecord]:
        """Pending jobs due for a poll (`next_poll_at <= now`), most overdue first.

        With `lease_s`, the claimed jobs' `next_poll_at` becomes `now + lease_s` in the same
        transaction, so other processes sharing a PostgreSQL database skip them (rows are taken
        with FOR UPDATE SKIP LOCKED there); the claimer keeps them with `renew_poll_leases`.
        Without it the call only reads, which is right for SQLite (one process per file).
        """

    async def renew_poll_leases(self, job_ids: list[int], until: float) -> None:
        """Keep holding pending jobs this process polls: their `next_poll_at` becomes `until`
        (jobs no longer pending are left alone)."""

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
