"""The retry rule: which failures are tried again, for paid and unpaid calls, before or after
the request may have reached the gateway; and every call, downloads too, goes through one loop."""

from __future__ import annotations

import pytest

from bot.upstream import (
    AuthenticationError,
    BadResponse,
    ConnectionFailed,
    InvalidRequest,
    NotFound,
    QueueFull,
    RateLimited,
    ServerError,
    UpstreamClient,
    UpstreamError,
    UpstreamTimeout,
)
from bot.upstream.retry import Failure, RetryPolicy, retry_delay
from tests.upstream.conftest import FAST_RETRY, KEY
from tests.upstream.scripted import ScriptedServer, cut_body, raw_reply

POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0, max_retry_after=10.0)


def decide(
    error: UpstreamError, *, paid: bool, sent: bool, attempt: int = 1, limited: int = 0
) -> float | None:
    return retry_delay(Failure(error, paid, sent, attempt, limited), POLICY, jitter=1.0)


@pytest.mark.parametrize("error", [UpstreamTimeout("t"), ConnectionFailed("c")])
def test_a_transport_failure_is_retried_for_reads_whenever_it_happened(
    error: UpstreamError,
) -> None:
    assert decide(error, paid=False, sent=False) == 1.0
    assert decide(error, paid=False, sent=True) == 1.0
    assert decide(error, paid=False, sent=True, attempt=2) == 2.0  # backoff doubles


@pytest.mark.parametrize("error", [UpstreamTimeout("t"), ConnectionFailed("c")])
def test_a_paid_call_is_retried_only_when_its_request_never_left(error: UpstreamError) -> None:
    assert decide(error, paid=True, sent=False) == 1.0
    assert decide(error, paid=True, sent=True) is None  # it may have been billed


def test_5xx_is_retried_for_reads_but_never_for_paid_calls() -> None:
    assert decide(ServerError("x", status=500), paid=False, sent=True) == 1.0
    assert decide(ServerError("x", status=502), paid=True, sent=True) is None


@pytest.mark.parametrize(
    "error",
    [AuthenticationError("a"), InvalidRequest("i"), NotFound("n"), BadResponse("b"),
     QueueFull(23, "full")],
)
def test_answered_refusals_are_never_retried(error: UpstreamError) -> None:
    assert decide(error, paid=False, sent=True) is None
    assert decide(error, paid=True, sent=True) is None


def test_429_waits_retry_after_for_reads_until_attempts_run_out() -> None:
    busy = RateLimited("busy", retry_after=2.5)
    assert decide(busy, paid=False, sent=True) == 2.5
    assert decide(busy, paid=False, sent=True, attempt=2, limited=1) == 2.5
    assert decide(busy, paid=False, sent=True, attempt=3, limited=2) is None


def test_429_on_a_paid_call_is_retried_once() -> None:
    busy = RateLimited("busy", retry_after=2.5)
    assert decide(busy, paid=True, sent=True) == 2.5  # the gateway does not bill a 429
    assert decide(busy, paid=True, sent=True, attempt=2, limited=1) is None


def test_429_asking_for_too_long_a_wait_is_raised_at_once() -> None:
    too_long = RateLimited("busy", retry_after=60)
    assert decide(too_long, paid=False, sent=True) is None
    assert decide(too_long, paid=True, sent=True) is None
    assert decide(RateLimited("busy"), paid=False, sent=True) == 1.0  # no header: backoff


def test_429_asking_for_exactly_the_longest_allowed_wait_is_waited_for() -> None:
    at_limit = RateLimited("busy", retry_after=POLICY.max_retry_after)
    assert decide(at_limit, paid=False, sent=True) == POLICY.max_retry_after
    assert decide(at_limit, paid=True, sent=True) == POLICY.max_retry_after


def test_no_failure_is_retried_past_the_last_attempt() -> None:
    for error in (UpstreamTimeout("t"), ServerError("s", status=500)):
        assert decide(error, paid=False, sent=False, attempt=3) is None


async def test_a_download_makes_at_most_attempts_requests_whatever_fails(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    # A 500, then a body cut halfway, then a 500 again: three requests, then the error.
    # (The download once had a loop of its own around the exchange loop: up to 9 requests.)
    broken = raw_reply("<h1>500</h1>", "text/html", 500)
    scripted.on("GET /mj/image/1", broken, cut_body(b"\x89PNG", 10_000), broken,
                raw_reply("\x89PNG whole", "image/png"))
    with pytest.raises(ServerError):
        await scripted_client.download("/mj/image/1")
    assert scripted.hits["GET /mj/image/1"] == FAST_RETRY.attempts


async def test_a_download_cut_halfway_is_fetched_again(
    scripted: ScriptedServer, scripted_client: UpstreamClient
) -> None:
    scripted.on("GET /mj/image/2", cut_body(b"\x89PNG", 10_000),
                raw_reply("\x89PNG whole", "image/png"))
    got = await scripted_client.download("/mj/image/2")
    assert got.data == "\x89PNG whole".encode()
    assert scripted.hits["GET /mj/image/2"] == 2


async def test_a_download_cut_every_time_gives_up_after_attempts(scripted: ScriptedServer) -> None:
    scripted.on("GET /mj/image/3", cut_body(b"\x89PNG", 10_000))
    async with UpstreamClient(scripted.url, KEY, retry=FAST_RETRY) as client:
        with pytest.raises(ConnectionFailed):
            await client.download("/mj/image/3")
    assert scripted.hits["GET /mj/image/3"] == FAST_RETRY.attempts
