"""Modals for the core's text requests (Vary (Region), Custom Zoom, remix prompts).

The modal is sent as the press's first response with custom_id `mbm:<token>`; its submit is
read from the raw interaction (no modal object kept in memory), so it works after a restart.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.replies import TextRequest

PREFIX = "mbm:"
FIELD_ID = "text"


def text_modal(token: str, request: TextRequest) -> discord.ui.Modal:
    """A one-field modal asking for `request`'s text; stopped, so discord.py does not keep it."""
    modal = discord.ui.Modal(title=(request.title or "…")[:45], custom_id=f"{PREFIX}{token}",
                             timeout=None)
    modal.add_item(discord.ui.TextInput(
        label=(request.label or request.title or "…")[:45], custom_id=FIELD_ID,
        style=discord.TextStyle.paragraph, default=request.default[:4000] or None,
        placeholder=request.placeholder[:100] or None,
        max_length=max(1, min(4000, request.max_length)), required=True,
    ))
    modal.stop()
    return modal


def submitted(data: dict[str, Any] | None) -> tuple[str, str] | None:
    """(token, text) of a modal submit we made; None for anything else."""
    if not data:
        return None
    custom_id = str(data.get("custom_id") or "")
    if not custom_id.startswith(PREFIX):
        return None
    for component in _inputs(data.get("components") or []):
        if component.get("custom_id") == FIELD_ID:
            return custom_id[len(PREFIX):], str(component.get("value") or "")
    return custom_id[len(PREFIX):], ""


def _inputs(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Action rows (type 1) hold the inputs; the newer Label (type 18) holds one `component`.
    found: list[dict[str, Any]] = []
    for component in components:
        if "components" in component:
            found.extend(_inputs(component["components"]))
        elif "component" in component:
            found.append(component["component"])
        else:
            found.append(component)
    return found
