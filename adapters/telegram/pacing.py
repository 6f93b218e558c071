"""Per-chat pacing of requests to Telegram: flood limits kept, 429s honoured, latest state wins.

Each chat has a lane: one worker running that chat's requests in order, under a token bucket
shaped like Telegram's limits (about 1 message/s in a private chat, 20/min in a group, bursts
tolerated) and one bucket shared by all chats (a little under 30/s). Two kinds of work:
- `run`: a request that must happen (a reply, a final edit). Awaited; retried after a 429.
- `offer`: a state to show (a growing answer, progress). Returns at once; a newer offer under
  the same key replaces an older one not yet sent; offers keep a token in reserve, so a `run`
  (the final text) is not left waiting behind them.
A `retry_after` stops only its own chat; other chats keep going.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from telegram.error import RetryAfter

from adapters.telegram.redact import redact

log = logging.getLogger(__name__)

T = TypeVar("T")
Op = Callable[[], Awaitable[Any]]

# A must-run request retried after this many 429s in a row is given up (and raised).
MAX_RETRIES = 8
SETTLE_STEP_S = 0.02


@dataclass(frozen=True, slots=True)
class Pace:
    """A chat's limits: request rate and burst, the gap between two edits of a growing answer,
    and between two edits of a job's progress (a bar moving is worth less than words)."""

    rate: float
    burst: float
    edit_gap: float
    progress_gap: float = 3.0


# Bursts a little under Telegram's, for the same reason as the global limit's rate.
PRIVATE = Pace(rate=1.0, burst=2.0, edit_gap=1.0)
GROUP = Pace(rate=20 / 60, burst=2.0, edit_gap=3.0, progress_gap=6.0)


@dataclass(slots=True)
class Bucket:
    """A token bucket: `burst` requests at once, refilled at `rate` per second."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = 0.0

    def wait_for(self, need: float, now: float) -> float:
        """Seconds until `need` tokens are there (0: now)."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= need else (need - self.tokens) / self.rate

    def spend(self) -> None:
        """Use one token."""
        self.tokens -= 1.0

    def empty(self) -> None:
        """Telegram said wait: start from an empty bucket after the wait."""
        self.tokens = 0.0


class GlobalLimit:
    """The bot-wide rate all lanes draw from: a little under Telegram's ~30/s, since requests
    paced here can still bunch up on the way; offers leave `reserve` tokens to must-runs."""

    def __init__(self, rate: float = 27.0, burst: float = 25.0, reserve: float = 12.0) -> None:
        self._bucket = Bucket(rate, burst)
        self._reserve = reserve

    def wait_for(self, *, must: bool) -> float:
        """Seconds until a request of this kind may go (0: now)."""
        need = 1.0 if must else 1.0 + self._reserve
        return self._bucket.wait_for(need, time.monotonic())

    def spend(self) -> None:
        """Use one token."""
        self._bucket.spend()


def retry_seconds(exc: RetryAfter) -> float:
    """`retry_after` as seconds (PTB is moving it from int to timedelta)."""
    with warnings.catch_warnings():  # PTB warns about the coming type on every read
        warnings.simplefilter("ignore")
        value: object = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


@dataclass(slots=True)
class _Must:
    op: Op
    done: asyncio.Future[Any]
    retries: int = 0


@dataclass(slots=True)
class _Offer:
    op: Op
    not_before: float = 0.0


