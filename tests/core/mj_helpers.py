"""Helpers for the Midjourney core tests: real PNGs, finding results and buttons in the chat."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable

from PIL import Image as PILImage

from bot.inbound import Attachment
from bot.replies import Button
from bot.sandbox.server import SandboxServer
from tests.support.harness import Harness
from tests.support.recording import Shown

SUBMIT_IMAGINE = "POST /mj/submit/imagine"
SUBMIT_ACTION = "POST /mj/submit/action"
SUBMIT_MODAL = "POST /mj/submit/modal"
POLL = "POST /mj/task/list-by-condition"


def png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48)) -> bytes:
    """A real PNG picture."""
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def image(colour: tuple[int, int, int] = (200, 30, 30), name: str = "pic.png") -> Attachment:
    """A PNG attachment as an adapter hands it over."""
    return Attachment(png(colour), "image/png", name)


def results(h: Harness, chat: str | None = None) -> list[Shown]:
    """Messages that carry a finished image (what the user sees as a result)."""
    return [
        s
        for s in h.channel.messages
        if s.reply is not None
        and s.reply.images
        and (chat is None or s.ref.chat.chat_id == chat)
    ]


def with_text(h: Harness, needle: str) -> list[Shown]:
    """Messages whose current text contains `needle`."""
    return [s for s in h.channel.messages if s.reply is not None and needle in s.reply.text]


async def wait_results(h: Harness, count: int, chat: str | None = None) -> list[Shown]:
    """Wait until `count` results are shown; returns them in order."""
    await h.wait_for(lambda: len(results(h, chat)) >= count)
    return results(h, chat)


async def wait_text(h: Harness, needle: str) -> Shown:
    """Wait for a message containing `needle` and return the latest such."""
    await h.wait_for(lambda: bool(with_text(h, needle)))
    return with_text(h, needle)[-1]


def captions(shown: Shown) -> list[list[str]]:
    """The button rows as the user reads them."""
    assert shown.reply is not None
    return [[b.caption for b in row] for row in shown.reply.buttons]


def button(shown: Shown, caption: str) -> Button:
    """The button with exactly this caption (emoji + label)."""
    assert shown.reply is not None
    for row in shown.reply.buttons:
        for b in row:
            if b.caption == caption:
                return b
    raise AssertionError(f"no button {caption!r} in {captions(shown)}")


async def imagine_result(h: Harness, prompt: str = "a cat", **kw: object) -> Shown:
    """Run /imagine, wait for its finished grid and for the tracker to record it."""
    before = len(results(h))
    await h.command("imagine", prompt, **kw)  # type: ignore[arg-type]
    shown = (await wait_results(h, before + 1))[-1]
    await settle(h)
    return shown


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait for a condition outside the chat (e.g. sandbox hits); fails the test on timeout."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (sandbox counters have no event)
            await asyncio.sleep(0.01)


def hits(sandbox: SandboxServer, route: str) -> int:
    return sandbox.hits[route]


async def settle(h: Harness) -> None:
    """Wait until the tracker has nothing pending and every delivery has been recorded."""
    await h.bot.drain()
    assert await h.tracker.wait_idle(10.0), "the tracker did not settle"
