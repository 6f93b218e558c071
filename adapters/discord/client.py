"""The discord.py client: app commands synced at start, persistent buttons, modal submits,
mentions and DMs as questions, and optional automatic transcription of voice messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands

from adapters.discord.attachments import Wanted, audio_of, download, mime_of
from adapters.discord.buttons import TokenButton
from adapters.discord.channel import PLATFORM, DiscordChannel
from adapters.discord.commands import Localizer, build_command, chinese_table, transcribe_menu
from adapters.discord.interactions import Interactions
from adapters.discord.modals import PREFIX as MODAL_PREFIX
from adapters.discord.redaction import describe_error
from adapters.discord.refs import ChannelMessage
from bot.channel import Actor, ChatRef, MessageRef
from bot.inbound import Attachment, CommandRequest, Inbound

log = logging.getLogger(__name__)


class BridgeClient(discord.Client):
    """A `discord.Client` wired to the core through `Interactions`."""

    def __init__(self, inbound: Inbound, *,
                 guild_ids: Iterable[int] = (), auto_transcribe: Iterable[int] = (),
                 **options: Any) -> None:
        auto = set(auto_transcribe)
        intents = discord.Intents.default()
        # Reading attachments of messages that do not mention the bot needs the privileged
        # message-content intent: asked for only when an operator lists channels.
        intents.message_content = bool(auto)
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(),
                         **options)
        self.inbound = inbound
        self.press_handler: Interactions | None = None
        self.bridge_channel: DiscordChannel | None = None
        self.tree = app_commands.CommandTree(self)
        self._guild_ids = list(guild_ids)
        self._auto = auto
        self._tasks: set[asyncio.Task[Any]] = set()

    def attach(self, handler: Interactions, channel: DiscordChannel) -> None:
        """Connect the handlers (made after the client, since they send through it)."""
        self.press_handler = handler
        self.bridge_channel = channel

    @property
    def handler(self) -> Interactions:
        if self.press_handler is None:
            raise RuntimeError("BridgeClient.attach() was not called")
        return self.press_handler

    async def setup_hook(self) -> None:
        self.add_dynamic_items(TokenButton)
        english = self.inbound.commands("en")
        await self.tree.set_translator(Localizer(chinese_table(english,
                                                               self.inbound.commands("zh"))))
        for info in english:
            self.tree.add_command(build_command(info, self.handler))
        self.tree.add_command(transcribe_menu(self.handler))
        if self._guild_ids:
            for guild_id in self._guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        data: Any = interaction.data or {}
        if interaction.type == discord.InteractionType.modal_submit and str(
                data.get("custom_id", "")).startswith(MODAL_PREFIX):
            await self.handler.modal_submit(interaction)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        private = message.guild is None
        mentioned = self.user in message.mentions
        auto = message.channel.id in self._auto and audio_of(message) is not None
        if not (private or mentioned or auto):
            return
        try:
            with self.handler.running():
                await self._ask(message, private)
        except Exception as exc:
            log.warning("a message could not be handled: %s", describe_error(exc))

    async def _ask(self, message: discord.Message, private: bool) -> None:
        guild = message.guild
        chat = ChatRef(PLATFORM, str(message.channel.id), is_private=private,
                       guild_id=str(guild.id) if guild is not None else None)
        text = message.content
        if self.user is not None:
            for form in (f"<@{self.user.id}>", f"<@!{self.user.id}>"):
                text = text.replace(form, "")
        attachments: list[Attachment] = []
        audio = audio_of(message)
        if audio is not None and audio.size <= 25 * 1024 * 1024:
            attachments.append(await download(Wanted("audio", audio)))
        for att in message.attachments:
            if att is not audio and mime_of(att).startswith("image/") \
                    and att.size <= 10 * 1024 * 1024:
                attachments.append(await download(Wanted("image", att)))
        actor = Actor(PLATFORM, str(message.author.id), name=message.author.display_name)
        request = CommandRequest(
            actor=actor, chat=chat, command="", text=text.strip(),
            attachments=tuple(attachments),
            message=MessageRef(chat, ChannelMessage(message.channel.id, message.id).encode()))
        await self.inbound.handle_message(request, self.handler.channel)
