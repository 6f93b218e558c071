"""The route table: each endpoint declared once, and exactly the billed ones marked paid (the
retry rule never repeats a paid call that may have reached the gateway)."""

from __future__ import annotations

from collections import Counter

from bot.upstream.routes import ALL_ROUTES, Family, Timeout


def test_each_endpoint_is_declared_once() -> None:
    counts = Counter((r.method, r.path) for r in ALL_ROUTES)
    assert [endpoint for endpoint, n in counts.items() if n > 1] == []


def test_generations_and_submits_are_paid_and_reads_are_not() -> None:
    paid = {r.path for r in ALL_ROUTES if r.paid}
    assert paid == {
        "/v1/chat/completions", "/v1/completions", "/v1/images/generations", "/v1/embeddings",
        "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/audio/speech",
        "/mj/submit/imagine", "/mj/submit/action", "/mj/submit/modal", "/mj/submit/blend",
        "/mj/submit/describe", "/mj/submit/shorten", "/mj/insight-face/swap",
    }


def test_polls_get_the_short_timeout_and_skip_the_queue_where_the_tracker_needs_it() -> None:
    by_path = {r.path: r for r in ALL_ROUTES}
    poll = by_path["/mj/task/list-by-condition"]
    assert poll.timeout is Timeout.POLL and not poll.queued and not poll.paid
    assert by_path["/mj/task/{id}/fetch"].timeout is Timeout.POLL
    # long generations never wait behind a burst of quick calls, nor hold one up
    for path in ("/v1/chat/completions", "/v1/images/generations", "/v1/audio/speech"):
        assert not by_path[path].queued and by_path[path].timeout is Timeout.LONG
    assert {r.family for r in ALL_ROUTES if r.path.startswith("/mj/submit")} == {
        Family.MIDJOURNEY
    }
