"""The expected finish at its edges: no pace from a stalled clock or a finished job, and the
estimate follows the pace it saw, not a fixed one."""

from __future__ import annotations

import pytest

from bot.tasks.eta import expected_finish


def test_the_estimate_is_the_remaining_share_at_the_pace_seen() -> None:
    # 20 % -> 60 % in 8 s: 5 %/s, so the remaining 40 % take 8 s more.
    assert expected_finish((2.0, 20), (10.0, 60)) == pytest.approx(18.0)
    # 0 % -> 99 %: one percent left at 33 %/s.
    assert expected_finish((0.0, 0), (3.0, 99)) == pytest.approx(3.0 + 1 / 33)


def test_an_estimate_is_never_before_the_latest_sighting() -> None:
    for first, latest in [((0.0, 1), (1.0, 98)), ((50.0, 40), (51.0, 41))]:
        expected = expected_finish(first, latest)
        assert expected is not None and expected > latest[0]


@pytest.mark.parametrize(
    ("first", "latest"),
    [
        ((5.0, 15), (5.0, 46)),  # progress at the same instant: no time to measure a pace in
        ((9.0, 15), (5.0, 46)),  # sightings out of order
        ((0.0, 46), (5.0, 46)),  # stalled
        ((0.0, 15), (5.0, 101)),  # past the end
    ],
)
def test_no_estimate_without_a_measurable_pace(first: tuple[float, int],
                                               latest: tuple[float, int]) -> None:
    assert expected_finish(first, latest) is None
