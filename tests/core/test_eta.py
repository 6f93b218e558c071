"""When the tracker expects a running Midjourney job to finish, from its pace so far."""

from __future__ import annotations

import pytest

from bot.tasks.eta import expected_finish


def test_a_job_keeping_its_pace_is_expected_when_it_would_reach_100_percent() -> None:
    # 15 % -> 46 % in 10 s: 3.1 %/s, so the remaining 54 % take about 17.4 s more.
    assert expected_finish((100.0, 15), (110.0, 46)) == pytest.approx(110.0 + 54 * 10 / 31)


def test_a_faster_job_is_expected_sooner() -> None:
    slow = expected_finish((0.0, 15), (10.0, 31))
    fast = expected_finish((0.0, 15), (10.0, 62))
    assert slow is not None and fast is not None and fast < slow


@pytest.mark.parametrize(
    ("first", "latest"),
    [
        ((0.0, 15), (0.0, 15)),  # one sighting only
        ((0.0, 31), (5.0, 31)),  # no progress since: no pace to go by
        ((0.0, 46), (5.0, 31)),  # went backwards (a restarted job)
        ((0.0, 15), (5.0, 100)),  # already done
    ],
)
def test_no_expectation_without_a_pace(first: tuple[float, int], latest: tuple[float, int]) -> None:
    assert expected_finish(first, latest) is None
