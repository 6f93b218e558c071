"""When to look at a Midjourney job next: polls and delivery retries. Pure: numbers in, numbers out.

A job is polled often right after its submit and less often as it ages (each poll stretches its
interval by GROWTH, up to the longest). Once its pace says when it should finish, or once it
reaches its last progress step, it is looked for often again for a while, as its result is close.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.tasks.eta import Sighting, expected_finish
from bot.upstream import MjTask
from storage.base import JobRecord

GROWTH = 1.5  # each poll of a job stretches its interval by this much, up to the longest
NEAR_END_PERCENT = 90  # Midjourney's last step before the result is 93%
RETRY_MAX_S = 300.0


@dataclass(frozen=True, slots=True)
class Intervals:
    """The shortest and the longest time between two polls of one job (settings)."""

    fastest: float
    longest: float


@dataclass(frozen=True, slots=True)
class Pace:
    """What decides one job's next poll: its interval, and what its progress said so far."""

    interval: float
    next_at: float  # time.monotonic()
    near_end_at: float | None = None  # when the job was first seen at its last progress step
    first_progress: Sighting | None = None  # the first progress this process saw, and when
    expect_at: float | None = None  # when the job should finish, at its pace so far


def first_pace(now: float, intervals: Intervals) -> Pace:
    """A job just submitted: first looked at one shortest interval from now."""
    return Pace(intervals.fastest, now + intervals.fastest)


def polled(pace: Pace, now: float, intervals: Intervals) -> Pace:
    """The job was just asked for: next time one interval later, and the interval grows."""
    grown = min(intervals.longest, pace.interval * GROWTH)
    return dataclasses.replace(pace, next_at=now + pace.interval, interval=grown)


def seen(pace: Pace, status: str, percent: int, now: float, intervals: Intervals) -> Pace:
    """The job was seen at `status`/`percent`: poll sooner than the grown interval would when
    the result is close."""
    fastest, longest = intervals.fastest, intervals.longest
    if status == "IN_PROGRESS" and 0 < percent < 100:
        if pace.first_progress is None:
            pace = dataclasses.replace(pace, first_progress=(now, percent))
        else:
            expected = expected_finish(pace.first_progress, (now, percent))
            if expected is not None:
                pace = dataclasses.replace(pace, expect_at=expected)
    near_end = status == "IN_PROGRESS" and percent >= NEAR_END_PERCENT
    if near_end and pace.near_end_at is None:
        pace = dataclasses.replace(pace, near_end_at=now)
    if near_end and pace.near_end_at is not None and now - pace.near_end_at < longest:
        # The last progress step: the result is close, so it is looked for often
        # (for one longest interval, in case the job stalls there).
        return dataclasses.replace(pace, next_at=now + fastest)
    if pace.expect_at is not None and now < pace.expect_at + longest:
        # Its pace says when it should finish: looked for from then on, often, for one
        # longest interval, rather than up to a whole (grown) interval later.
        next_at = min(pace.next_at, max(now + fastest, pace.expect_at))
        return dataclasses.replace(pace, next_at=next_at)
    return pace


def changed_since(job: JobRecord, task: MjTask) -> bool:
    """Whether the upstream's task says something the stored job does not show yet."""
    if task.is_finished or task.status == "MODAL":
        return True
    # Gateways add a cache-buster (`?rand=`) to preview URLs on every fetch: not a change.
    return task.progress != job.progress or _base(task.image_url) != _base(job.image_url)


def retry_delay(attempts: int, longest: float) -> float:
    """How long to wait before delivering a result again after `attempts` failed tries."""
    return float(min(RETRY_MAX_S, longest * 2**attempts))


def _base(url: str | None) -> str:
    return (url or "").split("?", 1)[0]
