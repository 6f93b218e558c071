"""/imagine as a user sees it: progress, the grid with its buttons, DALL·E 3, bad input, faults."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from bot.inbound import Attachment
from bot.media import sniff_image
from bot.sandbox.server import SandboxServer
from bot.upstream import UpstreamClient
from storage.base import JobStatus
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import (
    POLL,
    SUBMIT_IMAGINE,
    captions,
    image,
    imagine_result,
    png,
    results,
    settle,
    until,
    wait_text,
)
from tests.support.harness import Harness


async def test_imagine_shows_progress_then_the_grid_with_its_buttons(harness: Harness) -> None:
    shown = await imagine_result(harness, "a red fox in snow --ar 3:2")

    assert shown.reply is not None
    assert "a red fox in snow --ar 3:2" in shown.reply.text
    (picture,) = shown.reply.images
    assert sniff_image(picture.data) == "image/png"
    assert shown.progress, "the user saw no progress before the result"
    assert shown.progress[0].percent in (0, None)
    assert captions(shown) == [
        ["U1", "U2", "U3", "U4", "🔄"],
        ["V1", "V2", "V3", "V4", "🌱 Seed"],
    ]
    await settle(harness)
    jobs = await harness.services.store.list_jobs([JobStatus.SUCCESS])
    assert len(jobs) == 1 and jobs[0].delivered and jobs[0].upstream_id


async def test_progress_carries_a_preview_image_while_running(tmp_path: Path) -> None:
    # A slower sandbox, so the running phase outlasts a preview download.
    slow = SandboxServer(host="127.0.0.1", port=0, speed=25.0)
    await slow.start()
    async with running_harness(fast_settings(tmp_path), slow) as h:
        shown = await imagine_result(h, "a lighthouse")
        running = [p for p in shown.progress if p.percent]
        assert running, "no running progress was shown"
        previews = [p.preview for p in running if p.preview is not None]
        assert previews and sniff_image(previews[-1].data) == "image/png"
        await slow.stop()


async def test_reference_images_reach_midjourney(harness: Harness) -> None:
    await imagine_result(harness, "in this style", attachments=(image(), image((0, 90, 200))))

    (job,) = await harness.services.store.list_jobs([JobStatus.SUCCESS])
    # The gateway uploads reference images and puts their URLs in front of the prompt.
    assert job.result["final_prompt"].count("http") == 2


class BodyRecorder(httpx.AsyncHTTPTransport):
    """A real HTTP transport that also keeps the JSON bodies sent to one path."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.bodies: list[dict[str, object]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == self.path:
            self.bodies.append(json.loads(request.content))
        return await super().handle_async_request(request)


async def test_niji_switch_and_references_go_out_with_the_submit(
    harness: Harness, sandbox: SandboxServer
) -> None:
    recorder = BodyRecorder("/mj/submit/imagine")
    await harness.services.client.aclose()
    harness.services.client = UpstreamClient(sandbox.url, "sk-test-key-123", transport=recorder)

    shown = await imagine_result(
        harness, "a samurai cat", options={"niji": "true"}, attachments=(image(),)
    )
    await imagine_result(harness, "a plain cat")

    assert shown.reply is not None and len(shown.reply.buttons) == 2
    niji, plain = recorder.bodies
    assert niji["botType"] == "NIJI_JOURNEY" and plain["botType"] == "MID_JOURNEY"
    references = niji["base64Array"]
    assert isinstance(references, list) and len(references) == 1
    assert str(references[0]).startswith("data:image/png;base64,")
    assert "base64Array" not in plain


