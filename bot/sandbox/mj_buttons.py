"""Midjourney button sets (§9.4.1) and the gateway's customId → action mapping (§9.4)."""

from __future__ import annotations

import re
from typing import Any

Button = dict[str, Any]

# Gateway actions whose action submit answers code 21 and waits for /mj/submit/modal.
MODAL_ACTIONS = frozenset({"INPAINT", "CUSTOM_ZOOM"})
# Children a Remix-mode account puts into MODAL although the gateway answers code 1.
REMIX_ACTIONS = frozenset({"VARIATION", "REROLL", "PAN", "LOW_VARIATION", "HIGH_VARIATION"})


def _button(custom_id: str, label: str = "", emoji: str = "") -> Button:
    return {"customId": custom_id, "emoji": emoji, "label": label, "type": 2, "style": 2}


def grid_buttons(job_hash: str) -> list[Button]:
    """U1–U4, 🔄, V1–V4: the buttons of every 2×2 grid result."""
    buttons = [_button(f"MJ::JOB::upsample::{i}::{job_hash}", f"U{i}") for i in range(1, 5)]
    buttons.append(_button(f"MJ::JOB::reroll::0::{job_hash}::SOLO", emoji="🔄"))
    buttons += [_button(f"MJ::JOB::variation::{i}::{job_hash}", f"V{i}") for i in range(1, 5)]
    return buttons


_VERSION = re.compile(r"--(v|version|niji)\s+(\d+(?:\.\d+)?)")
DEFAULT_VERSION = 6.1


def mj_version(prompt: str) -> float:
    """The model version a prompt asks for (`--v 5.2`, `--version 7`, `--niji 6`)."""
    match = _VERSION.search(prompt)
    if match is None:
        return DEFAULT_VERSION
    value = float(match[2])
    return DEFAULT_VERSION if match[1] == "niji" and value >= 6 else value


def _upscalers(version: float) -> list[tuple[str, str]]:
    """(customId word, label) of the two upscale buttons for a model version."""
    if version < 6:
        return [("upsample_v5_2x", "Upscale (2x)"), ("upsample_v5_4x", "Upscale (4x)")]
    word = "v6" if version < 6.1 else "v6r1" if version < 7 else "v7"
    return [(f"upsample_{word}_2x_subtle", "Upscale (Subtle)"),
            (f"upsample_{word}_2x_creative", "Upscale (Creative)")]


def upscale_buttons(job_hash: str, version: float = DEFAULT_VERSION) -> list[Button]:
    """The "upscaled image" set: upscale, vary, zoom, custom zoom, pans and the bookmark.

    Version gates as upstream draws them: no zoom, pan or region below v5, no zoom or pan in v8.
    """
    tail = f"::1::{job_hash}::SOLO"
    buttons = [_button(f"MJ::JOB::{word}{tail}", label, "⬆️") for word, label in _upscalers(version)]
    buttons += [
        _button(f"MJ::JOB::low_variation{tail}", "Vary (Subtle)", "🪄"),
        _button(f"MJ::JOB::high_variation{tail}", "Vary (Strong)", "🪄"),
    ]
    if version >= 5:
        buttons.append(_button(f"MJ::Inpaint{tail}", "Vary (Region)", "🖌️"))
    if 5 <= version < 8:
        buttons += [
            _button(f"MJ::Outpaint::50{tail}", "Zoom Out 2x", "🔍"),
            _button(f"MJ::Outpaint::75{tail}", "Zoom Out 1.5x", "🔍"),
            _button(f"MJ::CustomZoom::{job_hash}", "Custom Zoom", "🔍"),
            _button(f"MJ::JOB::pan_left{tail}", emoji="⬅️"),
            _button(f"MJ::JOB::pan_right{tail}", emoji="➡️"),
            _button(f"MJ::JOB::pan_up{tail}", emoji="⬆️"),
            _button(f"MJ::JOB::pan_down{tail}", emoji="⬇️"),
        ]
    buttons.append(_button(f"MJ::BOOKMARK::{job_hash}", emoji="❤️"))
    return buttons


def describe_buttons() -> list[Button]:
    """PicReader 1–4 and Retry (upstream offers them; new-api rejects pressing them)."""
    emojis = ("1️⃣", "2️⃣", "3️⃣", "4️⃣")
    buttons = [_button(f"MJ::Job::PicReader::{i}", emoji=e) for i, e in enumerate(emojis, 1)]
    buttons.append(_button("MJ::Picread::Retry", emoji="🔄"))
    return buttons


def shorten_buttons() -> list[Button]:
    """PromptAnalyzer 1–5 (rejected by new-api when pressed)."""
    return [_button(f"MJ::Job::PromptAnalyzer::{i}", str(i)) for i in range(1, 6)]


def gateway_action(custom_id: str) -> str | None:
    """new-api's CoverPlusActionToNormalAction: the action name, or None (unknown_action)."""
    parts = custom_id.split("::")
    if len(parts) < 2:
        return None
    word = parts[2] if parts[1] == "JOB" and len(parts) > 2 else parts[1]
    rules = (
        ("upsample", "UPSCALE"),
        ("low_variation", "LOW_VARIATION"),
        ("high_variation", "HIGH_VARIATION"),
        ("variation", "VARIATION"),
        ("pan", "PAN"),
        ("reroll", "REROLL"),
        ("Outpaint", "ZOOM"),
        ("CustomZoom", "CUSTOM_ZOOM"),
        ("Inpaint", "INPAINT"),
    )
    for needle, action in rules:
        if needle in word:
            return action
    return None


def upscale_tile(custom_id: str) -> int:
    """Which grid tile (1–4) an upsample customId picks; 1 for the upscaled-image variants."""
    parts = custom_id.split("::")
    if len(parts) > 3 and parts[2] == "upsample" and parts[3].isdigit():
        return min(4, max(1, int(parts[3])))
    return 1
