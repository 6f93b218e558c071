"""The gateway client: OpenAI-compatible `/v1/*` and Midjourney-proxy `/mj/*` over one httpx pool.

Why plain httpx and not the `openai` package: `/mj/*` needs our own httpx code anyway, and
`openai` would add a second exception tree to map (APIStatusError and friends, with its own
body parsing that does not know the MJ envelopes or new-api's HTML-200 pages), plus its built-in
retries that re-send POSTs after timeouts — exactly what a paid call must never do. What it
would save us is small here: SSE is a dozen lines over `aiter_lines`, multipart is httpx's
`files=`. So one exchange loop (`exchange.py`), over the routes declared in `routes.py`, owns
the retry rule (`retry.py`) for every call, and `envelopes.py` maps every failure to the one
tree in `errors.py`.
"""

from bot.upstream.addresses import FetchRules
from bot.upstream.capabilities import Capabilities, CapabilityWatch, Missing
from bot.upstream.client import UpstreamClient
from bot.upstream.errors import (
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
from bot.upstream.models import (
    ChatChunk,
    ChatResult,
    Downloaded,
    GeneratedImage,
    MjButton,
    MjTask,
    ModelInfo,
    SubmitResult,
    Transcript,
    Usage,
)
from bot.upstream.retry import RetryPolicy

__all__ = [
    "AuthenticationError",
    "BadResponse",
    "BannedPrompt",
    "Capabilities",
    "CapabilityWatch",
    "ChatChunk",
    "ChatResult",
    "ConnectionFailed",
    "DestinationRefused",
    "Downloaded",
    "FetchRules",
    "GeneratedImage",
    "InvalidRequest",
    "Missing",
    "MjButton",
    "MjSubmitRejected",
    "MjTask",
    "ModelInfo",
    "ModelNotAvailable",
    "NotFound",
    "NotOffered",
    "NotSupported",
    "PermissionDenied",
    "QueueFull",
    "QuotaExceeded",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "StreamInterrupted",
    "SubmitResult",
    "TaskNotReady",
    "Transcript",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamTimeout",
    "Usage",
]
