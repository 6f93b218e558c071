"""Edit pacing: per channel about one request a second, latest state wins, never blocking.

Each channel has a lane: a task that runs only while something in that channel has a state not
yet shown. A lane waiting on a rate limit (discord.py sleeps per route bucket from Discord's
headers) delays only its own channel; offers made meanwhile replace each other.

Discord allows 5 message edits per 5 s per channel. Paced updates use 4 of them (one every
1.3 s) and keep the fifth for a final state (`urgent`), so a finished answer shows at once
instead of waiting for the next slot or for the bucket to reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Hashable
from typing import Protocol

log = logging.getLogger(__name__)


class Paced(Protocol):
    """Something with states to show: a progress message, a growing streamed answer."""

    @property
    def pending(self) -> bool:
        """Whether a state is waiting to be shown."""

    @property
    def urgent(self) -> bool:
        """Whether the waiting state is final (it may use the slot kept in reserve)."""

    async def step(self) -> bool:
        """Show the next state with at most one request; True if a request was made."""

    def failed(self, error: BaseException) -> None:
        """A step raised: give up on what was pending (logged by the lane)."""


class _Lane:
    def __init__(self) -> None:
        self.items: dict[Hashable, Paced] = {}
        self.order: list[Hashable] = []
        self.task: asyncio.Task[None] | None = None
        self.recent: deque[float] = deque()  # start times of requests in the last window
        self.busy: Hashable | None = None
        self.changed = asyncio.Condition()
        self.wake = asyncio.Event()  # set by an urgent offer, so a final state goes at once


class Pacer:
    """Per-channel lanes with a minimum interval between paced requests in one channel."""

    def __init__(self, interval: float = 1.3, limit: int = 5, window: float | None = None
                 ) -> None:
        self.interval = interval
        self.limit = limit
        # Discord's window: 5 s for 5 edits. Its windows are fixed (from a bucket's first
        # request), so paced requests go a little slower than window / (limit - 1): four of
        # them then never fill a window, whatever its start, and the fifth slot stays free.
        self.window = window if window is not None else interval * (limit - 1) / 1.04
        self._lanes: dict[Hashable, _Lane] = {}

    def _wait(self, lane: _Lane, now: float, urgent: bool) -> float:
        """Seconds until a request may start in this lane (0: now).

        Paced states keep `interval` between starts, so a window holds `limit - 1` of them
        and a final state finds its slot free. (A rule of "limit - 1 per window" instead would
        turn one late request into a longer gap four requests on.)
        """
        while lane.recent and lane.recent[0] <= now - self.window:
            lane.recent.popleft()
        if len(lane.recent) >= self.limit:
            return lane.recent[0] + self.window - now
        if urgent or not lane.recent:
            return 0.0
        return lane.recent[-1] + self.interval - now

    def offer(self, channel: Hashable, key: Hashable, item: Paced) -> None:
        """Make sure `item`'s pending state will be shown; returns at once."""
        lane = self._lanes.get(channel)
        if lane is None:
            lane = self._lanes[channel] = _Lane()
        if key not in lane.items:
            lane.items[key] = item
            lane.order.append(key)
        if item.urgent:
            lane.wake.set()
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._run(channel, lane), name=f"pace-{channel}")

    async def settle(self, channel: Hashable, key: Hashable) -> None:
        """Wait until `key` has nothing pending and no request in flight."""
        lane = self._lanes.get(channel)
        if lane is None:
            return
        async with lane.changed:
            await lane.changed.wait_for(
                lambda: lane.busy != key and not (key in lane.items and lane.items[key].pending)
            )

    async def forget(self, channel: Hashable, key: Hashable) -> None:
        """Stop pacing `key` (after any request in flight), e.g. before a final edit."""
        lane = self._lanes.get(channel)
        if lane is None:
            return
        lane.items.pop(key, None)
        if key in lane.order:
            lane.order.remove(key)
        async with lane.changed:
            await lane.changed.wait_for(lambda: lane.busy != key)

    async def close(self) -> None:
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, channel: Hashable, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while True:
            ready = [k for k in lane.order if lane.items[k].pending]
            if not ready:
                break
            urgent = [k for k in ready if lane.items[k].urgent]
            now = loop.time()
            wait = self._wait(lane, now, bool(urgent))
            if wait > 0:
                # States offered meanwhile replace each other; an urgent offer wakes the lane
                # early (a final state may use the reserved slot).
                lane.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lane.wake.wait(), wait)
                continue
            key = (urgent or ready)[0]
            # Round robin: the item served goes to the back of the lane.
            lane.order.remove(key)
            lane.order.append(key)
            item = lane.items[key]
            lane.busy = key
            try:
                if await item.step():
                    lane.recent.append(now)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("paced update in channel %s failed: %s", channel, type(exc).__name__)
                item.failed(exc)
            finally:
                lane.busy = None
                async with lane.changed:
                    lane.changed.notify_all()
        # Items with nothing pending are dropped (an offer brings them back); no await from the
        # last check to the end of the task, so an offer can never find it finishing.
        for key in [k for k, i in lane.items.items() if not i.pending]:
            del lane.items[key]
            lane.order.remove(key)


class GlobalBudget:
    """Spaces requests that count against Discord's global limit (50/s) below `rate` per second.

    Interaction responses and follow-ups are not bound by it and skip it.
    """

    def __init__(self, rate: float = 45.0) -> None:
        self._gap = 1.0 / rate
        self._next = 0.0

    async def take(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next)
        self._next = slot + self._gap
        if slot > now:
            await asyncio.sleep(slot - now)
