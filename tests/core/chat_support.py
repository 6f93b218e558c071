"""Helpers for the chat and audio tests: a channel that keeps every edit, audio and image bytes."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image as PILImage

from bot.app import close_core
from bot.channel import MessageRef
from bot.context import conversation_key
from bot.replies import Reply
from bot.sandbox.server import SandboxServer
from storage.base import ConversationKey, StoredMessage
from tests.core.conftest import fast_settings, start_harness
from tests.support.harness import Harness
from tests.support.recording import RecordingChannel


class HistoryChannel(RecordingChannel):
    """A RecordingChannel that also keeps every text each message showed, in order."""

    def __init__(self, platform: str = "test") -> None:
        super().__init__(platform)
        self.history: dict[str, list[str]] = {}

    async def send(
        self, chat: Any, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        ref = await super().send(chat, reply, reply_to=reply_to)
        self.history[ref.message_id] = [reply.text]
        return ref

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        self.history.setdefault(message.message_id, []).append(reply.text)
        return await super().edit(message, reply)


@asynccontextmanager
async def chat_harness(
    tmp_path: Path, sandbox: SandboxServer, **overrides: object
) -> AsyncIterator[Harness]:
    """The standard harness with settings overridden and a HistoryChannel."""
    h = await start_harness(fast_settings(tmp_path, **overrides), sandbox)
    channel = HistoryChannel("test")
    h.services.channels["test"] = channel
    h.channel = channel
    try:
        yield h
    finally:
        await close_core(h.core)


def key_of(
    h: Harness, user: str = "alice", chat: str = "c1", private: bool = True
) -> ConversationKey:
    """The conversation key the bot uses for this user in this chat."""
    return conversation_key(h.chat(chat, private), h.actor(user), h.services.settings.context_scope)


async def stored(
    h: Harness, user: str = "alice", chat: str = "c1", limit: int = 1000
) -> list[StoredMessage]:
    """The context the bot would load for this user now."""
    return await h.services.store.load_context(key_of(h, user, chat), limit)


def last_text(h: Harness) -> str:
    reply = h.channel.last().reply
    assert reply is not None
    return reply.text


def ogg_opus(seconds: float = 1.0, rate: int = 48000) -> bytes:
    """A real Ogg/Opus recording (a tone) as a voice note would carry."""
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 440 * t), rate, format="OGG", subtype="OPUS")
    return buf.getvalue()


def png(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def context_count(text: str) -> int:
    """M of the sandbox's `[context: M messages]`."""
    marker = "[context: "
    start = text.index(marker) + len(marker)
    return int(text[start:].split(" ", 1)[0])


