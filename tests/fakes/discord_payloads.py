"""Gateway and REST objects shaped as discord.py 2.7 accepts them (platforms.md 2.2)."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
APP_ID = "900000000000000001"
GUILD_ID = "900000000000000002"
BOT_USER = {"id": APP_ID, "username": "modelbridge", "discriminator": "0", "global_name": None,
            "avatar": None, "bot": True}
DEFAULT_SIZE_LIMIT = 10 * 1024 * 1024

_counter = itertools.count(1)


def snowflake() -> str:
    """A fresh id that encodes now, as Discord's do (discord.py reads creation times from it)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | (next(_counter) & 0x3FFFFF))


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def user(user_id: str, name: str = "") -> dict[str, Any]:
    return {"id": user_id, "username": name or f"user{user_id[-4:]}", "discriminator": "0",
            "global_name": name or None, "avatar": None}


def member(user_id: str, name: str = "") -> dict[str, Any]:
    return {"user": user(user_id, name), "roles": [], "joined_at": now_iso(),
            "permissions": "2251799813685247", "deaf": False, "mute": False, "flags": 0}


def text_channel(channel_id: str) -> dict[str, Any]:
    return {"id": channel_id, "type": 0, "name": f"chan-{channel_id[-4:]}", "position": 0,
            "guild_id": GUILD_ID, "permission_overwrites": [], "nsfw": False, "parent_id": None}


def guild(channel_ids: list[str]) -> dict[str, Any]:
    everyone = {"id": GUILD_ID, "name": "@everyone", "permissions": "2251799813685247",
                "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False}
    return {"id": GUILD_ID, "name": "test guild", "owner_id": "1", "roles": [everyone],
            "channels": [text_channel(c) for c in channel_ids], "members": [], "threads": [],
            "emojis": [], "stickers": [], "features": [], "member_count": 2, "large": False,
            "unavailable": False, "joined_at": now_iso(), "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "nsfw_level": 0, "premium_tier": 0, "preferred_locale": "en-US",
            "system_channel_flags": 0}


def application() -> dict[str, Any]:
    return {"id": APP_ID, "name": "modelbridge", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": user("1", "owner"),
            "verify_key": "00", "flags": 0}


def message(channel_id: str, content: str = "", *, author: dict[str, Any] | None = None,
            message_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Message object with every key discord.py reads."""
    return {"id": message_id or snowflake(), "channel_id": channel_id,
            "author": author or BOT_USER, "content": content, "timestamp": now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False, "type": 0,
            "flags": 0, "components": [], **extra}


def interaction(kind: int, data: dict[str, Any], *, user_id: str, channel_id: str,
                locale: str = "en-US", guild: bool = True,
                size_limit: int = DEFAULT_SIZE_LIMIT, msg: dict[str, Any] | None = None,
                ) -> dict[str, Any]:
    """An INTERACTION_CREATE `d`: 2 command, 3 component, 4 autocomplete, 5 modal submit."""
    body: dict[str, Any] = {
        "id": snowflake(), "application_id": APP_ID, "type": kind, "data": data,
        "token": f"itok-{snowflake()}-secretpart", "version": 1, "channel_id": channel_id,
        "channel": {"id": channel_id, "type": 0 if guild else 1}, "locale": locale,
        "app_permissions": "2251799813685247", "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD_ID} if guild else {"1": user_id},
        "context": 0 if guild else 1, "attachment_size_limit": size_limit,
    }
    if guild:
        body["guild_id"] = GUILD_ID
        body["channel"]["guild_id"] = GUILD_ID
        body["member"] = member(user_id)
    else:
        body["user"] = user(user_id)
    if msg is not None:
        body["message"] = msg
    return body
