"""Who may use the bot, and the switches an admin sets in a chat, as users see them."""

from __future__ import annotations

from pathlib import Path

from bot.channel import Actor, ChatRef
from bot.inbound import ChatSettings
from bot.policy import Cost
from bot.sandbox.server import SandboxServer
from storage.base import ConversationKey
from tests.core.conftest import fast_settings, running_harness
from tests.core.test_audio import voice_note
from tests.support.harness import Harness

CHAT_COMPLETIONS = "POST /v1/chat/completions"


async def test_a_user_not_on_the_allowlist_is_told_why_and_nothing_is_sent(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, allowed_users="test:alice", admins="test:root")
    async with running_harness(settings, sandbox) as h:
        await h.command("ask", "hello", user="mallory")
        assert h.channel.texts()[-1] == (
            "You can't use this command: this bot is only open to users the operator allowed."
        )
        assert sandbox.hits[CHAT_COMPLETIONS] == 0

        await h.command("ask", "hello", user="alice")
        await h.command("ask", "hello", user="root")  # admins pass every allowlist
        assert sandbox.hits[CHAT_COMPLETIONS] == 2


async def test_a_group_not_on_the_chat_allowlist_is_refused_but_private_chats_work(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, allowed_chats="test:team")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "a cat", chat="elsewhere", private=False)
        assert h.channel.texts("elsewhere")[-1].endswith("this bot is not enabled in this chat.")
        await h.command("ask", "hi", chat="team", private=False)
        await h.command("ask", "hi", chat="alice-dm", private=True)
        assert sandbox.hits[CHAT_COMPLETIONS] == 2
        assert sandbox.hits["POST /mj/submit/imagine"] == 0


async def test_a_guild_allowlist_lets_its_servers_in_and_tells_others_why(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, allowed_guilds="123")
    async with running_harness(settings, sandbox) as h:
        policy = h.services.policy
        allowed = ChatRef("discord", "554", is_private=False, guild_id="123")
        other = ChatRef("discord", "555", is_private=False, guild_id="999")
        unplaced = ChatRef("discord", "557", is_private=False)
        dm = ChatRef("discord", "556", is_private=True)
        actor = Actor("discord", "7")
        assert (await policy.check(actor, allowed, "ask", Cost("chat", 1))).allowed
        for chat in (other, unplaced):
            refused = await policy.check(actor, chat, "ask", Cost("chat", 1))
            assert not refused.allowed and refused.key == "policy.guild_not_allowed"
        assert (await policy.check(actor, dm, "ask", Cost("chat", 1))).allowed


async def test_settings_are_changed_by_admins_and_read_by_adapters(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, admins="test:root")
    group = ChatRef("test", "g", is_private=False)
    async with running_harness(settings, sandbox) as h:
        assert await h.bot.chat_settings(group) == ChatSettings(False, True, "user")

        await h.command("settings", "answer all", user="bob", chat="g", private=False)
        assert h.channel.texts("g")[-1] == (
            "Only the bot's admins can change this chat's settings."
        )
        options = {"answer": "all", "voice": "off", "context": "chat"}
        await h.command("settings", user="root", chat="g", private=False, options=options)
        shown = h.channel.texts("g")[-1]
        assert "answer: all" in shown and "voice: off" in shown and "context: chat" in shown
        assert await h.bot.chat_settings(group) == ChatSettings(True, False, "chat")

        await h.command("settings", "context user", user="dora", chat="dora-dm")
        assert "context: user" in h.channel.texts("dora-dm")[-1]  # her own private chat
        await h.command("settings", "answer sometimes", user="root", chat="g", private=False)
        assert h.channel.texts("g")[-1].startswith("Change with /settings")
    async with running_harness(settings, sandbox) as h:
        assert await h.bot.chat_settings(group) == ChatSettings(True, False, "chat")


async def test_a_chat_set_to_shared_context_shares_one_conversation(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, admins="test:root")
    async with running_harness(settings, sandbox) as h:
        await h.command("settings", "context chat", user="root", chat="g", private=False)
        await h.command("ask", "my name is Alice", user="alice", chat="g", private=False)
        await h.command("ask", "who spoke before me?", user="bob", chat="g", private=False)
        shared = await h.services.store.load_context(ConversationKey("test", "g"))
        assert [m.role for m in shared] == ["user", "assistant", "user", "assistant"]


async def test_lang_overrides_the_platform_language_until_auto(harness: Harness) -> None:
    await harness.command("lang", "zh")
    assert harness.channel.texts()[-1] == "✅ 之后我会用 中文 回复你。"
    await harness.command("nonsense")
    assert harness.channel.texts()[-1].startswith("未知命令")

    await harness.command("lang", "auto")
    await harness.command("nonsense")
    assert harness.channel.texts()[-1].startswith("Unknown command")
    await harness.command("lang", "klingon")
    assert harness.channel.texts()[-1].startswith("I don't speak klingon yet.")


async def test_commands_are_turned_away_once_shutdown_begins(harness: Harness) -> None:
    harness.bot.stop_accepting()
    await harness.command("ask", "still there?")
    assert harness.channel.texts()[-1] == "The bot is restarting. Please try again in a minute."


async def test_voice_notes_are_left_alone_where_automatic_transcription_is_off(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("settings", "voice off")  # alice's private chat c1
    await harness.message(attachments=(voice_note(1.0),))
    assert sandbox.hits["POST /v1/audio/transcriptions"] == 0
    await harness.command("settings", "voice on")
    await harness.message(attachments=(voice_note(1.0),))
    assert sandbox.hits["POST /v1/audio/transcriptions"] == 1
