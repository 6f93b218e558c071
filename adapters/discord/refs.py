"""What a `MessageRef.message_id` holds for Discord (opaque to the core, stored with jobs).

- `m:<channel_id>:<message_id>` a message posted in a channel (edited through the channel).
- `i:<interaction_id>:<message_id>` a message of an interaction's webhook (its response or a
  follow-up); the token to edit it lives in the interaction store, never in the id itself.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    channel_id: int
    message_id: int

    def encode(self) -> str:
        return f"m:{self.channel_id}:{self.message_id}"


@dataclass(frozen=True, slots=True)
class InteractionMessage:
    interaction_id: int
    message_id: int

    def encode(self) -> str:
        return f"i:{self.interaction_id}:{self.message_id}"


Ref = ChannelMessage | InteractionMessage


def decode(message_id: str) -> Ref | None:
    """The ref an encoded id stands for; None for anything we did not make."""
    kind, _, rest = message_id.partition(":")
    first, _, second = rest.partition(":")
    if not (first.isdigit() and second.isdigit()):
        return None
    if kind == "m":
        return ChannelMessage(int(first), int(second))
    if kind == "i":
        return InteractionMessage(int(first), int(second))
    return None


def bucket(ref: Ref) -> str:
    """The rate-limit bucket a message's edits fall in: its interaction's token, or its channel.

    Discord limits webhook (interaction) requests per token and message edits per channel.
    """
    if isinstance(ref, InteractionMessage):
        return f"i{ref.interaction_id}"
    return f"c{ref.channel_id}"