async def test_dalle_engine_sends_one_image_with_the_revised_prompt_and_no_buttons(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("imagine", "a teapot on the moon", options={"engine": "dalle"})

    (shown,) = results(harness)
    assert shown.reply is not None
    assert len(shown.reply.images) == 1 and not shown.reply.buttons
    assert "teapot" in shown.reply.text
    assert sandbox.hits["POST /v1/images/generations"] == 1
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_a_dalle_failure_replaces_the_drawing_message(harness: Harness) -> None:
    await harness.command("imagine", "a teapot [[fault:500]]", options={"engine": "dalle"})

    (shown,) = harness.channel.messages
    assert shown.reply is not None and shown.reply.text.startswith("⚠️")
    assert not results(harness)


async def test_empty_prompt_is_refused_without_a_submit(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("imagine", "   ")
    assert "Please add a prompt after /imagine" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_a_100_kb_prompt_is_refused(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("imagine", "cat " * 25_000)
    assert "too long" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_a_non_image_attachment_is_refused(harness: Harness, sandbox: SandboxServer) -> None:
    notes = Attachment(b"just some text", "image/png", "notes.png")
    await harness.command("imagine", "a cat", attachments=(notes,))
    text = harness.channel.last().reply.text  # type: ignore[union-attr]
    assert "notes.png" in text and "not an image" in text
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_too_many_reference_images_are_refused(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("imagine", "a cat", attachments=tuple(image() for _ in range(4)))
    assert "at most 3" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_a_too_big_image_is_refused(harness: Harness, sandbox: SandboxServer) -> None:
    huge = Attachment(png() + b"\0" * (11 * 2**20), "image/png", "huge.png")
    await harness.command("imagine", "a cat", attachments=(huge,))
    assert "too big" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_an_unknown_engine_is_refused(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("imagine", "a cat", options={"engine": "stable-diffusion"})
    assert "Unknown engine" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_a_failed_job_shows_midjourney_s_reason(harness: Harness) -> None:
    await harness.command("imagine", "a cat [[fault:mj_failure]]")

    shown = await wait_text(harness, "could not finish")
    assert "the sandbox injected the mj_failure fault" in shown.reply.text  # type: ignore[union-attr]
    assert "refunded" in shown.reply.text  # type: ignore[union-attr]
    await settle(harness)
    (job,) = await harness.services.store.list_jobs([JobStatus.FAILURE])
    assert job.delivered


async def test_a_banned_prompt_names_the_banned_word(harness: Harness) -> None:
    await harness.command("imagine", "a cat [[fault:banned]]")

    text = harness.channel.last().reply.text  # type: ignore[union-attr]
    assert "does not allow this prompt" in text and "word:" in text
    (job,) = await harness.services.store.list_jobs([JobStatus.FAILURE])
    assert job.upstream_id is None


async def test_a_full_queue_says_try_later(harness: Harness) -> None:
    await harness.command("imagine", "a cat [[fault:queue_full]]")
    assert "try again" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert await harness.services.store.list_jobs([JobStatus.FAILURE])


async def test_an_empty_balance_is_explained(harness: Harness) -> None:
    await harness.command("imagine", "a cat [[fault:quota]]")
    assert "balance" in harness.channel.last().reply.text  # type: ignore[union-attr]


async def test_server_errors_on_submit_reach_the_user_and_leave_no_pending_job(
    harness: Harness,
) -> None:
    for fault in ("500", "502"):
        await harness.command("imagine", f"a cat [[fault:{fault}]]")
        assert harness.channel.last().reply.text.startswith("⚠️")  # type: ignore[union-attr]
    store = harness.services.store
    assert not await store.list_jobs([JobStatus.SUBMITTING, JobStatus.PENDING])
    settled = await store.list_jobs([JobStatus.FAILURE, JobStatus.UNKNOWN])
    assert len(settled) == 2
    # Both already told the user; a restart must not report them again.
    assert not await store.list_undelivered()


async def test_a_stuck_job_fails_at_the_deadline_with_a_message(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with running_harness(fast_settings(tmp_path, mj_task_deadline_s=0.5), sandbox) as h:
        await h.command("imagine", "a cat [[fault:stuck]]")
        shown = await wait_text(h, "did not finish within")
        assert "a cat" in shown.reply.text  # type: ignore[union-attr]
        await settle(h)
        (job,) = await h.services.store.list_jobs([JobStatus.FAILURE])
        assert job.delivered and job.fail_reason == "deadline"


async def test_poll_errors_do_not_stop_the_tracker(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("imagine", "a cat")
    polls = sandbox.hits[POLL]
    sandbox.set_fault("500")
    try:
        await until(lambda: sandbox.hits[POLL] >= polls + 3)
    finally:
        sandbox.set_fault(None)
    await until(lambda: bool(results(harness)))
    assert harness.tracker.pending_count() == 0
