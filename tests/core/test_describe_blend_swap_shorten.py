"""/describe, /blend, /swapface and /shorten as a user sees them, incl. their "Imagine" buttons."""

from __future__ import annotations

from bot.inbound import Attachment
from bot.sandbox.server import SandboxServer
from tests.core.mj_helpers import (
    SUBMIT_IMAGINE,
    button,
    captions,
    image,
    results,
    wait_results,
    wait_text,
)
from tests.support.harness import Harness

BLEND = "POST /mj/submit/blend"
DESCRIBE = "POST /mj/submit/describe"
SWAP = "POST /mj/insight-face/swap"


def last_text(h: Harness) -> str:
    reply = h.channel.last().reply
    assert reply is not None
    return reply.text


async def test_describe_gives_four_prompts_each_with_an_imagine_button(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("describe", attachments=(image((30, 60, 220)),))
    shown = await wait_text(harness, "Prompts for your image")

    text = shown.reply.text  # type: ignore[union-attr]
    for keycap in ("1️⃣", "2️⃣", "3️⃣", "4️⃣"):
        assert keycap in text
    assert "blue" in text
    assert captions(shown) == [["🎨 Imagine 1", "🎨 Imagine 2", "🎨 Imagine 3", "🎨 Imagine 4"]]

    await harness.press(button(shown, "🎨 Imagine 2").token)
    (grid,) = await wait_results(harness, 1)
    assert "blue abstract shapes" in grid.reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 1


async def test_describe_without_an_image_is_refused(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("describe")
    assert "Attach the image" in last_text(harness)
    await harness.command("describe", attachments=(Attachment(b"%PDF-1.4", "image/png", "a.pdf"),))
    assert "not an image" in last_text(harness)
    assert sandbox.hits[DESCRIBE] == 0


async def test_blend_of_three_images_gives_a_grid(
    harness: Harness, sandbox: SandboxServer
) -> None:
    pictures = (image((200, 0, 0)), image((0, 200, 0)), image((0, 0, 200)))
    await harness.command("blend", attachments=pictures, options={"dimensions": "landscape"})
    (grid,) = await wait_results(harness, 1)

    assert "Blend of 3 images" in grid.reply.text  # type: ignore[union-attr]
    assert captions(grid)[0] == ["U1", "U2", "U3", "U4", "🔄"]
    assert sandbox.hits[BLEND] == 1


async def test_blend_needs_two_to_five_images(harness: Harness, sandbox: SandboxServer) -> None:
    for count in (1, 6):
        await harness.command("blend", attachments=tuple(image() for _ in range(count)))
        assert f"2 to 5 images; you sent {count}" in last_text(harness)
    await harness.command("blend", attachments=(image(), image()), options={"dimensions": "round"})
    assert "portrait, square or landscape" in last_text(harness)
    assert sandbox.hits[BLEND] == 0


async def test_swapface_puts_a_face_on_the_target(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("swapface", attachments=(image((250, 200, 180)), image((20, 20, 20))))
    (result,) = await wait_results(harness, 1)

    assert result.reply is not None and len(result.reply.images) == 1
    assert "Face swap" in result.reply.text
    assert result.reply.buttons == ()
    assert sandbox.hits[SWAP] == 1


async def test_swapface_needs_exactly_two_images(harness: Harness, sandbox: SandboxServer) -> None:
    for count in (1, 3):
        await harness.command("swapface", attachments=tuple(image() for _ in range(count)))
        assert "exactly two images" in last_text(harness)
    assert sandbox.hits[SWAP] == 0


async def test_shorten_lists_shorter_prompts_with_imagine_buttons(
    harness: Harness, sandbox: SandboxServer
) -> None:
    long_prompt = "a majestic red fox standing in deep fresh snow under pale winter light --ar 3:2"
    await harness.command("shorten", long_prompt)
    shown = await wait_text(harness, "Shorter prompts")

    text = shown.reply.text  # type: ignore[union-attr]
    assert "5️⃣" in text and "IMPORTANT TOKENS" not in text
    rows = captions(shown)
    assert [c for row in rows for c in row] == [f"🎨 Imagine {n}" for n in range(1, 6)]

    await harness.press(button(shown, "🎨 Imagine 5").token)
    (grid,) = await wait_results(harness, 1)
    assert "a majestic red" in grid.reply.text  # type: ignore[union-attr]
    assert "--ar 3:2" in grid.reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_IMAGINE] == 1
    assert len(results(harness)) == 1


async def test_shorten_needs_a_prompt(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("shorten", "")
    assert "Please add a prompt after /shorten" in last_text(harness)
    assert sandbox.hits["POST /mj/submit/shorten"] == 0
