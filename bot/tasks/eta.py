"""When a running Midjourney job should finish, from how fast its progress has moved so far."""

from __future__ import annotations

Sighting = tuple[float, int]  # (when, percent): a progress value and the instant it was seen


def expected_finish(first: Sighting, latest: Sighting) -> float | None:
    """The instant the job should reach 100 % if it keeps the pace it had from `first` to
    `latest`; None while that pace is unknown (one sighting, or no progress between them).

    Progress comes in steps seen at poll times, so this is an estimate, usually a little early:
    it tells the tracker when to start looking for the result, not when to stop.
    """
    (then, started), (now, reached) = first, latest
    if reached <= started or now <= then or reached >= 100:
        return None
    return now + (100 - reached) * (now - then) / (reached - started)
