"""An upstream failure in the user's language: each error class has its words in the catalog
(`upstream.*`, English identical to the class's `user_message`)."""

from __future__ import annotations

from bot.i18n import Catalog
from bot.offers import missing_for_family, missing_text
from bot.upstream import (
    AuthenticationError,
    BadResponse,
    BannedPrompt,
    ConnectionFailed,
    DestinationRefused,
    InvalidRequest,
    MjSubmitRejected,
    ModelNotAvailable,
    NotFound,
    NotOffered,
    NotSupported,
    PermissionDenied,
    QueueFull,
    QuotaExceeded,
    RateLimited,
    ServerError,
    StreamInterrupted,
    TaskNotReady,
    UpstreamError,
    UpstreamTimeout,
)

# Most specific first: the first class an error is an instance of gives its key.
_KEYS: tuple[tuple[type[UpstreamError], str], ...] = (
    (AuthenticationError, "upstream.authentication"),
    (PermissionDenied, "upstream.permission"),
    (QuotaExceeded, "upstream.quota"),
    (RateLimited, "upstream.rate_limited"),
    (InvalidRequest, "upstream.invalid_request"),
    (ModelNotAvailable, "upstream.model_not_available"),
    (NotFound, "upstream.not_found"),
    (TaskNotReady, "upstream.task_not_ready"),
    (ServerError, "upstream.server_error"),
    (NotOffered, "upstream.not_offered"),
    (NotSupported, "upstream.not_supported"),
    (BadResponse, "upstream.bad_response"),
    (UpstreamTimeout, "upstream.timeout"),
    (ConnectionFailed, "upstream.connection_failed"),
    (StreamInterrupted, "upstream.stream_interrupted"),
    (DestinationRefused, "upstream.destination_refused"),
    (BannedPrompt, "upstream.banned_prompt"),
    (QueueFull, "upstream.queue_full"),
    (MjSubmitRejected, "upstream.mj_rejected"),
)


def upstream_words(catalog: Catalog, language: str, exc: UpstreamError) -> str:
    """What the user is told about `exc` (without the ⚠️ frame: see `error.upstream`)."""
    if isinstance(exc, ModelNotAvailable) and exc.model:
        return catalog.t(language, "upstream.model_named", model=exc.model)
    if isinstance(exc, BannedPrompt) and exc.banned_word:
        return catalog.t(language, "upstream.banned_word", word=exc.banned_word)
    if isinstance(exc, NotOffered):
        lack = missing_for_family(exc.family)
        if lack is not None:
            return missing_text(catalog, language, lack)
    key = next((key for cls, key in _KEYS if isinstance(exc, cls)), "upstream.failed")
    return catalog.t(language, key)


def upstream_text(catalog: Catalog, language: str, exc: UpstreamError) -> str:
    """The whole message for a chat: `error.upstream` around `upstream_words`."""
    return catalog.t(language, "error.upstream", message=upstream_words(catalog, language, exc))