@dataclass(slots=True)
class Lane:
    """One chat's queue of requests and its worker."""

    pace: Pace
    limit: GlobalLimit
    name: str = ""
    on_rate_limited: Callable[[], None] | None = None  # told of each 429 (metrics)
    bucket: Bucket = field(init=False)
    rate_limited: int = 0
    _must: deque[_Must] = field(default_factory=deque)
    _offers: OrderedDict[str, _Offer] = field(default_factory=OrderedDict)
    _blocked_until: float = 0.0
    _last_offer: float = -1e9
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _worker: asyncio.Task[None] | None = None
    _running: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.bucket = Bucket(self.pace.rate, self.pace.burst)

    async def run(self, op: Callable[[], Awaitable[T]]) -> T:
        """Run a request that must happen, in turn; retried after 429s; its result or error."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._must.append(_Must(op, done))
        self._kick()
        return await done

    def offer(self, key: str, op: Op, *, not_before: float = 0.0) -> None:
        """Show a state when the pace allows; replaces a pending offer under the same key."""
        current = self._offers.get(key)
        if current is not None:
            current.op, current.not_before = op, max(current.not_before, not_before)
        else:
            self._offers[key] = _Offer(op, not_before)
        self._kick()

    async def idle_moment(self) -> None:
        """Return once no request of this lane is in flight (it may start another later)."""
        async with self._running:
            pass

    def drop(self, key: str) -> None:
        """Forget a pending offer (its final state is about to be sent with `run`)."""
        self._offers.pop(key, None)

    @property
    def busy(self) -> bool:
        """Whether work is queued or running."""
        return bool(self._must or self._offers) or (
            self._worker is not None and not self._worker.done()
        )

    def _kick(self) -> None:
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while self._must or self._offers:
            wait, offer_key = self._next_wait(time.monotonic())
            if wait <= 0:
                wait = self.limit.wait_for(must=bool(self._must))
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            self.limit.spend()
            self.bucket.spend()
            async with self._running:
                if self._must:
                    await self._run_must(self._must.popleft())
                elif offer_key is not None and offer_key in self._offers:
                    self._last_offer = time.monotonic()
                    await self._run_offer(offer_key, self._offers.pop(offer_key))

    def _next_wait(self, now: float) -> tuple[float, str | None]:
        blocked = self._blocked_until - now
        if blocked > 0:
            return blocked, None
        if self._must:
            return self.bucket.wait_for(1.0, now), None
        # Offers keep one token for a must-run request (the final text) and are spaced out.
        waits = []
        for key, offer in self._offers.items():
            ready = max(offer.not_before, self._last_offer + self.pace.edit_gap) - now
            if ready <= 0:
                return max(0.0, self.bucket.wait_for(2.0, now)), key
            waits.append(ready)
        return min(waits), None

    async def _run_must(self, job: _Must) -> None:
        if job.done.cancelled():
            return
        try:
            result = await job.op()
        except RetryAfter as exc:
            self._hold(exc)
            job.retries += 1
            if job.retries > MAX_RETRIES:
                job.done.set_exception(exc)
            else:
                self._must.appendleft(job)
        except asyncio.CancelledError:
            job.done.cancel()
            raise
        except Exception as exc:
            if not job.done.done():
                job.done.set_exception(exc)
        else:
            if not job.done.done():
                job.done.set_result(result)

    async def _run_offer(self, key: str, offer: _Offer) -> None:
        try:
            await offer.op()
        except RetryAfter as exc:
            self._hold(exc)
            if key not in self._offers:  # nothing newer came: show this one later
                self._offers[key] = offer
                self._offers.move_to_end(key, last=False)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("an update of %s was not shown: %s", self.name, redact(repr(exc)))

    def _hold(self, exc: RetryAfter) -> None:
        self.rate_limited += 1
        if self.on_rate_limited is not None:
            self.on_rate_limited()
        seconds = retry_seconds(exc)
        self._blocked_until = time.monotonic() + seconds
        self.bucket.empty()
        log.info("Telegram asked %s to wait %.0f s", self.name, seconds)

    async def close(self) -> None:
        """Stop the worker(s); queued work is dropped."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        for job in self._must:
            job.done.cancel()
        self._must.clear()
        self._offers.clear()


class Pacer:
    """The lanes of every chat, made on first use, and the global limit they share."""

    def __init__(
        self, private: Pace = PRIVATE, group: Pace = GROUP, limit: GlobalLimit | None = None,
        *, on_rate_limited: Callable[[], None] | None = None,
    ) -> None:
        self.private, self.group = private, group
        # Told of each 429 any chat receives (the platform rate-limit metric).
        self.on_rate_limited = on_rate_limited
        self.limit = limit or GlobalLimit()
        self._lanes: dict[int, Lane] = {}
        self._forgotten_429s = 0
        # Idle lanes are dropped when there are this many (a bot in many chats).
        self.prune_above = 5000

    def lane(self, chat_id: int, is_private: bool) -> Lane:
        """The lane of a chat, made on first use."""
        lane = self._lanes.get(chat_id)
        if lane is None:
            if len(self._lanes) >= self.prune_above:
                self._prune()
            pace = self.private if is_private else self.group
            lane = self._lanes[chat_id] = Lane(pace, self.limit, name=f"chat {chat_id}",
                                               on_rate_limited=self._told)
        return lane

    def _told(self) -> None:
        if self.on_rate_limited is not None:
            self.on_rate_limited()

    @property
    def rate_limited(self) -> int:
        """How many 429s all chats received."""
        return self._forgotten_429s + sum(lane.rate_limited for lane in self._lanes.values())

    def _prune(self) -> None:
        """Forget idle lanes whose bucket has refilled (they would start the same anew)."""
        now = time.monotonic()
        for chat_id, lane in list(self._lanes.items()):
            if not lane.busy and lane.bucket.wait_for(lane.pace.burst, now) == 0:
                self._forgotten_429s += lane.rate_limited
                del self._lanes[chat_id]
        self.prune_above = max(self.prune_above, 2 * len(self._lanes))

    async def settle(self, bound_s: float = 30.0) -> None:
        """Wait until no lane has work left, up to `bound_s` (shutdown, tests)."""
        deadline = time.monotonic() + bound_s
        for _ in range(int(bound_s / SETTLE_STEP_S) + 1):
            if not any(lane.busy for lane in self._lanes.values()):
                return
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(SETTLE_STEP_S)

    async def close(self) -> None:
        """Stop the worker(s); queued work is dropped."""
        await asyncio.gather(*(lane.close() for lane in self._lanes.values()))
        self._lanes.clear()
