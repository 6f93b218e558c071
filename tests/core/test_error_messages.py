"""Every error the client can raise, rendered through the dispatcher, reads as one catalog sentence
in the user's language (English and Chinese)."""

from __future__ import annotations

import re

import pytest

from bot.channel import Actor
from bot.commands.registry import CommandSpec, command_table
from bot.dispatcher import Dispatcher
from bot.inbound import CommandRequest
from bot.sandbox.server import SandboxServer
from bot.services import CommandContext
from bot.upstream import errors
from tests.core.test_catalog import UPSTREAM_ERRORS, messages, reads_badly
from tests.support.harness import Harness

CASES = [
    *UPSTREAM_ERRORS,
    (errors.ConnectionFailed(maybe_charged=True), "upstream.maybe_charged", {}),
    (errors.UpstreamTimeout(maybe_charged=True), "upstream.maybe_charged", {}),
    (errors.ServerError(status=502, maybe_charged=True), "upstream.maybe_charged", {}),
]
# Words that stay in Latin letters in Chinese text: names, and the values of the cases above.
KEPT_LATIN = {"ai", "midjourney", "blood", "gpt"}


async def shown_for(
    harness: Harness, error: errors.UpstreamError, language: str
) -> str:
    async def boom(ctx: CommandContext) -> None:
        raise error

    bot = Dispatcher(harness.services, commands=command_table(CommandSpec("boom", "", boom)))
    chat = harness.chat("c-" + language)
    actor = Actor(harness.platform, "u-" + language, "u", language=language)
    await bot.handle_command(CommandRequest(actor, chat, "boom"), harness.channel)
    return harness.channel.last(chat.chat_id).reply.text  # type: ignore[union-attr]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_every_upstream_error_reads_as_one_sentence_in_the_users_language(
    harness: Harness, language: str
) -> None:
    catalog = messages(language)
    problems = []
    for error, key, values in CASES:
        shown = await shown_for(harness, error, language)
        if error.maybe_charged:  # e.g. a stream cut before any text: it may have been billed
            key, values = "upstream.maybe_charged", {}
        expected = catalog["error.upstream"].format(message=catalog[key].format(**values))
        if shown != expected:
            problems.append(f"{type(error).__name__}: {shown!r} != {expected!r}")
        if bad := reads_badly(shown):
            problems.append(f"{type(error).__name__}: {bad} in {shown!r}")
        if language == "zh":
            latin = {w.lower() for w in re.findall(r"[A-Za-z]+", shown)} - KEPT_LATIN
            if latin:
                problems.append(f"{type(error).__name__}: English words {latin} in {shown!r}")
    assert not problems, "\n".join(problems)


async def test_a_refused_midjourney_submit_is_told_in_chinese(
    harness: Harness, sandbox: SandboxServer
) -> None:
    chat = harness.chat("zh-chat")
    actor = Actor(harness.platform, "li", "li", language="zh")
    request = CommandRequest(actor, chat, "imagine", "一只猫 [[fault:queue_full]]")
    await harness.bot.handle_command(request, harness.channel)
    shown = harness.channel.last("zh-chat").reply.text  # type: ignore[union-attr]
    assert shown == "⚠️ " + messages("zh")["upstream.queue_full"]
