"""Buttons as numbers: each button shown gets a number unique for the session, pressable later."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.channel import MessageRef
from bot.replies import Button


@dataclass(frozen=True, slots=True)
class PlacedButton:
    """A button as shown in the console: its number, token, and the message that carries it."""

    number: int
    button: Button
    message: MessageRef


class ButtonBoard:
    """Numbers buttons in the order they are shown; a token shown again keeps its number."""

    def __init__(self) -> None:
        self._by_number: dict[int, PlacedButton] = {}
        self._by_token: dict[str, int] = {}
        self._next = 1
        self._changed = asyncio.Event()

    def place(self, button: Button, message: MessageRef) -> PlacedButton:
        """The number for this button, giving it a new one the first time its token is seen."""
        number = self._by_token.get(button.token)
        if number is None:
            number = self._next
            self._next += 1
            self._by_token[button.token] = number
        placed = PlacedButton(number, button, message)
        self._by_number[number] = placed
        # Wake every waiter, then start a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()
        return placed

    def get(self, number: int) -> PlacedButton | None:
        return self._by_number.get(number)

    async def wait_for(self, number: int, bound_s: float) -> PlacedButton | None:
        """The button numbered `number`, waiting up to `bound_s` seconds for it to be shown."""
        try:
            async with asyncio.timeout(bound_s):
                while (placed := self._by_number.get(number)) is None:
                    await self._changed.wait()
        except TimeoutError:
            return None
        return placed
