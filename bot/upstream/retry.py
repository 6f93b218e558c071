"""When a failed gateway call is tried again: one pure rule for every route."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.upstream.errors import (
    ConnectionFailed,
    RateLimited,
    ServerError,
    UpstreamError,
    UpstreamTimeout,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How reads are retried (backoff with full jitter) and how long a 429 may make us wait."""

    attempts: int = 3  # tries in all, for reads and for paid calls refused before sending
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 10.0

    def backoff(self, attempt: int, jitter: float | None = None) -> float:
        """Seconds to sleep after failed try number `attempt` (1-based); `jitter` in [0, 1]."""
        share = random.random() if jitter is None else jitter
        return share * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed try as the retry rule sees it."""

    error: UpstreamError
    paid: bool  # the gateway bills this route
    sent: bool  # the request may have reached the gateway (False: surely never left)
    attempt: int  # 1-based number of the try that failed
    rate_limited_before: int = 0  # earlier tries of this call answered 429


def retry_delay(failure: Failure, policy: RetryPolicy, jitter: float | None = None) -> float | None:
    """Seconds to wait before trying again, or None when `failure.error` is to be raised.

    Reads retry timeouts, broken connections, 5xx and 429 up to `policy.attempts` tries. A paid
    call is tried again only when its request surely never left (refused connection, connect
    timeout), and once after a 429, which the gateway does not bill; anything else may have
    been billed. A 429 asking for a wait beyond `max_retry_after` is never waited for.
    """
    error = failure.error
    if isinstance(error, RateLimited):
        wait = policy.backoff(failure.attempt, jitter) if error.retry_after is None else (
            error.retry_after
        )
        if wait > policy.max_retry_after:
            return None
        if failure.paid:
            return wait if failure.rate_limited_before == 0 else None
        return wait if failure.attempt < policy.attempts else None
    if failure.attempt >= policy.attempts:
        return None
    if isinstance(error, UpstreamTimeout | ConnectionFailed):
        if failure.paid and failure.sent:
            return None
        return policy.backoff(failure.attempt, jitter)
    if isinstance(error, ServerError) and not failure.paid:
        return policy.backoff(failure.attempt, jitter)
    return None
