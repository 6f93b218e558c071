"""Telegram-like flood limits for the fake Bot API server: token buckets per chat and overall."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Bucket:
    """A token bucket: `burst` requests at once, refilled at `rate` per second."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> float:
        """Take one token; 0 when allowed, else the seconds until one is available."""
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass(slots=True)
class FloodLimits:
    """Per-chat and global rates, as the Bot FAQ describes them (bursts tolerated).

    Private chats: about 1 message per second with a small burst; groups: 20 per minute;
    the whole bot: about 30 per second.
    """

    private_rate: float = 1.0
    private_burst: float = 3.0
    group_rate: float = 20 / 60
    group_burst: float = 3.0
    global_rate: float = 30.0
    global_burst: float = 30.0
    enabled: bool = True
    _chats: dict[int, Bucket] = field(default_factory=dict)
    _global: Bucket | None = None

    def check(self, chat_id: int, private: bool) -> int:
        """0 when the request may go through, else `retry_after` in whole seconds (>= 1)."""
        if not self.enabled:
            return 0
        now = time.monotonic()
        if self._global is None:
            self._global = Bucket(self.global_rate, self.global_burst)
        bucket = self._chats.get(chat_id)
        if bucket is None:
            rate, burst = (
                (self.private_rate, self.private_burst)
                if private
                else (self.group_rate, self.group_burst)
            )
            bucket = self._chats[chat_id] = Bucket(rate, burst)
        wait = bucket.take(now)
        if wait > 0:
            return max(1, math.ceil(wait))
        wait = self._global.take(now)
        if wait > 0:
            bucket.tokens += 1.0  # not spent: the request was refused
            return max(1, math.ceil(wait))
        return 0
