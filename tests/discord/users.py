"""What users do in the fake Discord: run slash commands, press buttons, submit modals."""

from __future__ import annotations

from typing import Any

from tests.fakes import discord_payloads as p
from tests.fakes.discord_api import FakeDiscord, Inter

ALICE, BOB = "400000000000000001", "400000000000000002"


async def slash(fake: FakeDiscord, command: str, /, *, user: str = ALICE,
                channel: str | None = None, locale: str = "en-US",
                files: dict[str, tuple[bytes, str, str]] | None = None,
                size_limit: int = p.DEFAULT_SIZE_LIMIT, **options: Any) -> Inter:
    """/command option:value ...; `files` maps an option to (data, content_type, filename)."""
    opts: list[dict[str, Any]] = []
    for key, value in options.items():
        kind = 5 if isinstance(value, bool) else 3
        opts.append({"name": key, "type": kind, "value": value})
    resolved: dict[str, Any] = {}
    for key, (data, ctype, filename) in (files or {}).items():
        att_id = p.snowflake()
        url = fake.add_file(f"{att_id}-{filename}", data, ctype)
        resolved[att_id] = {"id": att_id, "filename": filename, "size": len(data), "url": url,
                            "proxy_url": url, "content_type": ctype}
        opts.append({"name": key, "type": 11, "value": att_id})
    command_id = next((c["id"] for scope in fake.commands.values() for c in scope
                       if c["name"] == command), p.snowflake())
    data: dict[str, Any] = {"id": command_id, "name": command, "type": 1, "options": opts}
    if resolved:
        data["resolved"] = {"attachments": resolved}
    return await fake.interact(p.interaction(
        2, data, user_id=user, channel_id=channel or fake.channel_ids[0], locale=locale,
        size_limit=size_limit))


async def imagine_grid(fake: FakeDiscord) -> tuple[Inter, dict[str, Any]]:
    """/imagine a cat, then the grid message once its buttons show."""
    inter = await slash(fake, "imagine", prompt="a cat")
    await fake.wait_for(lambda: (m := fake.original(inter)) and m["components"])
    grid = fake.original(inter)
    assert grid is not None
    return inter, grid


async def press(fake: FakeDiscord, message: dict[str, Any], custom_id: str, *,
                user: str = ALICE) -> Inter:
    return await fake.interact(p.interaction(
        3, {"custom_id": custom_id, "component_type": 2}, user_id=user,
        channel_id=message["channel_id"], msg=message))


async def submit_modal(fake: FakeDiscord, opened: Inter, value: str, *,
                       user: str = ALICE) -> Inter:
    """Fill the modal `opened` showed, and submit it."""
    modal = opened.modal or {}
    field_ids = [c["custom_id"] for row in modal.get("components", [])
                 for c in (row.get("components") or [row.get("component", {})])]
    data = {"custom_id": modal["custom_id"], "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": field_ids[0], "value": value}]}]}
    return await fake.interact(p.interaction(5, data, user_id=user,
                                             channel_id=opened.channel_id,
                                             msg=opened.payload.get("message")))


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row.get("components", [])]


def button(message: dict[str, Any], label: str) -> str:
    return next(b["custom_id"] for b in buttons_of(message) if b.get("label") == label)
