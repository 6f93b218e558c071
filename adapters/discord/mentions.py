"""Who a bot message may ping: nobody, except a job's owner when a result must reach them."""

from __future__ import annotations

import discord

NOBODY = discord.AllowedMentions.none()


def owner_only(user_id: str) -> discord.AllowedMentions:
    """Ping this one user (a result posted after the interaction expired) and nobody else."""
    return discord.AllowedMentions(
        everyone=False, roles=False, replied_user=False, users=[discord.Object(int(user_id))]
    )
