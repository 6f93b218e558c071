"""The whole bot on Telegram: the core on the sandbox, the adapter on the fake Bot API."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PIL import Image as PILImage

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.pacing import GlobalLimit, Pace, Pacer
from bot.app import Core, build_core, close_core
from bot.sandbox.server import SandboxServer
from storage.sql_store import SqlStore
from tests.core.conftest import fast_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_model import ChatMessage
from tests.telegram.support import TOKEN, wait_for

# Behaviour tests run the fake without flood limits and pace only lightly; pacing itself is
# tested with the limits on (test_adapter.py, bench/telegram.py).
QUICK = Pace(rate=50.0, burst=50.0, edit_gap=0.05, progress_gap=0.1)


def quick_pacer() -> Pacer:
    return Pacer(QUICK, QUICK, GlobalLimit(500.0, 500.0))


@dataclass
class TelegramBot:
    """The running bot and the fake Telegram it talks to."""

    core: Core
    adapter: TelegramAdapter
    fake: FakeTelegram

    async def answer_in(self, chat_id: int, needle: str, bound: float = 15.0) -> ChatMessage:
        """Wait for a bot message in `chat_id` whose text contains `needle`."""
        found = await wait_for(
            lambda: [m for m in self.fake.bot_messages(chat_id) if needle in m.text],
            bound, f"{needle!r} in chat {chat_id}",
        )
        return found[-1]

    async def photo_in(self, chat_id: int, count: int = 1, bound: float = 20.0) -> ChatMessage:
        """Wait for the `count`-th photo with buttons (a Midjourney result) in the chat."""
        found = await wait_for(
            lambda: (lambda r: r if len(r) >= count else None)(self.results(chat_id)),
            bound, f"{count} results in chat {chat_id}",
        )
        return found[count - 1]

    def results(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.fake.bot_messages(chat_id) if m.kind == "photo" and m.buttons]


def button(message: ChatMessage, label: str) -> str:
    """The callback data of the button whose text contains `label`."""
    for row in message.buttons:
        for b in row:
            if label in b["text"]:
                return str(b["callback_data"])
    labels = [b["text"] for row in message.buttons for b in row]
    raise AssertionError(f"no {label!r} button in {labels}")


@contextlib.asynccontextmanager
async def telegram_bot(
    tmp_path: Path, sandbox: SandboxServer, fake: FakeTelegram, *, grace_s: float = 5.0,
    **settings: Any,
) -> AsyncIterator[TelegramBot]:
    """Start the bot as `modelbridge run` does with a token; stop it on exit (`grace_s` 0:
    no waiting for work in flight, as in a crash)."""
    config = fast_settings(
        tmp_path, telegram_bot_token=TOKEN, telegram_api_base_url=fake.url, **settings
    )
    core = await build_core(config, upstream_url=sandbox.url, api_key="sk-test-key-123")
    store = core.services.store
    assert isinstance(store, SqlStore)
    adapter = TelegramAdapter(
        core.dispatcher, store.engine, TOKEN, fake.url, poll_timeout=1.0, pacer=quick_pacer()
    )
    try:
        await adapter.connect()
        core.services.channels[adapter.platform] = adapter.channel
        await core.tracker.start()
        await adapter.start()
        yield TelegramBot(core, adapter, fake)
    finally:
        await adapter.stop(grace_s=grace_s)
        await close_core(core)


def png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), colour).save(out, format="PNG")
    return out.getvalue()


def voice_note(seconds: float = 1.0) -> bytes:
    """A real Ogg/Opus voice note, as Telegram clients record them."""
    rate = 48000
    t = np.linspace(0, seconds, int(rate * seconds), endpoint=False)
    out = io.BytesIO()
    sf.write(out, 0.2 * np.sin(2 * np.pi * 440 * t), rate, format="OGG", subtype="OPUS")
    return out.getvalue()
