"""Per-chat switches: set once by an admin, read on every message, kept across restarts."""

from __future__ import annotations

from pathlib import Path

from storage import open_store
from storage.chat_settings import ChatSettingsStore, StoredChatSettings


async def test_a_switch_set_before_a_restart_is_read_from_memory_after_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = await open_store(url)
    try:
        first = ChatSettingsStore(store.engine, shared=store.shared)
        await first.load()
        await first.set("telegram", "-100", auto_transcribe=False)
    finally:
        await store.close()

    store = await open_store(url)
    try:
        again = ChatSettingsStore(store.engine, shared=store.shared)
        await again.load()
        await store.close()  # nothing is read from the database any more
        assert await again.get("telegram", "-100") == StoredChatSettings(auto_transcribe=False)
        assert await again.get("telegram", "-200") == StoredChatSettings()
    finally:
        await store.close()


async def test_a_shared_database_is_read_through_the_cache(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    store = await open_store(url)
    try:
        writer = ChatSettingsStore(store.engine, shared=True)
        reader = ChatSettingsStore(store.engine, shared=True)
        await reader.load()  # a no-op: another process may change any chat at any time
        await writer.set("discord", "42", answer_all=True)
        assert await reader.get("discord", "42") == StoredChatSettings(answer_all=True)
    finally:
        await store.close()
