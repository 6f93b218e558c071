"""One error tree for every way the gateway can fail, whatever envelope it used.

    UpstreamError
     ├── AuthenticationError      401
     ├── PermissionDenied         403
     ├── QuotaExceeded            insufficient_user_quota, quota_not_enough, ...
     ├── RateLimited              429 (retry_after)
     ├── InvalidRequest           400 on /v1, MJ code 4
     ├── NotFound                 task_not_found / task_no_found, MJ code 3, a task's 404
     │    └── ModelNotAvailable   model_not_found, "model ... does not exist" (model)
     ├── TaskNotReady             task_status_not_success
     ├── ServerError              5xx, MJ code 5
     ├── NotSupported             501, api_not_implemented
     │    └── NotOffered          the route itself is missing: 404 / HTML page (family)
     ├── BadResponse              malformed JSON, unexpected shape
     ├── UpstreamTimeout          connect / read / write timeout
     ├── ConnectionFailed         refused, reset, dropped
     ├── StreamInterrupted        SSE cut halfway (partial_text)
     ├── DestinationRefused       a URL from outside the gateway points at a private address, ...
     └── MjSubmitRejected         any other MJ submit code (code, description)
          ├── BannedPrompt        24 (banned_word)
          └── QueueFull           23, 9

`str(error)` is for logs (status, code, the gateway's words with secrets scrubbed);
`gateway_message` is the gateway's own words alone (scrubbed, capped; None when it gave none);
`user_message` is short English text for logs and tools; what users read is the catalog entry
`message_key` (one `upstream.*` key per class) with `message_values`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class UpstreamError(Exception):
    """Base of every failure talking to the gateway."""

    catalog_key: ClassVar[str] = "upstream.failed"
    default_user_message: ClassVar[str] = "The AI service failed. Please try again later."
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        maybe_charged: bool = False,
        retryable: bool | None = None,
        user_message: str | None = None,
        gateway_message: str | None = None,
    ) -> None:
        self.detail = detail
        self.gateway_message = gateway_message
        self.status = status
        self.code = code
        # True only when the request may have been billed although we got no usable answer.
        self.maybe_charged = maybe_charged
        self.retryable = self.default_retryable if retryable is None else retryable
        self.user_message = user_message or self.default_user_message
        # What users read, in their language: the catalog entry and its values.
        self.message_key: str = self.catalog_key
        self.message_values: dict[str, object] = {}
        super().__init__(self._log_text())

    def _log_text(self) -> str:
        parts = [self.detail or self.default_user_message]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        if self.maybe_charged:
            parts.append("maybe_charged")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._log_text()!r})"


class AuthenticationError(UpstreamError):
    """The gateway refused the API key (missing, invalid, expired or exhausted token)."""

    catalog_key: ClassVar[str] = "upstream.authentication"
    default_user_message = "The bot's access to the AI service is not working. Tell the admin."


class PermissionDenied(UpstreamError):
    """The key may not use this model or route, or the user is banned."""

    catalog_key: ClassVar[str] = "upstream.permission"
    default_user_message = "The bot is not allowed to use this model or feature."


class QuotaExceeded(UpstreamError):
    """The gateway account or token has too little balance for this call."""

    catalog_key: ClassVar[str] = "upstream.quota"
    default_user_message = "The AI service balance is used up. Tell the admin."


class RateLimited(UpstreamError):
    """429: too many requests; `retry_after` seconds when the gateway said so."""

    catalog_key: ClassVar[str] = "upstream.rate_limited"
    default_user_message = "The AI service is busy. Please try again in a minute."
    default_retryable = True

    def __init__(self, detail: str = "", *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(detail, **kw)


class InvalidRequest(UpstreamError):
    """The gateway rejected the request itself (400, MJ validation code 4)."""

    catalog_key: ClassVar[str] = "upstream.invalid_request"
    default_user_message = "The AI service rejected this request."


class NotFound(UpstreamError):
    """The task or file does not exist (or belongs to another key)."""

    catalog_key: ClassVar[str] = "upstream.not_found"
    default_user_message = "That task or model was not found (it may have expired)."


class ModelNotAvailable(NotFound):
    """The gateway does not serve the model asked for; `model` when the call named one."""

    catalog_key: ClassVar[str] = "upstream.model_not_available"
    default_user_message = "That model is not available here."

    def __init__(self, detail: str = "", *, model: str | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.model: str | None = None
        if model:
            self.name_model(model)

    def name_model(self, model: str) -> None:
        """Record which model was asked for, and say so to the user."""
        self.model = model
        self.user_message = f"The model {model} is not available here."
        self.message_key, self.message_values = "upstream.model_named", {"model": model}


class TaskNotReady(UpstreamError):
    """An action was asked on a task that has not succeeded (yet)."""

    catalog_key: ClassVar[str] = "upstream.task_not_ready"
    default_user_message = "That image is not finished yet."
    default_retryable = True


class ServerError(UpstreamError):
    """The gateway or its upstream failed (5xx, MJ code 5)."""

    catalog_key: ClassVar[str] = "upstream.server_error"
    default_user_message = "The AI service had an internal error. Please try again later."
    default_retryable = True


class NotSupported(UpstreamError):
    """The gateway does not implement this (501, api_not_implemented)."""

    catalog_key: ClassVar[str] = "upstream.not_supported"
    default_user_message = "The AI service does not support this feature."


class NotOffered(NotSupported):
    """The route itself is missing at this gateway (404 on it, or an HTML page): never a task's
    "not found". `family` names what is missing ("midjourney", "speech", ...) when known."""

    catalog_key: ClassVar[str] = "upstream.not_offered"
    default_user_message = "This gateway does not offer that feature."

    def __init__(self, detail: str = "", *, family: str | None = None, **kw: Any) -> None:
        self.family = family
        super().__init__(detail, **kw)


class BadResponse(UpstreamError):
    """The answer could not be understood (bad JSON, unexpected shape, too large)."""

    catalog_key: ClassVar[str] = "upstream.bad_response"
    default_user_message = "The AI service sent an answer the bot could not read."


class UpstreamTimeout(UpstreamError):
    """No answer within the timeout."""

    catalog_key: ClassVar[str] = "upstream.timeout"
    default_user_message = "The AI service took too long to answer. Please try again."
    default_retryable = True


class ConnectionFailed(UpstreamError):
    """The connection could not be made or broke before an answer came."""

    catalog_key: ClassVar[str] = "upstream.connection_failed"
    default_user_message = "The AI service is unreachable right now. Please try again later."
    default_retryable = True


class StreamInterrupted(UpstreamError):
    """A streamed answer stopped halfway; `partial_text` is everything received."""

    catalog_key: ClassVar[str] = "upstream.stream_interrupted"
    default_user_message = "The answer was cut off."
    default_retryable = True

    def __init__(self, partial_text: str, detail: str = "", **kw: Any) -> None:
        self.partial_text = partial_text
        kw.setdefault("maybe_charged", True)
        super().__init__(detail or f"stream interrupted after {len(partial_text)} chars", **kw)


class DestinationRefused(UpstreamError):
    """A URL not from the gateway's origin points where the bot may not go; nothing was sent."""

    catalog_key: ClassVar[str] = "upstream.destination_refused"
    default_user_message = "That link can't be fetched."

    def __init__(self, host: str, reason: str, **kw: Any) -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"not fetched from {host}: {reason}", **kw)


