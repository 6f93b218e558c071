"""When the tracker looks at a job next: often at first, less often as it ages, often again
when its result is close, and delivery retries ever later."""

from __future__ import annotations

import pytest

from bot.tasks.schedule import (
    GROWTH,
    RETRY_MAX_S,
    Intervals,
    Pace,
    changed_since,
    first_pace,
    polled,
    retry_delay,
    seen,
)
from bot.upstream import MjTask
from storage.base import JobRecord

FAST = Intervals(fastest=1.0, longest=10.0)


def test_a_new_job_is_first_polled_one_shortest_interval_later() -> None:
    pace = first_pace(100.0, FAST)
    assert pace.next_at == 101.0 and pace.interval == 1.0


def test_each_poll_stretches_the_interval_up_to_the_longest() -> None:
    pace = first_pace(0.0, FAST)
    gaps = []
    now = 0.0
    for _ in range(10):
        now = pace.next_at
        pace = polled(pace, now, FAST)
        gaps.append(pace.next_at - now)
    assert gaps[:3] == [1.0, GROWTH, GROWTH**2]
    assert gaps[-1] == 10.0 and max(gaps) == 10.0


def test_a_job_at_its_last_step_is_looked_for_often_for_one_longest_interval() -> None:
    pace = first_pace(0.0, FAST)
    for now in (1.0, 2.5, 4.75, 8.1):
        pace = polled(pace, now, FAST)
    assert pace.next_at - 8.1 > 1.0  # grown
    near = seen(pace, "IN_PROGRESS", 93, 9.0, FAST)
    assert near.next_at == 10.0  # one shortest interval
    # Still at 93 % a longest interval later: it may have stalled, back to the grown pace.
    stalled = seen(polled(near, 19.5, FAST), "IN_PROGRESS", 93, 19.5, FAST)
    assert stalled.next_at > 19.5 + FAST.fastest


def test_a_job_whose_pace_says_when_it_ends_is_looked_for_from_then() -> None:
    intervals = Intervals(1.0, 60.0)
    pace = seen(first_pace(0.0, intervals), "IN_PROGRESS", 15, 1.0, intervals)
    # Its interval has grown to 40 s by the time it is seen at 46 %, 10 s after 15 %.
    pace = Pace(40.0, 51.0, first_progress=pace.first_progress)
    pace = seen(pace, "IN_PROGRESS", 46, 11.0, intervals)
    # 3.1 %/s: 100 % expected about 17.4 s later, looked for then rather than at 51 s.
    assert pace.expect_at == pytest.approx(11.0 + 54 * 10 / 31)
    assert pace.next_at == pytest.approx(pace.expect_at)
    # An end expected after the next poll, or a job near its end, as the rules above say.
    late = Pace(40.0, 200.0, first_progress=(1.0, 15), expect_at=28.4)
    assert seen(late, "IN_PROGRESS", 92, 150.0, intervals).next_at == 151.0  # near end: often
    assert seen(late, "IN_PROGRESS", 60, 150.0, intervals).next_at == 200.0


def test_queued_and_finished_jobs_keep_the_grown_interval() -> None:
    pace = polled(first_pace(0.0, FAST), 1.0, FAST)
    assert seen(pace, "SUBMITTED", 0, 1.0, FAST) == pace
    assert seen(pace, "SUCCESS", 100, 1.0, FAST) == pace


def job(progress: str = "", image_url: str = "") -> JobRecord:
    return JobRecord(1, "test", "c", "", "alice", "imagine", "a cat", progress=progress,
                     image_url=image_url)  # fmt: skip


def test_a_new_cache_buster_on_the_same_preview_is_not_a_change() -> None:
    stored = job("46%", "https://cdn/x.png?rand=1")
    assert not changed_since(stored, MjTask(status="IN_PROGRESS", progress="46%",
                                            image_url="https://cdn/x.png?rand=2"))  # fmt: skip
    assert changed_since(stored, MjTask(status="IN_PROGRESS", progress="62%"))
    assert changed_since(stored, MjTask(status="MODAL", progress="46%"))
    assert changed_since(stored, MjTask(status="SUCCESS", progress="100%"))


def test_delivery_retries_wait_longer_each_time_up_to_five_minutes() -> None:
    delays = [retry_delay(n, 10.0) for n in range(1, 8)]
    assert delays[:3] == [20.0, 40.0, 80.0]
    assert delays[-1] == RETRY_MAX_S
