"""The route table: each endpoint declared once, and exactly the billed ones marked paid (the
retry rule never repeats a paid call that may have reached the gateway)."""

from __future__ import annotations

from collections import Counter

from bot.upstream.routes import ALL_ROUTES, MJ_CANCEL, MJ_FETCH, MODELS, Family, Timeout


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


def test_a_task_route_asks_for_that_task_and_only_its_id_changes() -> None:
    assert MJ_FETCH.path_for("1730621826053455") == "/mj/task/1730621826053455/fetch"
    assert MJ_CANCEL.path_for("17") == "/mj/task/17/cancel"
    assert MODELS.path_for("17") == "/v1/models"  # no {id}: the path as declared


def test_a_404_on_a_route_takes_away_only_the_feature_it_serves() -> None:
    # A gateway without TTS answers 404 on /v1/audio/speech: /speak goes, /ask stays.
    by_path = {r.path: r.family for r in ALL_ROUTES}
    assert by_path["/v1/audio/speech"] is Family.SPEECH
    assert by_path["/v1/audio/transcriptions"] is by_path["/v1/audio/translations"] is (
        Family.TRANSCRIPTION
    )
    assert by_path["/v1/images/generations"] is Family.IMAGE
    assert by_path["/v1/chat/completions"] is by_path["/v1/completions"] is Family.CHAT
    assert by_path["/v1/embeddings"] is Family.EMBEDDING
    # queue and cancel are upstream-only extras: their 404 says nothing of Midjourney itself
    assert by_path["/mj/task/queue"] is by_path["/mj/task/{id}/cancel"] is (
        Family.MIDJOURNEY_EXTRAS
    )
    assert by_path["/mj/task/{id}/fetch"] is by_path["/mj/insight-face/swap"] is (
        Family.MIDJOURNEY
    )
    assert by_path[""] is Family.FILES  # a missing image is not a missing feature
