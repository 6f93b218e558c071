"""Counting the 429s Discord answers, for the operator's rate-limit metric.

discord.py waits out a 429 itself (per route bucket, from Discord's headers) and says nothing to
its caller; aiohttp's request tracing, which discord.py takes as `http_trace`, sees each one.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import aiohttp

TOO_MANY_REQUESTS = 429


def rate_limit_trace(on_rate_limited: Callable[[], None]) -> aiohttp.TraceConfig:
    """A trace that calls `on_rate_limited` once for every 429 response."""
    trace = aiohttp.TraceConfig()

    async def ended(session: aiohttp.ClientSession, context: SimpleNamespace,
                    params: aiohttp.TraceRequestEndParams) -> None:
        if params.response.status == TOO_MANY_REQUESTS:
            on_rate_limited()

    trace.on_request_end.append(ended)
    return trace