class MjSubmitRejected(UpstreamError):
    """A Midjourney submit answered with a code other than 1/21/22; `code` is str(mj_code)."""

    catalog_key: ClassVar[str] = "upstream.mj_rejected"
    default_user_message = "Midjourney refused this job."

    def __init__(
        self, code: int, description: str, *, properties: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        self.mj_code = code
        self.description = description
        self.properties = properties or {}
        super().__init__(f"MJ code {code}: {description}", code=str(code), **kw)


class BannedPrompt(MjSubmitRejected):
    """Code 24: the prompt contains a word Midjourney does not allow."""

    catalog_key: ClassVar[str] = "upstream.banned_prompt"
    default_user_message = "Midjourney does not allow this prompt."

    def __init__(self, code: int, description: str, **kw: Any) -> None:
        super().__init__(code, description, **kw)
        word = self.properties.get("bannedWord")
        self.banned_word = str(word) if word else None
        if self.banned_word:
            self.user_message = f"Midjourney does not allow this prompt (word: {self.banned_word})."
            self.message_key = "upstream.banned_word"
            self.message_values = {"word": self.banned_word}


class QueueFull(MjSubmitRejected):
    """Codes 23 and 9: the Midjourney queue is full; nothing was created or charged."""

    catalog_key: ClassVar[str] = "upstream.queue_full"
    default_user_message = "Midjourney's queue is full. Please try again in a few minutes."
    default_retryable = True
