"""The HTTP side: post, edit and delete channel messages and interaction (webhook) messages.

An interaction message is edited through its token while the token lives (15 minutes); after
that the content is posted in the channel instead, mentioning the interaction's owner.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import discord

from adapters.discord.buttons import button_view
from adapters.discord.mentions import NOBODY, owner_only
from adapters.discord.pacing import GlobalBudget
from adapters.discord.refs import ChannelMessage, InteractionMessage, Ref
from adapters.discord.render import Upload
from adapters.discord.texts import text
from bot.replies import Button
from storage.discord_interactions import InteractionRecord, InteractionStore

log = logging.getLogger(__name__)

Rows = tuple[tuple[Button, ...], ...]
MISSING = discord.utils.MISSING


class Messenger:
    """Every request that shows something goes through here, with restrictive mentions."""

    def __init__(self, client: discord.Client, store: InteractionStore, budget: GlobalBudget,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.store = store
        self.budget = budget
        self.clock = clock

    def webhook(self, record: InteractionRecord) -> discord.Webhook:
        return discord.Webhook.partial(int(record.application_id), record.token,
                                       client=self.client)

    async def live_record(self, interaction_id: int) -> InteractionRecord | None:
        """The interaction's record if its token can still be used."""
        record = await self.store.get(str(interaction_id))
        if record is None or not record.token or not record.token_alive(self.clock()):
            return None
        return record

    async def post(self, channel_id: int, content: str | None, *,
                   uploads: Sequence[Upload] = (), rows: Rows = (), reply_to: int | None = None,
                   mentions: discord.AllowedMentions = NOBODY) -> ChannelMessage:
        """A new message in a channel (a reply to `reply_to` when given)."""
        await self.budget.take()
        channel = self.client.get_partial_messageable(channel_id)
        view = button_view(rows)
        files = [u.file() for u in uploads] or MISSING
        if reply_to:
            reference = discord.MessageReference(message_id=reply_to, channel_id=channel_id,
                                                 fail_if_not_exists=False)
            message = await channel.send(content or None, files=files, view=view or MISSING,
                                         allowed_mentions=mentions, reference=reference)
        else:
            message = await channel.send(content or None, files=files, view=view or MISSING,
                                         allowed_mentions=mentions)
        return ChannelMessage(channel_id, message.id)

    async def followup(self, record: InteractionRecord, content: str | None, *,
                       uploads: Sequence[Upload] = (), rows: Rows = ()) -> InteractionMessage:
        """A follow-up message of a live interaction."""
        view = button_view(rows)
        message = await self.webhook(record).send(
            content or MISSING, files=[u.file() for u in uploads] or MISSING,
            view=view or MISSING, allowed_mentions=NOBODY, wait=True)
        return InteractionMessage(int(record.interaction_id), message.id)

    async def edit(self, ref: Ref, content: str | None, *, chat_id: int,
                   uploads: Sequence[Upload] | None = None, rows: Rows | None = None,
                   result: bool = True) -> Ref:
        """Edit a message. `uploads`/`rows` None keep what it has; () removes them.

        Returns the ref that now shows the content: a new channel message when an
        interaction's token has died (naming its owner when it is a `result`, not progress).
        """
        files: list[discord.File] | None = None if uploads is None else [u.file() for u in uploads]
        view: discord.ui.View | None = None
        if rows is not None:
            view = button_view(rows)
        if isinstance(ref, InteractionMessage):
            record = await self.live_record(ref.interaction_id)
            if record is None:
                return await self._late(ref, content, chat_id, uploads or (), rows or (), result)
            await self.webhook(record).edit_message(
                ref.message_id, content=content, allowed_mentions=NOBODY,
                attachments=files if files is not None else MISSING,
                view=view if rows is not None else MISSING)
            return ref
        await self.budget.take()
        message = self.client.get_partial_messageable(ref.channel_id).get_partial_message(
            ref.message_id)
        await message.edit(content=content, allowed_mentions=NOBODY,
                           attachments=files if files is not None else MISSING,
                           view=view if rows is not None else MISSING)
        return ref

    async def _late(self, ref: InteractionMessage, content: str | None, chat_id: int,
                    uploads: Sequence[Upload], rows: Rows, result: bool) -> ChannelMessage:
        """The token is gone: post in the channel; a result mentions its owner (that ping only)."""
        record = await self.store.get(str(ref.interaction_id))
        if record is None or not result:
            return await self.post(chat_id, content, uploads=uploads, rows=rows,
                                   reply_to=ref.message_id)
        mention = f"<@{record.user_id}>"
        lead = text(record.language or "en", "late_result", mention=mention)
        body = f"{lead}\n{content}" if content else lead
        if len(body) > 2000:
            body = body[:1999] + "…"
        return await self.post(int(record.channel_id), body, uploads=uploads, rows=rows,
                               reply_to=ref.message_id, mentions=owner_only(record.user_id))

    async def delete(self, ref: Ref) -> None:
        """Delete a message; one already gone is fine."""
        try:
            if isinstance(ref, InteractionMessage):
                record = await self.live_record(ref.interaction_id)
                if record is not None:
                    await self.webhook(record).delete_message(ref.message_id)
                    return
                ref = ChannelMessage(int((await self._channel_of(ref)) or 0), ref.message_id)
                if not ref.channel_id:
                    return
            await self.budget.take()
            await self.client.get_partial_messageable(ref.channel_id).get_partial_message(
                ref.message_id).delete()
        except discord.NotFound:
            pass

    async def _channel_of(self, ref: InteractionMessage) -> str | None:
        record = await self.store.get(str(ref.interaction_id))
        return None if record is None else record.channel_id

    async def typing(self, channel_id: int) -> None:
        await self.budget.take()
        await self.client.get_partial_messageable(channel_id).typing()
