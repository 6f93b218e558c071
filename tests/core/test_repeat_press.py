"""Pressing the same action twice on one grid shows the first run again instead of paying twice."""

from __future__ import annotations

import asyncio

from bot.inbound import Accepted
from bot.sandbox.server import SandboxServer
from tests.core.mj_helpers import (
    SUBMIT_ACTION,
    button,
    captions,
    imagine_result,
    results,
    settle,
    wait_results,
)
from tests.support.harness import Harness


async def test_a_second_u1_shows_the_upscale_again_and_sends_nothing(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    u1 = button(grid, "U1").token
    await harness.press(u1)
    first = (await wait_results(harness, 2))[-1]
    await settle(harness)

    answer = await harness.press(u1)
    assert isinstance(answer, Accepted)
    again = (await wait_results(harness, 3))[-1]
    assert sandbox.hits[SUBMIT_ACTION] == 1
    assert again.reply is not None and len(again.reply.images) == 1
    assert again.reply.images[0].data == first.reply.images[0].data  # type: ignore[union-attr]
    # The upscale's own buttons again, and no "Again": the same upscale gives the same picture.
    assert captions(again) == captions(first)


async def test_a_double_press_pays_once_even_while_the_first_is_being_sent(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    u2 = button(grid, "U2").token
    await asyncio.gather(harness.press(u2, wait=False), harness.press(u2, wait=False))
    await harness.bot.drain()
    await settle(harness)
    assert sandbox.hits[SUBMIT_ACTION] == 1
    # The second press found the first's job: still running, or finished and shown again.
    running = any("already running" in t for t in harness.channel.texts())
    assert running or len(results(harness)) == 3


async def test_a_repeated_variation_offers_again_which_runs_it_once_more(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    v1 = button(grid, "V1").token
    await harness.press(v1)
    await wait_results(harness, 2)
    await settle(harness)

    await harness.press(v1)
    shown = (await wait_results(harness, 3))[-1]
    assert sandbox.hits[SUBMIT_ACTION] == 1
    assert captions(shown)[-1] == ["🔁 Again"]

    await harness.press(button(shown, "🔁 Again").token)
    await wait_results(harness, 4)
    await settle(harness)
    assert sandbox.hits[SUBMIT_ACTION] == 2


async def test_reroll_is_always_new(harness: Harness, sandbox: SandboxServer) -> None:
    grid = await imagine_result(harness, "a red fox")
    reroll = button(grid, "🔄").token
    for expected in (2, 3):
        await harness.press(reroll)
        await wait_results(harness, expected)
        await settle(harness)
    assert sandbox.hits[SUBMIT_ACTION] == 2
