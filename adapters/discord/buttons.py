"""Persistent buttons: a `DynamicItem` whose custom_id carries the core's button token.

discord.py matches a press on the custom_id's pattern alone, so buttons keep working hours
later and after a restart, with nothing kept in memory per message.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.replies import Button

if TYPE_CHECKING:
    from discord.ui import Item

log = logging.getLogger(__name__)

PREFIX = "mb:"
MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_LABEL = 80


class PressHandler(Protocol):
    async def press(self, interaction: discord.Interaction[Any], token: str) -> None: ...


class HasPressHandler(Protocol):
    @property
    def handler(self) -> PressHandler: ...


class TokenButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"mb:(?P<token>[A-Za-z0-9_\-]{1,90})",
):
    """A button standing for one core token (custom_id `mb:<token>`, well under 100 chars)."""

    def __init__(self, token: str, label: str = "", emoji: str = "") -> None:
        super().__init__(discord.ui.Button(
            style=discord.ButtonStyle.secondary, custom_id=f"{PREFIX}{token}",
            label=label[:MAX_LABEL] or None, emoji=_emoji(emoji),
        ))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Item[Any], match: re.Match[str], /
    ) -> TokenButton:
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client: HasPressHandler = interaction.client
        await client.handler.press(interaction, self.token)


def _emoji(text: str) -> discord.PartialEmoji | None:
    if not text:
        return None
    return discord.PartialEmoji.from_str(text)


def button_view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """The rows as a view of at most 5 rows of 5 (extra buttons are dropped, and logged).

    The view is stopped before it is sent: presses reach `TokenButton` by custom_id, so
    discord.py need not keep a view per message.
    """
    flat = [(r, b) for r, row in enumerate(rows) for b in row]
    if not flat:
        return None
    view = discord.ui.View(timeout=None)
    row_index, used = 0, 0
    previous_row = flat[0][0]
    for source_row, button in flat:
        if source_row != previous_row or used == MAX_PER_ROW:
            row_index, used, previous_row = row_index + 1, 0, source_row
        if row_index >= MAX_ROWS:
            log.warning("dropped %d buttons past 5 rows", len(flat) - len(view.children))
            break
        item = TokenButton(button.token, button.label, button.emoji)
        if not button.label and not button.emoji:
            item.item.label = button.caption
        item.row = row_index
        view.add_item(item)
        used += 1
    view.stop()
    return view
