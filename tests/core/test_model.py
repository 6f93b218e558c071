"""/model: the list with buttons, choosing by button or by name, and the operator's allowlist."""

from __future__ import annotations

from pathlib import Path

from bot.inbound import Notice
from bot.sandbox.server import SandboxServer
from tests.core.chat_support import chat_harness, last_text
from tests.support.harness import Harness


async def test_model_lists_chat_models_as_buttons(harness: Harness) -> None:
    await harness.command("model")
    shown = harness.channel.last().reply
    assert shown is not None
    assert shown.text.startswith("Your model: **gpt-4o-mini**")
    labels = [b.label for row in shown.buttons for b in row]
    assert "gpt-4o" in labels and "gpt-3.5-turbo" in labels and "stable-diffusion" in labels
    for not_chat in ("dall-e-3", "whisper-1", "tts-1", "text-embedding-3-small", "mj_imagine",
                     "swap_face"):
        assert not_chat not in labels and not_chat not in shown.text
    marked = [b.label for row in shown.buttons for b in row if b.emoji == "✅"]
    assert marked == ["gpt-4o-mini"]
    assert all(len(row) <= 3 for row in shown.buttons) and len(shown.buttons) <= 5


async def test_pressing_a_model_button_sets_it(harness: Harness, sandbox: SandboxServer) -> None:
    await harness.command("model")
    shown = harness.channel.last().reply
    assert shown is not None
    token = next(b.token for row in shown.buttons for b in row
                 if b.label == "gpt-3.5-turbo-instruct")
    await harness.press(token)
    assert last_text(harness) == "✅ From now on your questions go to **gpt-3.5-turbo-instruct**."
    prefs = await harness.services.store.get_prefs("test", "alice")
    assert prefs.model == "gpt-3.5-turbo-instruct"
    await harness.command("ask", "hi")
    assert sandbox.hits["POST /v1/completions"] == 1


async def test_someone_elses_model_button_is_refused(harness: Harness) -> None:
    await harness.command("model", chat="g1")
    shown = harness.channel.last().reply
    assert shown is not None
    before = len(harness.channel.messages)
    answer = await harness.press(shown.buttons[0][0].token, user="bob", chat="g1")
    assert answer == Notice("Only the person who started this job can use its buttons.")
    assert len(harness.channel.messages) == before
    assert (await harness.services.store.get_prefs("test", "bob")).model is None


async def test_model_by_name_sets_it_and_shows_it(harness: Harness) -> None:
    await harness.command("model", "GPT-4o")
    assert last_text(harness) == "✅ From now on your questions go to **gpt-4o**."
    await harness.command("model")
    assert last_text(harness).startswith("Your model: **gpt-4o**")


async def test_unknown_model_is_refused_with_the_choices(harness: Harness) -> None:
    await harness.command("model", "gpt-99")
    text = last_text(harness)
    assert text.startswith("There is no model called gpt-99 here.")
    assert "gpt-4o-mini" in text
    assert (await harness.services.store.get_prefs("test", "alice")).model is None


async def test_allowlist_limits_the_choices(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with chat_harness(tmp_path, sandbox, allowed_models=["gpt-4o-mini", "gpt-4o"]) as h:
        await h.command("model")
        shown = h.channel.last().reply
        assert shown is not None
        assert [b.label for row in shown.buttons for b in row] == ["gpt-4o", "gpt-4o-mini"]
        await h.command("model", "gpt-3.5-turbo")
        assert last_text(h) == (
            "gpt-3.5-turbo is not allowed on this bot. Available models: gpt-4o, gpt-4o-mini"
        )
        assert (await h.services.store.get_prefs("test", "alice")).model is None


async def test_a_model_no_longer_allowed_falls_back_to_the_default(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with chat_harness(tmp_path, sandbox, allowed_models=["gpt-4o-mini"]) as h:
        await h.services.store.set_prefs("test", "alice", model="gpt-3.5-turbo-instruct")
        await h.command("ask", "hi")
        assert last_text(h) == "Echo: hi [context: 2 messages]"
    assert sandbox.hits["POST /v1/completions"] == 0
