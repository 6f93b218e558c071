"""Upstream Midjourney buttons as neutral button rows, with tokens from the store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.replies import Button
from bot.services import Services
from storage.base import ButtonAction, JobRecord

MAX_PER_ROW = 5  # Discord's limit; Telegram takes more but wide rows wrap badly on phones

# The gateway routes only customIds it can map to an action (upstream-api.md §9.4); these
# first segments it refuses, so showing them would only produce errors.
_REFUSED_KINDS = frozenset({"Job", "Picread", "BOOKMARK"})
_GROUPS = ("grid_u", "grid_v", "edit", "zoom", "pan", "other")


@dataclass(frozen=True, slots=True)
class Wanted:
    """A button to show: what it does when pressed and how it looks."""

    kind: str
    payload: str
    label: str = ""
    emoji: str = ""
    group: str = "other"


def pressable(custom_id: str) -> bool:
    """Whether the gateway accepts this customId on /mj/submit/action."""
    parts = custom_id.split("::")
    return len(parts) >= 2 and parts[0] == "MJ" and parts[1] not in _REFUSED_KINDS


def row_group(custom_id: str) -> str:
    """Which row a button belongs to: U1–U4 + 🔄, V1–V4, upscale/vary, zoom, pan, other."""
    parts = custom_id.split("::")
    if len(parts) < 2:
        return "other"
    word = parts[2] if len(parts) > 2 and parts[1] == "JOB" else parts[1]
    if word in ("upsample", "reroll"):
        return "grid_u"
    if word == "variation":
        return "grid_v"
    if word.startswith(("upsample", "low_variation", "high_variation")) or word == "Inpaint":
        return "edit"
    if word in ("Outpaint", "CustomZoom"):
        return "zoom"
    if word.startswith("pan"):
        return "pan"
    return "other"


_PAN_ARROWS = {"pan_left": "⬅️", "pan_right": "➡️", "pan_up": "⬆️", "pan_down": "⬇️"}


def caption_for(custom_id: str) -> str:
    """A short name for a customId, as Midjourney labels it (upstream-api.md §9.4.1).

    Used when the parent's stored buttons are not at hand, e.g. a press that races the store
    write of a job that has just finished.
    """
    parts = custom_id.split("::")
    if len(parts) < 3:
        return ""
    if parts[1] == "JOB":
        word, index = parts[2], parts[3] if len(parts) > 3 else ""
        if word == "upsample":
            return f"U{index}"
        if word == "variation":
            return f"V{index}"
        if word == "reroll":
            return "🔄"
        if word.startswith("upsample"):
            return "Upscale (Subtle)" if word.endswith("subtle") else "Upscale (Creative)"
        if word in ("low_variation", "high_variation"):
            return "Vary (Subtle)" if word == "low_variation" else "Vary (Strong)"
        return _PAN_ARROWS.get(word, "")
    if parts[1] == "Inpaint":
        return "Vary (Region)"
    if parts[1] == "Outpaint":
        return "Zoom Out 2x" if parts[2] == "50" else "Zoom Out 1.5x"
    if parts[1] == "CustomZoom":
        return "Custom Zoom"
    return ""


def upstream_wanted(buttons: Sequence[dict[str, Any]]) -> list[Wanted]:
    """The job's stored upstream buttons that can be pressed, in the upstream's order."""
    wanted: list[Wanted] = []
    for button in buttons:
        custom_id = str(button.get("customId", ""))
        if not pressable(custom_id):
            continue
        wanted.append(
            Wanted(
                "mj",
                custom_id,
                str(button.get("label", "") or ""),
                str(button.get("emoji", "") or ""),
                row_group(custom_id),
            )
        )
    return wanted


def arrange(wanted: Sequence[Wanted], extra: Sequence[Wanted] = ()) -> list[list[Wanted]]:
    """Rows by group, each at most MAX_PER_ROW wide; `extra` joins the last row with room."""
    rows: list[list[Wanted]] = []
    for group in _GROUPS:
        members = [w for w in wanted if w.group == group]
        rows += [members[i : i + MAX_PER_ROW] for i in range(0, len(members), MAX_PER_ROW)]
    for item in extra:
        if rows and len(rows[-1]) < MAX_PER_ROW:
            rows[-1].append(item)
        else:
            rows.append([item])
    return rows


async def issue_rows(
    services: Services, job: JobRecord, rows: Sequence[Sequence[Wanted]]
) -> tuple[tuple[Button, ...], ...]:
    """Store one token per button (owned by the job's owner) and return the rows to show."""
    flat = [w for row in rows for w in row]
    if not flat:
        return ()
    expires = time.time() + services.settings.button_token_ttl_s
    actions = [
        ButtonAction(
            kind=w.kind,
            job_id=job.id,
            owner_id=job.owner_id,
            platform=job.platform,
            payload=w.payload,
            expires_at=expires,
        )
        for w in flat
    ]
    tokens = iter(await services.store.issue_tokens(actions))
    return tuple(tuple(Button(next(tokens), w.label, w.emoji) for w in row) for row in rows)
