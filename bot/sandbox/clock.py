"""Simulated time: every sandbox delay is expressed in "scenario seconds" and divided by `speed`."""

from __future__ import annotations

import asyncio
import time


class SimClock:
    """Scenario time running `speed` times faster than the wall clock; can be pushed forward."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin = time.monotonic()
        self._wall_origin_ms = time.time() * 1000.0
        self._offset = 0.0

    def now(self) -> float:
        """Scenario seconds since the clock was created."""
        return (time.monotonic() - self._origin) * self.speed + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward by `seconds` of scenario time (tests reach deadlines this way)."""
        self._offset += seconds

    def epoch_ms(self, at: float) -> int:
        """Epoch milliseconds shown for scenario instant `at` (intervals shrink with speed)."""
        return int(self._wall_origin_ms + at * 1000.0 / self.speed)

    def real(self, seconds: float) -> float:
        """Real seconds that `seconds` of scenario time take."""
        return seconds / self.speed

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of scenario time."""
        if seconds > 0:
            await asyncio.sleep(seconds / self.speed)
